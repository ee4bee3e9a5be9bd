"""Worker threads yield the CPU to the UI thread, so keys are handled promptly under load."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

NICENESS = 10


def yield_to_ui() -> None:
    """Lower the calling worker thread's CPU priority (Linux schedules threads one by one).

    Threads it starts later (torch's pools) inherit the lower priority; the UI thread keeps
    the normal one. Does nothing where per-thread priorities are unsupported.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (AttributeError, OSError):
        pass


@contextmanager
def blas_on_this_thread() -> Iterator[None]:
    """Run numpy's and scipy's BLAS on the calling worker thread alone while the block runs.

    OpenBLAS starts its threads when numpy is imported, on the UI thread, so they keep the
    normal priority: left on, a fit's matrix products would take both cores from the UI.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


class Throttle:
    """Lets a worker post progress at most every ``interval`` seconds, and always the final update."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.last = 0.0

    def ready(self, final: bool = False) -> bool:
        now = time.monotonic()
        if final or now - self.last >= self.interval:
            self.last = now
            return True
        return False
