"""Fault injection for crash-safety checks (the resume tests and ``benchmarks/kill_sweep.py``): files whose writes
reach the disk a chunk at a time, so that a ``kill -9`` from the parent process can land in the middle of a record.
"""

from __future__ import annotations

import builtins
import time
from types import ModuleType
from typing import Callable


class SlowDisk:
    """A file object whose ``write`` flushes ``chunk`` bytes at a time and sleeps ``pause(len(data))`` seconds
    after each chunk; everything else is the wrapped file's."""

    def __init__(self, fh, chunk: int, pause: Callable[[int], float]):
        self.fh, self.chunk, self.pause = fh, chunk, pause

    def write(self, data):
        for i in range(0, len(data), self.chunk):
            self.fh.write(data[i:i + self.chunk])
            self.fh.flush()
            time.sleep(self.pause(len(data)))

    def __getattr__(self, name):
        return getattr(self.fh, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self.fh.__exit__(*exc)


def slow_disk_writes(module: ModuleType, chunk: int, pause: Callable[[int], float]) -> None:
    """Every file ``module`` opens from now on writes through a :class:`SlowDisk`."""
    module.open = lambda *a, **k: SlowDisk(builtins.open(*a, **k), chunk, pause)  # type: ignore[attr-defined]
