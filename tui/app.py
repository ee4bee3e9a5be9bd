"""The bertsent TUI: six tabs (Data, Embed, Train, Predict, Inside, Label) over the headless ``core`` package.

Slow work (torch, transformers, scikit-learn) runs in thread workers that only post messages;
those libraries are imported inside the workers, so the first frame needs none of them.
An unexpected error (a bug) becomes one line on screen and a traceback in a log file.
"""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

from bertsent.tui import config, error_log
from bertsent.tui.background import WorkerThreads
from bertsent.tui.commands import BertsentCommands
from bertsent.tui.error_log import ReportsHandlerErrors
from bertsent.tui.messages import DataLoaded, EmbedFinished, LimitChanged, ModelLoaded, Stopped, Trained, Working
from bertsent.tui.safe_text import clean, error_line
from bertsent.tui.screens.base import Pane
from bertsent.tui.screens.data import DataPane
from bertsent.tui.screens.embed import EmbedPane
from bertsent.tui.screens.inside import InsidePane
from bertsent.tui.screens.label import LabelPane
from bertsent.tui.screens.predict import PredictPane
from bertsent.tui.screens.train import TrainPane
from bertsent.tui.state import ActiveModel, Embedding
from bertsent.tui.widgets.key_footer import KeyFooter
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.reactive import var
from textual.widgets import Input, TabbedContent, TabPane, Tabs
from textual.worker import Worker, WorkerState

DEFAULT_ENCODER = "minilm"
DEFAULT_LIMIT = 2000
TABS = ("data", "embed", "train", "predict", "inside", "label")
LONG_WORK = (
    "data",
    "lengths",
    "install",
    "embed",
    "train",
    "baseline",
    "save",
    "model",
    "predict",
    "probe",
    "map",
    "pool",
    "labeltrain",
)


