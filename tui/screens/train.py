"""Train: fit logistic regression (fixed or cross-validated C), show the report, browse mistakes, save."""

from __future__ import annotations

import re
from pathlib import Path

from bertsent.tui.background import Throttle, blas_on_this_thread, cancel_event, reports_stop, yield_to_ui
from bertsent.tui.messages import FinetuneProgressed, ModelSaved, RunsChanged, Stopped, Trained, Working
from bertsent.tui.safe_text import literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.screens.embed import duration
from bertsent.tui.widgets.cv_chart import CvChart
from bertsent.tui.widgets.report import ReportView
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Integer, Number
from textual.widgets import Button, ContentSwitcher, DataTable, Input, Label, Select, Static


def default_model_folder(encoder: str, method: str) -> str:
    """``models/<encoder>-<pooling or finetuned>`` with the encoder's last path part made file-name safe."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(encoder.rstrip("/")).name or "encoder").strip("-.")
    return str(Path("models") / f"{name or 'encoder'}-{method}")


MODES = [("frozen encoder + logistic regr.", "frozen"), ("fine-tune encoder + linear head", "finetune")]


class TrainPane(Pane):
    """Train (frozen or fine-tuned), read the report, browse mistakes, compare runs, save."""

    BINDINGS = [
        Binding("ctrl+r", "train", "Train", id="train.run"),
        Binding("ctrl+s", "save", "Save model", id="train.save"),
        Binding("ctrl+t", "toggle_runs", "Runs/mistakes", id="train.runs"),
        Binding("ctrl+b", "baseline", "TF-IDF baseline", id="train.baseline"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mistakes: list[tuple[str, str, str, float]] = []  # (text, true, predicted, p(predicted))
        self.latest_run = None  # the run record of the result shown, for its model folder
        self.trained = False  # a result is shown (then an empty mistakes list means none)

    def compose(self) -> ComposeResult:
        from bertsent.core.base.regularization import C_RANGE
        from bertsent.core.models.finetune import FinetuneSettings

        with Horizontal(classes="bar"):
            yield Select(MODES, value="frozen", allow_blank=False, compact=True, id="train-mode")
            yield Input(
                placeholder="C (empty: cross-validate)",
                type="number",
                validators=[Number(minimum=C_RANGE[0], maximum=C_RANGE[1])],
                compact=True,
                id="train-c",
            )
            yield Input(
                placeholder=f"epochs ({FinetuneSettings().epochs})",
                type="integer",
                validators=[Integer(minimum=1, maximum=100)],
                compact=True,
                id="train-epochs",
            )
            yield Input(placeholder="class order: a,b,… (empty: sorted)", compact=True, id="train-classes")
            yield Button("Train", id="train-run", compact=True, variant="primary")
        yield Static(id="train-sizes", classes="status", markup=False)
        with Horizontal(id="train-main"):
            with VerticalScroll(id="train-report-box"):
                yield ReportView(id="train-report")
                yield CvChart(id="train-cv")
            with ContentSwitcher(initial="train-mistakes-box", id="train-views"):
                with Vertical(id="train-mistakes-box"):
                    table = DataTable(id="train-mistakes", cursor_type="row", zebra_stripes=True)
                    table.border_title = "Misclassified, most confident first"
                    yield table
                    yield Static(id="train-mistake", markup=False)
                with Vertical(id="train-runs-box"):
                    runs = DataTable(id="train-runs", cursor_type="row", zebra_stripes=True)
                    runs.border_title = "Runs (ctrl+b adds the TF-IDF baseline)"
                    yield runs
        with Horizontal(classes="bar"):
            yield Label("Save to", classes="field-label")
            yield Input(placeholder="models/<encoder>-<pooling>", compact=True, id="train-out")
            yield Button("Save", id="train-save", compact=True)

    def on_mount(self) -> None:
        table = self.query_one("#train-mistakes", DataTable)
        table.add_column("conf", key="conf")
        table.add_column("true", key="true")
        table.add_column("sentence", key="sentence")
        runs = self.query_one("#train-runs", DataTable)
        for label in ("#", "what", "acc", "F1", "time", "model"):
            runs.add_column(label, key=label)
        self.query_one("#train-epochs", Input).display = False
        self.query_one(CvChart).display = False
        self.watch(self.app, "embedding", self._show_sizes)
        self.watch(self.app, "work_splits", self._splits_changed, init=False)
        self._read_runs()

    @on(Select.Changed, "#train-mode")
    def _mode_changed(self, event: Select.Changed) -> None:
        finetune = event.value == "finetune"
        self.query_one("#train-c", Input).display = not finetune
        self.query_one("#train-epochs", Input).display = finetune
        self._show_sizes(self.app.embedding)

    def _splits_changed(self, _splits) -> None:
        if self._mode() == "finetune":
            self._show_sizes(self.app.embedding)

    def _mode(self) -> str:
        return str(self.query_one("#train-mode", Select).value)

    def _show_sizes(self, embedding) -> None:
        sizes = self.query_one("#train-sizes", Static)
        out = self.query_one("#train-out", Input)
        if self._mode() == "finetune":
            splits = self.app.work_splits
            if splits is None:
                sizes.update(literal("No data loaded yet: press 1 and load SST2"))
                return
            sizes.update(
                literal(
                    f"fine-tune {self.app.encoder_name}: {len(splits.train):,} train, {len(splits.test):,} test "
                    "sentences (encoder and limit: Embed screen)"
                )
            )
            if not out.value or out.value.startswith("models/"):
                out.value = default_model_folder(self.app.encoder_name, "finetuned")
            return
        if embedding is None:
            sizes.update(literal("Nothing embedded yet: press 2 and Start (or choose fine-tuning)"))
            return
        splits = embedding.splits
        sizes.update(
            literal(
                f"train {len(splits.train):,} · test {len(splits.test):,} sentences "
                f"({'given test split' if splits.given else 'stratified split'}) · "
                f"{embedding.embedder.encoder.name}, {embedding.embedder.pooling} pooling"
            )
        )
        if not out.value or out.value.startswith("models/"):
            out.value = default_model_folder(embedding.embedder.encoder.name, embedding.embedder.pooling)

    def action_train(self) -> None:
        if any(w.is_running for w in self.app.workers if w.group == "train"):
            self.app.say("Training is already running; Esc cancels it")
            return
        if self._mode() == "finetune":
            self._start_finetune()
            return
        embedding = self.app.embedding
        if embedding is None:
            self.app.say("Embed the sentences first: press 2, then Start", "warning")
            return
        from bertsent.core.base.regularization import C_RANGE

        value = self._field_value(
            "#train-c", f"C must be a number from {C_RANGE[0]:g} to {C_RANGE[1]:g}, or empty to cross-validate"
        )
        if value is None:
            return
        splits = self._ordered(embedding.splits)
        if splits is None:
            return
        self.query_one("#train-sizes", Static).update(
            literal("Training… " + ("(cross-validating C)" if not value else f"(C = {value})"))
        )
        self._train(embedding, splits, float(value) if value else None, self._data_name())

    def _ordered(self, splits):
        """``splits`` with the class order of the field (empty: sorted), or None once a wrong
        order is said."""
        from bertsent.core.base.errors import DataError

        text = self.query_one("#train-classes", Input).value
        try:
            return splits.ordered([name for name in text.split(",") if name.strip()])
        except DataError as exc:
            self.app.say(str(exc), "error")
            return None

    def _field_value(self, selector: str, error: str) -> str | None:
        """The field's text without surrounding spaces ("" when empty), or None once ``error`` is said
        because the field's own validators refuse it."""
        field = self.query_one(selector, Input)
        value = field.value.strip()
        if value and not field.validate(value).is_valid:
            self.app.say(error, "error")
            return None
        return value

    def _start_finetune(self) -> None:
        from bertsent.core.models.finetune import FinetuneSettings

        splits = self.app.work_splits
        if splits is None:
            self.app.say("Load data first: press 1", "warning")
            return
        value = self._field_value("#train-epochs", "Epochs must be a whole number from 1 to 100")
        if value is None:
            return
        settings = FinetuneSettings(epochs=int(value)) if value else FinetuneSettings()
        splits = self._ordered(splits)
        if splits is None:
            return
        self.query_one("#train-sizes", Static).update(literal(f"Fine-tuning {self.app.encoder_name}… (loading)"))
        self._finetune(self.app.encoder_name, splits, settings, self._data_name())

    def _data_name(self) -> str:
        return str(self.app.data_path or "")

    @on(Button.Pressed, "#train-run")
    @on(Input.Submitted, "#train-c, #train-epochs, #train-classes")
    def _train_pressed(self) -> None:
        self.action_train()

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    @reports_stop
    def _train(self, embedding, splits, C: float | None, data: str) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        def progress(p) -> None:
            what = "cross-validating C" if C is None else f"C = {C:g}"
            self.post_message(Working(f"Training… ({what}: fit {p.done} of {p.total}; Esc cancels)"))

        with blas_on_this_thread():
            trained = jobs.train(
                splits,
                embedder=embedding.embedder,
                embedded=embedding.embedded,
                C=C,
                data=data,
                progress=progress,
                cancel=cancel_event(),
            )
        self._trained(trained)

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    @reports_stop
    def _finetune(self, encoder: str, splits, settings, data: str) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        throttle = Throttle(0.2)

        def progress(p) -> None:
            if throttle.ready(p.done == p.total):
                self.post_message(FinetuneProgressed(p))

        trained = jobs.train(
            splits, encoder=encoder, finetune=settings, data=data, progress=progress, cancel=cancel_event()
        )
        self._trained(trained)

    @work(thread=True, exclusive=True, exit_on_error=False, group="baseline")
    @reports_stop
    def _baseline(self, splits, data: str) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        with blas_on_this_thread():
            result = jobs.baseline(splits, data=data, cancel=cancel_event())
        self._post_runs(result.run, result.notes)

    def _trained(self, trained) -> None:
        """Post a finished run first (so it can be saved whatever happens next), then the history."""
        self.post_message(Trained(trained.result))
        self._post_runs(trained.run, trained.notes)

    def _post_runs(self, latest=None, notes: tuple[str, ...] = ()) -> None:
        """The history as now on disk; one that cannot be read is a note, never lost work (worker thread)."""
        from bertsent.core.base.errors import BertsentError
        from bertsent.core.models.runs import RunHistory

        try:
            runs = RunHistory().runs()
        except BertsentError as exc:
            runs, notes = [], (*notes, f"the run history cannot be read: {exc}")
        self.post_message(RunsChanged(runs, latest, notes))

    @work(thread=True, exclusive=True, exit_on_error=False, group="runs")
    def _read_runs(self) -> None:
        from bertsent.core.models.runs import RunHistory

        self.post_message(RunsChanged(RunHistory().runs()))

    def action_baseline(self) -> None:
        splits = self.app.work_splits
        if splits is None:
            self.app.say("Load data first: press 1", "warning")
            return
        self.query_one("#train-views", ContentSwitcher).current = "train-runs-box"
        self.app.say("Fitting the TF-IDF baseline on the same split… (Esc cancels)")
        self._baseline(splits, self._data_name())

    def action_toggle_runs(self) -> None:
        switcher = self.query_one("#train-views", ContentSwitcher)
        runs = switcher.current != "train-runs-box"
        switcher.current = "train-runs-box" if runs else "train-mistakes-box"
        self.query_one("#train-runs" if runs else "#train-mistakes", DataTable).focus()

    def on_runs_changed(self, message: RunsChanged) -> None:
        table = self.query_one("#train-runs", DataTable)
        table.clear()
        best = max((run.accuracy for run in message.runs), default=None)
        for number, run in enumerate(message.runs, start=1):
            accuracy = Text(f"{run.accuracy:.1%}", style="bold" if run.accuracy == best else "")
            table.add_row(
                str(number),
                literal(run.what),
                accuracy,
                f"{run.macro_f1:.3f}",
                f"{run.seconds:.0f}s",
                literal(run.model or "–"),
            )
        table.border_subtitle = f"{len(message.runs)} run(s)"
        if message.runs:
            table.move_cursor(row=len(message.runs) - 1)
        for note in message.notes:
            self.app.say(note, "warning")
        if message.latest is not None:
            if message.latest.method == "tfidf":
                self.app.say(f"TF-IDF baseline: test accuracy {message.latest.accuracy:.1%}")
            else:
                self.latest_run = message.latest

    def on_finetune_progressed(self, message: FinetuneProgressed) -> None:
        p = message.progress
        if p.stage == "fine-tuning":
            eta = f", {duration(p.eta)} left" if p.eta is not None else ""
            line = f"Fine-tuning: step {p.done:,}/{p.total:,}, {p.detail}{eta} (Esc stops; Train resumes)"
        else:
            line = f"Fine-tuned; scoring both splits: {p.done:,} of {p.total or 0:,}"
        self.query_one("#train-sizes", Static).update(literal(line))

    def on_working(self, message: Working) -> None:
        self.query_one("#train-sizes", Static).update(literal(message.text))

    def on_trained(self, message: Trained) -> None:
        """Shown here, then bubbles on to the app, which makes it the session's result."""
        result = message.result
        self.trained = True
        self.query_one(ReportView).show(result.report)
        chart = self.query_one(CvChart)
        chart.display = result.report.cv is not None
        if result.report.cv is not None:
            chart.show(result.report.cv, result.report.C)
        self._show_sizes(self.app.embedding)
        test = result.held_out
        classes = result.model.classes
        self.mistakes = [
            (mistake.text, classes.name(mistake.label), classes.name(mistake.predicted), mistake.confidence)
            for mistake in result.mistakes()
        ]
        short = dict(zip(classes.names, classes.short_names(), strict=True))
        table = self.query_one("#train-mistakes", DataTable)
        table.clear()
        table.add_rows((f"{p:.0%}", literal(short[true]), literal(text)) for text, true, _, p in self.mistakes)
        table.border_subtitle = f"{len(self.mistakes):,} of {len(test):,}"
        self._show_mistake()
        self.app.say(f"Test accuracy {result.report.accuracy:.1%}; press 4 to try sentences")

    @on(DataTable.RowHighlighted, "#train-mistakes")
    def _mistake_highlighted(self) -> None:
        self._show_mistake()

    def _show_mistake(self) -> None:
        row = self.query_one("#train-mistakes", DataTable).cursor_row
        detail = self.query_one("#train-mistake", Static)
        if not self.mistakes or row is None or row >= len(self.mistakes):
            detail.update(Text("no mistakes to show" if self.trained else "", style="italic"))
            return
        text, true, predicted, p = self.mistakes[row]
        line = literal(f"true {true}, predicted {predicted} (p {p:.2f}): ", style="italic")
        detail.update(line + literal(text))

    def action_save(self) -> None:
        result = self.app.result
        if result is None:
            self.app.say("Train a model first", "warning")
            return
        method = "finetuned" if result.report.method == "finetune" else result.model.embedder.pooling
        folder = self.query_one("#train-out", Input).value.strip() or default_model_folder(
            result.model.encoder.name, method
        )
        self._save(result, Path(folder).expanduser(), self.latest_run)

    @on(Button.Pressed, "#train-save")
    @on(Input.Submitted, "#train-out")
    def _save_pressed(self) -> None:
        self.action_save()

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def _save(self, result, folder: Path, run) -> None:
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.base.errors import BertsentError

        saved = jobs.save(result, folder, run=run)  # as `bertsent train` saves: with the bf16 check
        if saved.folder is None:
            raise BertsentError(saved.problem or f"{folder}: the model could not be saved")
        self.post_message(ModelSaved(saved.folder, saved.precision, saved.problem))
        self._post_runs()

    def on_model_saved(self, message: ModelSaved) -> None:
        if message.problem:
            self.app.say(message.problem, "warning")
        else:
            self.app.say(
                f"Saved the model to {message.folder}" + (f"; {message.precision}" if message.precision else "")
            )

    def on_stopped(self, message: Stopped) -> None:
        self._show_sizes(self.app.embedding)

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "train" and event.worker.error is not None:
            self._show_sizes(self.app.embedding)
