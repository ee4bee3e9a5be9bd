"""Unexpected errors in the app (bugs, not bad input): the traceback goes to a log file in the state
folder, and the screen gets one line that names it."""

from __future__ import annotations

import contextlib
import os
import stat
import traceback
from datetime import datetime
from pathlib import Path

from bertsent.tui.safe_text import clean, error_line

LOG_NAME = "tui-errors.log"
# Past this size the log moves to ``tui-errors.log.1`` (replacing an older one) before the next
# entry: a traceback is a few KB, so a thousand or so stay, and a loop of errors cannot fill a disk.
MAX_BYTES = 4 * 1024 * 1024


def log_path() -> Path:
    """``tui-errors.log`` in the state folder (``$BERTSENT_STATE`` moves it)."""
    from bertsent.core.base.paths import state_dir

    return state_dir() / LOG_NAME


def record(error: BaseException) -> str:
    """Append ``error``'s traceback to the log; return the one line to show (it names the log, or
    says why the traceback could not be kept). Never raises: it runs where an error already did."""
    from bertsent.core import __version__

    path = log_path()
    entry = f"--- {datetime.now().isoformat(timespec='seconds')} bertsent {__version__}\n"
    entry += "".join(traceback.format_exception(error)) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _rotate(path)
        # O_NONBLOCK: a FIFO in the log's place fails at once instead of waiting for a reader
        log = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
        try:
            os.write(log, entry.encode("utf-8", "backslashreplace"))
        finally:
            os.close(log)
        where = f"traceback in {path}"
    except OSError as exc:
        where = f"traceback not saved: {exc.strerror or exc}"
    return clean(f"Unexpected error: {error_line(error)} ({where})")


def _rotate(path: Path) -> None:
    """Move a log (a plain file) past :data:`MAX_BYTES` to ``<name>.1``."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISREG(info.st_mode) and info.st_size > MAX_BYTES:
        with contextlib.suppress(OSError):  # e.g. a folder named tui-errors.log.1: append all the same
            os.replace(path, path.with_name(path.name + ".1"))


class ReportsHandlerErrors:
    """Mixed into the app and every pane: an exception one of their message handlers lets out
    (actions run from keys included) goes to the app's ``_handle_exception``, and the message
    loop goes on. Textual's loop calls that hook too, but then stops the loop: a pane would stop
    reacting, and the app's own loop stopping ends the app."""

    async def _dispatch_message(self, message) -> None:
        try:
            await super()._dispatch_message(message)  # type: ignore[misc]
        except Exception as error:  # asyncio's CancelledError is no Exception: it still ends the loop
            self.app._handle_exception(error)  # type: ignore[attr-defined]
