"""Where the bundled data is: rule packs, gazetteer, watch list, feeds, notifier config, Kibana assets,
the demo corpus and the local stack's templates.

The repository's ``deploy/`` is their one source. A checkout (or an editable install) reads it in place,
so an edit takes effect without reinstalling; the wheel carries a copy as ``watchfloor_data/`` beside
the packages (pyproject's wheel ``sources``). Settings default to these paths and can point elsewhere.
"""

from __future__ import annotations

from pathlib import Path

_BESIDE = Path(__file__).resolve().parents[1]  # the checkout, or the site-packages directory
DEPLOY = next(
    (d for d in (_BESIDE / "watchfloor_data", _BESIDE / "deploy") if d.is_dir()), _BESIDE / "deploy"
)
"""The bundled ``deploy/``: the installed copy if there is one, else the checkout's own."""


class MissingRules(ValueError):
    """A rules root without rule packs: a classifier built from it would match nothing, silently."""


def rule_packs(root: Path) -> list[Path]:
    """The rule packs under ``root/rules``, sorted; raises :class:`MissingRules` when there are none."""
    rules = root / "rules"
    if not rules.is_dir():
        raise MissingRules(f"{rules}: no such rules directory (the rules root holds rules/ and gazetteer/)")
    packs = sorted(rules.glob("*.yaml"))
    if not packs:
        raise MissingRules(f"{rules}: no rule packs (*.yaml) in this directory")
    return packs
