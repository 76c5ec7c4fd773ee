"""CLI start-up: how long `watchfloor --help` and friends take, side by side, in one run.

Each command runs in a fresh interpreter, interleaved round by round so that machine load hits all of
them alike; medians are printed with two ratios: to a bare interpreter (the floor no import can beat)
and to the same command with the stack's clients imported up front, as the CLI did before its imports
were made lazy (target: `--help` under 1 s). Prints numbers only.

    .venv/bin/python -m bench.cli [--rounds 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FLOOR = "pass"
CLI = "import sys; from connectors.cli import main; sys.argv = ['watchfloor', *{args!r}]; main()"
# What every command paid before: the local stack's Kafka and Elasticsearch clients, imported eagerly.
EAGER = "import connectors.stack.local; " + CLI
COMMANDS = (["--help"], ["--version"], ["feeds", "--help"], ["feeds", "list", "--help"])


def _seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=False, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    codes = {"python -c pass": FLOOR}
    for args in COMMANDS:
        codes[f"watchfloor {' '.join(args)}"] = CLI.format(args=args)
        codes[f"  eager imports: {' '.join(args)}"] = EAGER.format(args=args)
    times: dict[str, list[float]] = {name: [] for name in codes}
    for _ in range(rounds):
        for name, code in codes.items():
            times[name].append(_seconds(code))
    medians = {name: statistics.median(values) for name, values in times.items()}
    floor = medians["python -c pass"]
    print(f"{'command':<36} {'median s':>9} {'x floor':>8} {'lazy/eager':>11}")
    for name, median in medians.items():
        eager = medians.get(name.replace("watchfloor ", "  eager imports: "))
        ratio = f"{median / eager:.2f}" if name.startswith("watchfloor") and eager else ""
        print(f"{name:<36} {median:>9.3f} {median / floor:>8.1f} {ratio:>11}")


if __name__ == "__main__":
    main()