class BertsentApp(ReportsHandlerErrors, App[None]):
    """Shared state lives here, in reactives the panes watch; panes change it only through
    messages that bubble up to the app's handlers (no pane reads or calls another pane)."""

    TITLE = "bertsent"
    CSS_PATH = "app.tcss"
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    COMMANDS = App.COMMANDS | {BertsentCommands}
    BINDINGS = [
        # the tab labels show the number keys, so the footer need not
        Binding("1", "show_tab('data')", "Data", id="tab.data", show=False),
        Binding("2", "show_tab('embed')", "Embed", id="tab.embed", show=False),
        Binding("3", "show_tab('train')", "Train", id="tab.train", show=False),
        Binding("4", "show_tab('predict')", "Predict", id="tab.predict", show=False),
        Binding("5", "show_tab('inside')", "Inside", id="tab.inside", show=False),
        Binding("6", "show_tab('label')", "Label", id="tab.label", show=False),
        Binding("escape", "escape", "Cancel", id="cancel"),
    ]

    splits = var(None, always_update=True)  # core.data.dataset.Splits as loaded (no limit)
    limit: var[int | None] = var(DEFAULT_LIMIT)  # first N sentences of each split (None: all)
    work_splits = var(None, always_update=True)  # splits cut to the limit: what Embed and Train use
    embedding: var[Embedding | None] = var(None, always_update=True)
    result = var(None, always_update=True)  # core.models.train.TrainResult of this session
    active_model: var[ActiveModel | None] = var(None, always_update=True)
    encoder_name = var(DEFAULT_ENCODER)

    def __init__(self, data: str | None = None, encoder: str | None = None) -> None:
        super().__init__()
        remembered = config.load()
        self.initial_data = data or (None if os.environ.get("BERTSENT_DATA") else remembered.get("data"))
        self.encoder_name = encoder or remembered.get("encoder") or DEFAULT_ENCODER
        self.data_path: Path | None = None
        self._encoders: dict[str, object] = {}
        self._encoder_lock = threading.Lock()
        self.started = False  # composed and mounted: from then on an unexpected error is one line
        self.fatal_error: str | None = None  # the line to print when an error ended the app

    def on_load(self) -> None:
        """Thread workers on threads no one waits for (see WorkerThreads), before any starts."""
        asyncio.get_running_loop().set_default_executor(WorkerThreads())

    def on_mount(self) -> None:
        self.started = True  # every pane's compose and on_mount ran before the app's own Mount

    def compose(self) -> ComposeResult:
        with TabbedContent(initial="data", id="tabs"):
            with TabPane("1 Data", id="data"):
                yield DataPane(self.initial_data, id="data-pane")
            with TabPane("2 Embed", id="embed"):
                yield EmbedPane(id="embed-pane")
            with TabPane("3 Train", id="train"):
                yield TrainPane(id="train-pane")
            with TabPane("4 Predict", id="predict"):
                yield PredictPane(id="predict-pane")
            with TabPane("5 Inside", id="inside"):
                yield InsidePane(id="inside-pane")
            with TabPane("6 Label", id="label"):
                yield LabelPane(id="label-pane")
        yield KeyFooter()

    # --- shared state (UI thread) -------------------------------------------------------------

    def on_data_loaded(self, message: DataLoaded) -> None:
        self.data_path = message.path
        self.splits = message.splits
        config.remember(data=str(Path(message.path).resolve()))

    def on_limit_changed(self, message: LimitChanged) -> None:
        self.limit = message.limit

    def watch_splits(self) -> None:
        self._cut_splits()

    def watch_limit(self) -> None:
        self._cut_splits()

    def _cut_splits(self) -> None:
        """The loaded splits cut to the limit (first N of each split, as the tutorial does)."""
        from bertsent.core.data.dataset import Splits

        splits, limit = self.splits, self.limit
        if splits is not None:
            splits = Splits(splits.train.head(limit), splits.test.head(limit), splits.given)
        self.work_splits = splits

    def use_encoder(self, name: str) -> None:
        """Make ``name`` the encoder for tokenizing and embedding (panes watch it); remember it."""
        self.encoder_name = name
        config.remember(encoder=name)

    def on_embed_finished(self, message: EmbedFinished) -> None:
        self.embedding = message.embedding

    def on_trained(self, message: Trained) -> None:
        self.set_result(message.result)

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.active_model = message.active

    def on_stopped(self, message: Stopped) -> None:
        self.say(message.text, "warning")

    def set_result(self, result: Any) -> None:
        """Make ``result`` the session's model. A fine-tuning run keeps its finished checkpoint
        until it is saved (a crash costs no retraining); the result it replaces no longer needs one."""
        if self.result is not None and self.result is not result:
            self.result.discard_checkpoint()
        self.result = result
        report = result.report
        self.active_model = ActiveModel(
            result.model,
            f"trained in this session ({report.describe()}, test accuracy {report.accuracy:.1%})",
        )

    def say(self, message: str, severity: str = "information") -> None:
        """Notify with ``message`` shown literally (never as markup)."""
        self.notify(clean(message), severity=severity, markup=False)

    # --- helpers for worker threads -----------------------------------------------------------

    def get_encoder(self, name: str, *, status=None):
        """The loaded encoder ``name``, loading it once (thread-safe); call from a worker."""
        from bertsent.core.encoding.encoder import Encoder

        with self._encoder_lock:
            if name not in self._encoders:
                if status is not None:
                    status.post_message(Working(f"Loading encoder {name}… (first time takes a few seconds)"))
                self._encoders[name] = Encoder.load(name)
            return self._encoders[name]

    def adopt_encoder(self, encoder) -> None:
        """Reuse an encoder loaded elsewhere (tests, the screenshot script) under its name."""
        with self._encoder_lock:
            self._encoders[encoder.name] = encoder

    def loaded_encoder(self, name: str):
        """The encoder ``name`` if it is loaded already, else None (never blocks)."""
        return self._encoders.get(name)

    # --- actions --------------------------------------------------------------------------------

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        pane = self.query_one(f"#{tab}-pane")
        target = {
            "data": "#data-table",
            "embed": "#embed-start",
            "train": "#train-run",
            "predict": "#predict-input",
            "inside": "#inside-tabs",
            "label": "#label-card" if getattr(pane, "session", None) is not None else "#label-pool",
        }
        pane.query_one(target[tab]).focus()

    def run_command(self, tab: str | None, action: str | None) -> None:
        """Palette entry point: show ``tab`` and run the pane's ``action_<action>``."""
        if tab is not None:
            self.action_show_tab(tab)
        if action == "cancel":
            self.action_cancel()
        elif action is not None:
            getattr(self.query_one(f"#{tab}-pane"), f"action_{action}")()

    def long_work(self) -> list[Worker]:
        return [w for w in self.workers if w.group in LONG_WORK and w.is_running]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "escape":  # shown while work runs; in a text field it also leaves the field
            return bool(self.long_work()) or isinstance(self.focused, Input)
        return True

    def action_cancel(self) -> None:
        """Cancel every long job (Textual's Worker.cancel): its thread stops at the next checkpoint,
        finished batches stay cached, and core's line about what was kept arrives as Stopped."""
        for worker in self.long_work():
            worker.cancel()
        self.say("Cancelling…")

    def action_escape(self) -> None:
        """Esc: cancel running work, else leave the text field (for a button) so number keys switch tabs."""
        if self.long_work():
            self.action_cancel()
        elif isinstance(self.focused, Input):
            pane = next((node for node in self.focused.ancestors if isinstance(node, Pane)), None)
            others = [] if pane is None else [w for w in pane.query("*") if w.focusable and not isinstance(w, Input)]
            (others[0] if others else self.query_one(Tabs)).focus()

    # --- the one error handler ------------------------------------------------------------------

    def worker_changed(self, event: Worker.StateChanged) -> None:
        """Every worker's state change ends here (panes forward theirs): errors become one line."""
        from bertsent.core.base.errors import BertsentError

        self.refresh_bindings()
        if event.state == WorkerState.ERROR:
            error = event.worker.error
            if isinstance(error, BertsentError):
                self.log.error(repr(error))
                self.say(error_line(error), "error")
            else:
                self._handle_exception(error)

    def _handle_exception(self, error: Exception) -> None:
        """Textual's hook for an exception nothing caught (its default: exit with a traceback).

        Once the app is up, the traceback goes to the log and one line naming it to the screen,
        and the app goes on. During startup there is no app to go on with: it exits with status 1
        and ``fatal_error`` holds the line for ``bertsent-tui`` to print.
        """
        line = error_log.record(error)
        self.log.error(line)
        if not self.started:
            if self.fatal_error is None:
                self.fatal_error = line
                self.exit(return_code=1)
        elif self.is_running:  # not while shutting down: the log has it
            self.say(line, "error")


def create_app(data: str | None = None, encoder: str | None = None) -> BertsentApp:
    """The one factory for the CLI and tests: ``data`` and ``encoder`` override what was remembered."""
    return BertsentApp(data=data, encoder=encoder)
