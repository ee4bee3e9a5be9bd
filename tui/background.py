"""Worker threads yield the CPU to the UI thread, so keys are handled promptly under load, and
never hold up the app: Esc and quitting do not wait for a thread that is stuck."""

from __future__ import annotations

import functools
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import TypeVar

from textual.worker import get_current_worker

NICENESS = 10
THREAD_NAME = "bertsent-worker"
Work = TypeVar("Work", bound=Callable)


class WorkerThreads(ThreadPoolExecutor):
    """The app's event loop runs Textual's thread workers here: each call on a daemon thread of its
    own, and shutting down never waits for one.

    A cancelled worker's thread runs on to its next checkpoint, and one blocked where no cancel
    reaches it (open() of a FIFO, a stalled network read) never gets there. The default pool would
    make quitting wait for it (asyncio joins the pool's threads, and so does Python at exit); here
    the worker is marked cancelled at once, its result is ignored, and the thread is left behind.
    """

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                future.set_exception(error)
            else:
                future.set_result(result)

        threading.Thread(target=run, name=THREAD_NAME, daemon=True).start()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Nothing to wait for: every thread is a daemon of its own, not a pool's."""


def threads_finished(within: float) -> bool:
    """Wait up to ``within`` seconds in all for the worker threads still running (cancelled ones
    reach their next checkpoint); True if none is left."""
    deadline = time.monotonic() + within
    for thread in threading.enumerate():
        if thread.name == THREAD_NAME:
            thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.name == THREAD_NAME and thread.is_alive() for thread in threading.enumerate())


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


def cancel_event() -> threading.Event:
    """Textual's own cancel signal of the calling worker, for core's ``cancel`` parameters.

    ``Worker.cancel()`` sets it: Esc, or a newer run of an exclusive worker group, so a stale
    job stops at its next checkpoint (a batch, a fit) without any bookkeeping of our own.
    """
    return get_current_worker().cancelled_event


def post_unless_cancelled(node, message) -> None:
    """Post a worker's result from its thread, unless the worker was cancelled meanwhile (Esc, a
    newer run, quitting): a load that ends after Esc changes nothing."""
    if not get_current_worker().is_cancelled:
        node.post_message(message)


def reports_stop(work: Work) -> Work:
    """Decorate a pane's thread worker: when core stops it (Cancelled), post core's line as Stopped.

    A cancelled worker's state changes to CANCELLED at once, while its thread runs on to the
    next checkpoint; core's message about what was kept only exists when the thread gets there.
    """
    from bertsent.core.base.errors import Cancelled
    from bertsent.tui.messages import Stopped

    @functools.wraps(work)
    def run(pane, *args, **kwargs):
        try:
            return work(pane, *args, **kwargs)
        except Cancelled as stop:
            pane.post_message(Stopped(str(stop)))
            raise

    return run  # type: ignore[return-value]
