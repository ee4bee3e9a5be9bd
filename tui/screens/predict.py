"""Predict: type a sentence, see its label, class probabilities and coloured tokens; keep a history."""

from __future__ import annotations

from pathlib import Path

from bertsent.tui.background import Throttle, cancel_event, post_unless_cancelled, yield_to_ui
from bertsent.tui.messages import ModelLoaded, Predicted, Working
from bertsent.tui.safe_text import literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.state import ActiveModel
from bertsent.tui.widgets.probability import ProbabilityBar
from bertsent.tui.widgets.tokens import TokenLegend, TokenScores
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Button, DataTable, Input, Label, Static

DEBOUNCE_S = 0.3
# Token scores cost one forward pass per token: while typing, only short sentences get them
# (a 10,000-character paste is 512 passes of 512 tokens); Enter scores any length, Esc stops it.
PREVIEW_TOKENS = 64


class PredictPane(Pane):
    """Predictions from the model trained in this session or a saved model folder."""

    BINDINGS = [Binding("ctrl+o", "load_model", "Load model", id="predict.load")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.debounce: Timer | None = None
        self.history: list = []  # core.models.explain.Prediction, newest first

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Label("Model", classes="field-label")
            yield Input(placeholder="saved model folder, e.g. models/minilm-layers", compact=True, id="predict-path")
            yield Button("Load", id="predict-load", compact=True)
        yield Static(id="predict-model", classes="status", markup=False)
        yield Input(placeholder="Type a sentence; Enter predicts and keeps it in the history", id="predict-input")
        yield Static(id="predict-label", markup=False)
        yield ProbabilityBar(id="predict-bar")
        yield TokenScores(id="predict-tokens")
        yield TokenLegend(id="predict-legend")
        table = DataTable(id="predict-history", cursor_type="row", zebra_stripes=True)
        table.border_title = "History"
        yield table

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("label", key="label")
        table.add_column("p", key="p")
        table.add_column("sentence", key="sentence")
        self.watch(self.app, "active_model", self._show_model)

    def _show_model(self, active: ActiveModel | None) -> None:
        line = "No model yet: train one (press 3) or load a saved model folder" if active is None else active.origin
        self.query_one("#predict-model", Static).update(literal(line))

    @on(Input.Changed, "#predict-input")
    def _typed(self, event: Input.Changed) -> None:
        if self.debounce is not None:
            self.debounce.stop()
        self.debounce = self.set_timer(DEBOUNCE_S, lambda: self.predict(event.value, remember=False, quiet=True))

    @on(Input.Submitted, "#predict-input")
    def _submitted(self, event: Input.Submitted) -> None:
        if self.debounce is not None:
            self.debounce.stop()
        self.predict(event.value, remember=True)
        event.input.clear()

    def predict(self, text: str, *, remember: bool, quiet: bool = False) -> None:
        active = self.app.active_model
        if not text.strip():
            return
        if active is None:
            if not quiet:
                self.app.say("No model yet: train one (press 3) or load a saved model folder", "warning")
            return
        self._predict(active.model, text, remember)

    @work(thread=True, exclusive=True, exit_on_error=False, group="predict")
    def _predict(self, model, text: str, remember: bool) -> None:
        """Exclusive: a newer text cancels this job, which stops at its next batch (only the
        latest text matters); a cancelled job posts nothing."""
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.base.errors import Cancelled
        from bertsent.core.jobs import Progress

        cancel = cancel_event()
        scores = remember or len(model.encoder.tokenize(text).ids) - 2 <= PREVIEW_TOKENS
        throttle = Throttle(0.2)

        def progress(p: Progress) -> None:
            if (p.total or 0) > 1 and throttle.ready(p.done == p.total):
                self.post_message(Working(f"Scoring tokens: {p.done:,} of {p.total:,} passes (Esc stops)"))

        try:
            prediction = jobs.predict_one(model, text, scores=scores, progress=progress, cancel=cancel)
        except Cancelled:
            return  # superseded by newer text, or Esc: nothing to show
        if not cancel.is_set():
            self.post_message(Predicted(prediction, remember))

    def on_predicted(self, message: Predicted) -> None:
        self.show(message.prediction)
        if message.remember:
            self.history.insert(0, message.prediction)
            table = self.query_one(DataTable)
            table.clear()
            table.add_rows(self._history_row(p) for p in self.history)

    def _history_row(self, prediction) -> tuple:
        return prediction.label_name, f"{prediction.probability:.2f}", literal(prediction.text)

    def show(self, prediction) -> None:
        """Label, a probability bar per class and coloured tokens of one prediction."""
        from bertsent.core.models.explain import display_axis

        label = literal(prediction.label_name.upper(), "bold")
        label.append(f"  p = {prediction.probability:.3f}")
        if not prediction.tokens:
            label.append(f"  (over {PREVIEW_TOKENS} tokens: Enter scores them)", style="italic")
        if prediction.truncated:
            label.append("  (sentence truncated to the encoder's limit)", style="italic")
        shown = self.query_one("#predict-label", Static)
        shown.update(label)
        classes = prediction.class_set
        predicted = classes.index(prediction.label)
        shown.set_class(classes.tone(predicted) > 0, "-positive")
        shown.set_class(classes.tone(predicted) < 0, "-negative")
        self.query_one(ProbabilityBar).show(classes, prediction.probabilities, predicted)
        sign, away, towards = display_axis(prediction)
        self.query_one(TokenScores).show([(t.token, sign * t.score) for t in prediction.tokens])
        self.query_one(TokenLegend).ends = (away, towards)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.cursor_row < len(self.history):
            self.show(self.history[event.cursor_row])

    def action_load_model(self) -> None:
        field = self.query_one("#predict-path", Input)
        folder = field.value.strip()
        if not folder:
            field.focus()
            self.app.say("Type the folder of a saved model, then press Enter", "warning")
            return
        self.query_one("#predict-model", Static).update(literal(f"Loading {folder}…"))
        self._load(Path(folder).expanduser())

    @on(Button.Pressed, "#predict-load")
    @on(Input.Submitted, "#predict-path")
    def _load_pressed(self) -> None:
        self.action_load_model()

    @work(thread=True, exclusive=True, exit_on_error=False, group="model")
    def _load(self, folder: Path) -> None:
        yield_to_ui()
        from bertsent.core.models.persist import load_model, read_meta

        spec = read_meta(folder)["encoder"]
        encoder = None  # a fine-tuned model brings its own encoder
        if not spec.get("folder"):
            encoder = self.app.get_encoder(spec["name"], status=self)
        if encoder is not None and encoder.max_length != spec["max_length"]:
            encoder = None
        saved = load_model(folder, encoder=encoder)
        accuracy = f", test accuracy {saved.report.accuracy:.1%}" if saved.report else ""
        origin = f"{folder} ({saved.model.encoder.name}, {saved.model.embedder.pooling}{accuracy})"
        origin += "".join(f"; note: {note}" for note in saved.notes)  # e.g. precision edited in model.json
        post_unless_cancelled(self, ModelLoaded(ActiveModel(saved.model, origin)))

    def on_working(self, message: Working) -> None:
        self.query_one("#predict-model", Static).update(literal(message.text))

    def on_model_loaded(self, message: ModelLoaded) -> None:
        """Bubbles on to the app, which makes it the active model (this pane watches that)."""
        self.app.say(f"Loaded {message.active.origin}")
        text = self.query_one("#predict-input", Input).value
        if text.strip():
            self._predict(message.active.model, text, False)

    def on_worker_state_changed(self, event) -> None:
        finished = event.worker.is_finished
        if event.worker.group == "model" and finished and event.worker.error is not None:
            self._show_model(self.app.active_model)
        if event.worker.group == "predict" and finished:  # scoring progress ended (done or stopped)
            self._show_model(self.app.active_model)
