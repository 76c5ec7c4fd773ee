"""The test-only fault hook: silent unless asked, then exactly one raise at its point."""

import pytest

from connectors.testfault import InjectedFault, _Fault


def test_unset_it_never_raises() -> None:
    fault = _Fault("")
    for _ in range(1000):
        fault.checkpoint("es-written", 10)


def test_it_raises_once_when_n_elements_passed_its_point_and_ignores_other_points() -> None:
    fault = _Fault("es-written:25")
    fault.checkpoint("other", 100)
    fault.checkpoint("es-written", 20)
    with pytest.raises(InjectedFault, match="after 30 elements"):
        fault.checkpoint("es-written", 10)
    fault.checkpoint("es-written", 10)  # once per process: a restored task goes on
