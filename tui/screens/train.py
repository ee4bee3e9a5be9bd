"""Train: fit logistic regression (fixed or cross-validated C), show the report, browse mistakes, save."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.validation import Number
from textual.widgets import Button, DataTable, Input, Label, Static

from core.data import LABEL_NAMES
from tui.background import yield_to_ui
from tui.messages import ModelSaved, Trained, Working
from tui.safe_text import literal
from tui.screens.base import Pane
from tui.widgets.report import ReportView


def default_model_folder(encoder: str, pooling: str) -> str:
    """``models/<encoder>-<pooling>`` with the encoder's last path part made file-name safe."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", Path(encoder.rstrip("/")).name or "encoder").strip("-.")
    return str(Path("models") / f"{name or 'encoder'}-{pooling}")


class TrainPane(Pane):
    """Everything about one training run of the classifier."""

    BINDINGS = [
        Binding("ctrl+r", "train", "Train", id="train.run"),
        Binding("ctrl+s", "save", "Save model", id="train.save"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mistakes: list[tuple[str, int, float]] = []  # (text, true label, P(positive))

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Label("C", classes="field-label")
            yield Input(
                placeholder="empty: choose C by cross-validation",
                type="number",
                validators=[Number(minimum=1e-9)],
                compact=True,
                id="train-c",
            )
            yield Button("Train", id="train-run", compact=True, variant="primary")
        yield Static(id="train-sizes", classes="status", markup=False)
        with Horizontal(id="train-main"):
            with VerticalScroll(id="train-report-box"):
                yield ReportView(id="train-report")
            with Vertical(id="train-mistakes-box"):
                table = DataTable(id="train-mistakes", cursor_type="row", zebra_stripes=True)
                table.border_title = "Misclassified, most confident first"
                yield table
                yield Static(id="train-mistake", markup=False)
        with Horizontal(classes="bar"):
            yield Label("Save to", classes="field-label")
            yield Input(placeholder="models/<encoder>-<pooling>", compact=True, id="train-out")
            yield Button("Save", id="train-save", compact=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_column("conf", key="conf")
        table.add_column("true", key="true")
        table.add_column("sentence", key="sentence")
        self.watch(self.app, "embedding", self._show_sizes)

    def _show_sizes(self, embedding) -> None:
        sizes = self.query_one("#train-sizes", Static)
        if embedding is None:
            sizes.update(literal("Nothing embedded yet: press 2 and Start"))
            return
        splits = embedding.splits
        sizes.update(
            literal(
                f"train {len(splits.train):,} · test {len(splits.test):,} sentences "
                f"({'given test split' if splits.given else 'stratified split'}) · "
                f"{embedding.embedder.encoder.name}, {embedding.embedder.pooling} pooling"
            )
        )
        out = self.query_one("#train-out", Input)
        if not out.value:
            out.value = default_model_folder(embedding.embedder.encoder.name, embedding.embedder.pooling)

    def action_train(self) -> None:
        embedding = self.app.embedding
        if embedding is None:
            self.app.say("Embed the sentences first: press 2, then Start", "warning")
            return
        if any(w.is_running for w in self.app.workers if w.group == "train"):
            self.app.say("Training is already running")
            return
        field = self.query_one("#train-c", Input)
        value = field.value.strip()
        if value and not field.validate(value).is_valid:
            self.app.say("C must be a positive number, or empty to cross-validate", "error")
            return
        self.query_one("#train-sizes", Static).update(
            literal("Training… " + ("(cross-validating C)" if not value else f"(C = {value})"))
        )
        self._train(embedding, float(value) if value else None)

    @on(Button.Pressed, "#train-run")
    @on(Input.Submitted, "#train-c")
    def _train_pressed(self) -> None:
        self.action_train()

    @work(thread=True, exclusive=True, exit_on_error=False, group="train")
    def _train(self, embedding, C: float | None) -> None:
        yield_to_ui()
        from core.train import fit

        cancel = self.app.cancel_event()

        def progress(done: int, total: int) -> None:
            what = "cross-validating C" if C is None else f"C = {C:g}"
            self.post_message(Working(f"Training… ({what}: fit {done} of {total}; Esc cancels)"))

        result = fit(embedding.embedder, embedding.splits, embedding.embedded, C=C, progress=progress, cancel=cancel)
        self.post_message(Trained(result))

    def on_working(self, message: Working) -> None:
        self.query_one("#train-sizes", Static).update(literal(message.text))

    def on_trained(self, message: Trained) -> None:
        result = message.result
        self.app.set_result(result)
        self.query_one(ReportView).show(result.report)
        self._show_sizes(self.app.embedding)
        test = self.app.embedding.splits.test
        predicted = (result.test_proba >= 0.5).astype(np.int64)
        wrong = np.flatnonzero(predicted != test.labels)
        confidence = np.maximum(result.test_proba, 1 - result.test_proba)
        order = wrong[np.argsort(-confidence[wrong], kind="stable")]
        self.mistakes = [(test.texts[i], int(test.labels[i]), float(result.test_proba[i])) for i in order]
        table = self.query_one(DataTable)
        table.clear()
        table.add_rows(
            (f"{max(p, 1 - p):.0%}", LABEL_NAMES[label][:3], literal(text)) for text, label, p in self.mistakes
        )
        table.border_subtitle = f"{len(self.mistakes):,} of {len(test):,}"
        self._show_mistake()
        self.app.say(f"Test accuracy {result.report.accuracy:.1%}; press 4 to try sentences")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_mistake()

    def _show_mistake(self) -> None:
        row = self.query_one(DataTable).cursor_row
        detail = self.query_one("#train-mistake", Static)
        if not self.mistakes or row is None or row >= len(self.mistakes):
            detail.update(Text("no mistakes to show" if self.app.result else "", style="italic"))
            return
        text, label, p = self.mistakes[row]
        line = Text(
            f"true {LABEL_NAMES[label]}, predicted {LABEL_NAMES[1 - label]} (P(positive) {p:.2f}): ", style="italic"
        )
        detail.update(line + literal(text))

    def action_save(self) -> None:
        result = self.app.result
        if result is None:
            self.app.say("Train a model first", "warning")
            return
        folder = self.query_one("#train-out", Input).value.strip() or default_model_folder(
            result.model.encoder.name, result.model.embedder.pooling
        )
        self._save(result, Path(folder).expanduser())

    @on(Button.Pressed, "#train-save")
    @on(Input.Submitted, "#train-out")
    def _save_pressed(self) -> None:
        self.action_save()

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def _save(self, result, folder: Path) -> None:
        yield_to_ui()
        from core.persist import save_model

        saved = save_model(result.model, folder, report=result.report, data_hash=result.data_hash)
        self.post_message(ModelSaved(saved))

    def on_model_saved(self, message: ModelSaved) -> None:
        self.app.say(f"Saved the model to {message.folder}")

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "train" and event.worker.error is not None:
            self._show_sizes(self.app.embedding)
