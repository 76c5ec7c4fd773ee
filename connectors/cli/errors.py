"""How the CLI fails: one line on stderr and a documented exit code, never a traceback.

An operator can act on "registry.yaml: not valid YAML … (line 2, column 3)"; a traceback, or pydantic's
error report with its documentation links, only hides that line. Failures no command foresaw (a bug,
a service down mid-command) are reported the same way, by type and message.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, NoReturn

import typer
import yaml
from pydantic import ValidationError
from typer._click.exceptions import NoArgsIsHelpError, UsageError  # Typer 0.29 vendors click
from typer.core import TyperGroup

from connectors.reasons import describe, one_line

EXIT_OK = 0
EXIT_FAILURE = 1  # the command failed: a file missing or invalid, an unknown feed, a service unreachable
EXIT_USAGE = 2  # the command line is wrong: an unknown command or option, a missing or invalid value
EXIT_CODES = (
    "Exit codes: 0 ok; 1 failure (a file missing or invalid, an unknown feed, a service unreachable); "
    "2 usage error (an unknown command or option, a missing or invalid value)."
)


class Failure(typer.TyperException):
    """The command cannot do what was asked: ``error: <message>``, exit 1."""

    exit_code = EXIT_FAILURE


def fail(exc: BaseException, context: str = "") -> NoReturn:
    """Re-raise an expected exception as a :class:`Failure`, ``context`` first."""
    raise Failure(f"{context}: {describe(exc)}" if context else describe(exc)) from exc


def _stop(message: str, code: int) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    sys.exit(code)


class OneLineErrors(TyperGroup):
    """The top-level command group: however a command fails, one line on stderr and an exit code."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        # Typer's standalone mode prints errors its own way (a box, or a traceback): run without it.
        try:
            code = super().main(args, prog_name, complete_var, False, windows_expand_args, **extra)
        except NoArgsIsHelpError as exc:  # a bare group: its help, as a usage error
            exc.show()
            sys.exit(EXIT_USAGE)
        except UsageError as exc:
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _stop(one_line(exc.format_message()) + hint, EXIT_USAGE)
        except typer.TyperException as exc:
            _stop(one_line(exc.format_message()), exc.exit_code)
        except typer.Abort:
            _stop("aborted", EXIT_FAILURE)
        except Exception as exc:  # unforeseen: still one line, not a traceback
            known = isinstance(exc, ValidationError | yaml.YAMLError | OSError)
            _stop(describe(exc) if known else f"{type(exc).__name__}: {describe(exc)}", EXIT_FAILURE)
        if not standalone_mode:
            return code
        sys.exit(code if isinstance(code, int) else EXIT_OK)
