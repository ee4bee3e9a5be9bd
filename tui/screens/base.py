"""The base of every tab's pane: worker state changes and handler errors go to the app's handlers."""

from __future__ import annotations

from bertsent.tui.error_log import ReportsHandlerErrors
from textual.containers import Vertical
from textual.worker import Worker


class Pane(ReportsHandlerErrors, Vertical):
    """A tab's content. Worker.StateChanged does not bubble, so hand it to the app explicitly."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        self.app.worker_changed(event)
