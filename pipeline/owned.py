"""Working memory a keyed step holds per job and key in its worker, named in the key's Beam state.

A runner routes all of a key to one worker, but may run the key's bundles on several instances of the
step, even at once (Prism does), so the memory is held per job and key for all of the step's instances
in the process, with a lock; not per instance, and not in Beam state, whose read-modify-write those
concurrent bundles race on. Each bundle writes the held memory's name to the key's Beam state; memory
that finds another's name there (another worker processed the key since: a failover or a rescale) is
built afresh instead of used stale (docs/adr/0005-keyed-pipeline-state.md).
"""

from __future__ import annotations

import threading
import uuid
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from apache_beam.coders import StrUtf8Coder
from apache_beam.transforms.userstate import ReadModifyWriteStateSpec

T = TypeVar("T")

OWNER = ReadModifyWriteStateSpec("owner", StrUtf8Coder())
"""The keyed state a step declares for its held memory's name (and so that the runner routes by key)."""


@dataclass(eq=False)
class Held(Generic[T]):
    value: T
    name: str = field(default_factory=lambda: uuid.uuid4().hex)
    lock: threading.Lock = field(default_factory=threading.Lock)
    """One element at a time, whichever instance runs the bundle."""


_held: weakref.WeakValueDictionary[tuple[str, str], Held[Any]] = weakref.WeakValueDictionary()
_held_lock = threading.Lock()


class Owned(Generic[T]):
    """One step's held memory per key: create an instance in the step's constructor (it names the job),
    call `start_bundle` from the step's, and `get` per element with the key's `OWNER` state."""

    def __init__(self) -> None:
        self._job = uuid.uuid4().hex
        self._kept: dict[str, Held[T]] = {}
        self._named: set[str] = set()

    def start_bundle(self) -> None:
        self._named = set()

    def get(self, key: str, owner: Any, build: Callable[[str], T]) -> tuple[Held[T], bool]:
        """The key's held memory, and whether it was built now (first sight, or taken back stale)."""
        with _held_lock:
            held = _held.get((self._job, key))
            built = held is None or (key not in self._named and owner.read() not in (None, held.name))
            if built:
                held = _held[(self._job, key)] = Held(build(key))
            assert held is not None
            self._kept[key] = held  # this instance keeps it alive while it may process the key
            if key not in self._named:
                owner.write(held.name)
                self._named.add(key)
            return held, built
