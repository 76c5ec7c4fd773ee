"""Local stack start-up: fresh state dir (unpack, format) vs warm state dir, side by side in one run.

Runs a separate stack on its own ports and state dir, so a running dev stack is not disturbed.
Artifacts must already be staged (``watchfloor stack fetch``); the true cold start, downloads
included, is the first ``make test`` on a new machine (see RESULTS.md).

    .venv/bin/python -m bench.stack [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from connectors.stack.local import LocalStack
from schemas.settings import StackSettings


def _timed_up(stack: LocalStack) -> float:
    started = time.monotonic()
    stack.up()
    elapsed = time.monotonic() - started
    stack.down()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    fresh, warm = [], []
    for _ in range(args.rounds):
        with tempfile.TemporaryDirectory(dir="/var/tmp") as tmp:
            settings = StackSettings(
                state_dir=Path(tmp) / "state",
                kafka_port=29092,
                kafka_controller_port=29093,
                es_port=29200,
                es_transport_port=29300,
            )
            fresh.append(_timed_up(LocalStack(settings)))
            warm.append(_timed_up(LocalStack(settings)))
    for label, runs in (("fresh state dir", fresh), ("warm state dir", warm)):
        runs_s = [round(x, 1) for x in runs]
        print(f"stack up, {label:<16} median {statistics.median(runs):5.1f}s  runs {runs_s}")
    print(f"warm / fresh ratio: {statistics.median(warm) / statistics.median(fresh):.2f}")


if __name__ == "__main__":
    main()
