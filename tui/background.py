"""Worker threads yield the CPU to the UI thread, so keys are handled promptly under load."""

from __future__ import annotations

import os
import threading

NICENESS = 10


def yield_to_ui() -> None:
    """Lower the calling worker thread's CPU priority (Linux schedules threads one by one).

    Threads it starts later (torch's and BLAS's pools) inherit the lower priority; the UI
    thread keeps the normal one. Does nothing where per-thread priorities are unsupported.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICENESS)
    except (AttributeError, OSError):
        pass
