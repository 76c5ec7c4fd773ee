"""Test-only fault injection, for the fault tests on Flink (tests/integration/test_flink_faults.py).

``WATCHFLOOR_TEST_FAULT=POINT:N`` makes the process raise `InjectedFault` once, at the first pass through
`POINT` once N elements have passed it in this process. The only point is ``es-written``: the
Elasticsearch sink, after a bulk write succeeded and before its receipts go on, so the documents are
written and their offsets not committed — the worst moment for a worker to die.

Deliberately not a setting (schemas/settings.py) and read nowhere else: no configuration file, CLI
option or ``WATCHFLOOR_PIPELINE_*`` variable reaches it. Unset, as in any real deployment, it costs a
string comparison per bulk request.
"""

from __future__ import annotations

import os
import threading

ENV = "WATCHFLOOR_TEST_FAULT"


class InjectedFault(RuntimeError):
    """Raised once per process by `checkpoint` when the test asked for it."""


class _Fault:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self.point, _, after = spec.partition(":")
        self.after = int(after or 1) if spec else 0
        self.passed = 0
        self.fired = False
        self.lock = threading.Lock()

    def checkpoint(self, point: str, elements: int) -> None:
        if not self.spec or point != self.point:
            return
        with self.lock:
            self.passed += elements
            if self.fired or self.passed < self.after:
                return
            self.fired = True
        raise InjectedFault(f"{ENV}={self.spec}: injected after {self.passed} elements through {point}")


_fault = _Fault(os.environ.get(ENV, ""))


def checkpoint(point: str, elements: int) -> None:
    """Count `elements` through `point`; raise `InjectedFault` once when the test's fault is due."""
    _fault.checkpoint(point, elements)
