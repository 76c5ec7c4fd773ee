"""What Beam hands a stateful DoFn for one key's ReadModifyWriteState, for calling a DoFn by hand."""

from typing import Any


class StateCell:
    def __init__(self) -> None:
        self.value: Any = None

    def read(self) -> Any:
        return self.value

    def write(self, value: Any) -> None:
        self.value = value
