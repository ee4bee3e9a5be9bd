"""Data: find SST2, summarize it, browse sentences and see their WordPiece tokens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from bertsent.core.data.dataset import SUFFIXES, summarize
from bertsent.tui.background import Throttle, cancel_event, post_unless_cancelled, reports_stop, yield_to_ui
from bertsent.tui.messages import DataLoaded, DownloadProgressed, TokenLengths, Working
from bertsent.tui.safe_text import clean, literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.widgets.histogram import Histogram
from bertsent.tui.widgets.sentence_table import Row, SentenceTable
from bertsent.tui.widgets.tokens import TokenIds
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Input, Label, Static

NO_DATA = "No data yet: type a path and press Enter (empty: $BERTSENT_DATA, the cache or a download)"


class DataPathValidator(Validator):
    """An empty field (look in $BERTSENT_DATA, the cache, or download), a data file, or a split folder."""

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.success()
        path = Path(value.strip()).expanduser()
        if not path.exists():
            return self.failure("no such file or folder")
        if path.is_file() and path.suffix.lower() not in SUFFIXES:
            return self.failure("use a .tsv, .csv or .jsonl file")
        if path.is_dir() and not any((path / f"train{suffix}").is_file() for suffix in SUFFIXES):
            return self.failure("this folder has no train.tsv, train.csv or train.jsonl")
        return self.success()


class DataPane(Pane):
    """Load data, then browse it; everything slow runs in workers."""

    BINDINGS = [Binding("ctrl+r", "load", "Load data", id="data.load")]

    def __init__(self, initial: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.initial = initial
        self.rows: list[Row] = []  # in table order: train, then test
        self.lengths: np.ndarray | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Label("Data", classes="field-label")
            yield Input(
                self.initial or "",
                placeholder="SST2 folder or .tsv/.csv/.jsonl file; empty: $BERTSENT_DATA, cache or download",
                validators=[DataPathValidator()],
                compact=True,
                id="data-path",
            )
            yield Button("Load", id="data-load", compact=True, variant="primary")
        yield Static(id="data-status", classes="status", markup=False)
        with Horizontal(id="data-main"):
            with Vertical(id="data-side"):
                yield Static(id="data-summary")
                yield Histogram(id="data-hist")
            table = SentenceTable(id="data-table")
            table.border_title = "Sentences"
            yield table
        yield TokenIds(id="data-tokens")

    def on_mount(self) -> None:
        self.watch(self.app, "splits", self._show_data, init=False)
        self.watch(self.app, "encoder_name", self.measure, init=False)
        # After the first frame: the UI shows before any file is read.
        self.call_after_refresh(self.load, self.initial, download=False, quiet_if_missing=not self.initial)

    def action_load(self) -> None:
        path_input = self.query_one("#data-path", Input)
        result = path_input.validate(path_input.value)
        if result is not None and not result.is_valid:
            self.app.say(clean(result.failure_descriptions[0]), "error")
            return
        self.load(path_input.value.strip() or None, download=True)

    @on(Button.Pressed, "#data-load")
    @on(Input.Submitted, "#data-path")
    def _load_pressed(self) -> None:
        self.action_load()

    @on(Input.Changed, "#data-path")
    def _path_changed(self, event: Input.Changed) -> None:
        status = self.query_one("#data-status", Static)
        if event.validation_result is not None and not event.validation_result.is_valid:
            status.update(literal(f"✗ {event.validation_result.failure_descriptions[0]}", "bold"))
        else:
            status.update(self._loaded_line())

    def _loaded_line(self) -> Text:
        splits = self.app.splits
        if splits is None:
            return literal(NO_DATA)
        return literal(f"{self.app.data_path}: {len(splits.train):,} train and {len(splits.test):,} test sentences")

    def load(self, path: str | None, *, download: bool, quiet_if_missing: bool = False) -> None:
        if any(w.is_running for w in self.app.workers if w.group == "data"):
            self.app.say("Data is already loading")
            return
        self.query_one("#data-status", Static).update(literal("Looking for data…"))
        self._load(path, download, quiet_if_missing)

    @work(thread=True, exclusive=True, exit_on_error=False, group="data")
    @reports_stop
    def _load(self, path: str | None, download: bool, quiet_if_missing: bool) -> None:
        yield_to_ui()
        from bertsent.core.base.errors import DataError
        from bertsent.core.data.dataset import load_splits
        from bertsent.core.data.sources import find_data

        cancel = cancel_event()
        throttle = Throttle()

        def progress(name: str, done: int, total: int | None) -> None:
            if throttle.ready(done == total):
                self.post_message(DownloadProgressed(name, done, total))

        try:
            found = find_data(path, download=download, progress=progress, cancel=cancel)
        except DataError:
            if quiet_if_missing:
                self.post_message(Working(NO_DATA))
                return
            raise
        self.post_message(Working(f"Reading {found}…"))
        post_unless_cancelled(self, DataLoaded(found, load_splits(found)))

    @work(thread=True, exclusive=True, exit_on_error=False, group="lengths")
    def _measure(self, encoder_name: str, texts: list[str]) -> None:
        yield_to_ui()
        encoder = self.app.get_encoder(encoder_name, status=self)
        self.post_message(TokenLengths(encoder_name, encoder.token_lengths(texts)))

    def on_working(self, message: Working) -> None:
        self.query_one("#data-status", Static).update(literal(message.text))

    def on_download_progressed(self, message: DownloadProgressed) -> None:
        total = f" of {message.total / 1e6:.1f} MB" if message.total else ""
        line = f"Downloading {message.name}: {message.done / 1e6:.1f} MB{total} (Esc cancels)"
        self.query_one("#data-status", Static).update(literal(line))

    def _show_data(self, splits) -> None:
        """The app's loaded data changed (DataLoaded bubbled up to it): fill the table."""
        if splits is None:
            return
        classes = splits.classes
        short = dict(zip(classes.labels, classes.short_names(), strict=True))
        self.rows = [
            Row(name, short[label], text)
            for name, split in (("train", splits.train), ("test", splits.test))
            for text, label in zip(split.texts, split.labels.tolist(), strict=True)
        ]
        self.query_one(SentenceTable).show(self.rows)
        self.query_one("#data-status", Static).update(self._loaded_line())
        self.lengths = None
        self._show_summary()
        self.measure()

    def measure(self, _encoder: str | None = None) -> None:
        """Count tokens of every sentence with the current encoder's tokenizer (in a worker)."""
        if self.rows:
            self.query_one(Histogram).set_values(np.zeros(0))
            self._measure(self.app.encoder_name, [row.text for row in self.rows])

    def on_token_lengths(self, message: TokenLengths) -> None:
        if message.encoder != self.app.encoder_name or len(message.lengths) != len(self.rows):
            return
        self.lengths = message.lengths
        self.query_one("#data-status", Static).update(self._loaded_line())
        self.query_one(Histogram).set_values(message.lengths)
        self._show_summary()
        self._show_tokens()

    def _show_summary(self) -> None:
        splits = self.app.splits
        n_train = len(splits.train)
        classes = splits.classes
        lengths = (None, None) if self.lengths is None else (self.lengths[:n_train], self.lengths[n_train:])
        summaries, stats = [], []
        for name, dataset, counts in (("train", splits.train, lengths[0]), ("test", splits.test, lengths[1])):
            summary = summarize(dataset, () if counts is None else counts, classes.labels)
            summaries.append(summary)
            if summary.length_stats:
                s = summary.length_stats
                stats.append(f"{name:<5} tokens {s['min']}–{s['max']}, med {s['median']:.0f}, p95 {s['p95']:.0f}")
        table = count_table(classes, *summaries)
        self.query_one("#data-summary", Static).update(Group(table, Text("\n".join(stats), style="italic")))

    def on_sentence_table_highlighted(self, event: SentenceTable.Highlighted) -> None:
        self._show_tokens()

    def _show_tokens(self) -> None:
        table = self.query_one(SentenceTable)
        view = self.query_one(TokenIds)
        if not self.rows or table.cursor_row is None or table.cursor_row >= len(self.rows):
            return
        encoder = self.app.loaded_encoder(self.app.encoder_name)
        if encoder is None:
            view.message(f"loading the {self.app.encoder_name} tokenizer…")
            return
        tokens = encoder.tokenize(self.rows[table.cursor_row].text)
        view.show(tokens.tokens, tokens.ids, tokens.truncated)


def count_table(classes, train, test) -> Table:
    """Sentences per class in each split. Two classes are columns (``neg pos all dup``); more are
    rows, so six or more class names stay readable in the narrow summary column at 80x24."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, padding=(0, 1), show_edge=False)
    splits = {"train": train, "test": test}
    if len(classes) <= 2:
        table.add_column("split")
        for column in (*classes.short_names(), "all", "dup"):
            table.add_column(literal(column), justify="right")
        for name, summary in splits.items():
            counts = (*summary.per_label.values(), summary.n, summary.duplicates)
            table.add_row(name, *(f"{n:,}" for n in counts))
        return table
    table.add_column("class", overflow="ellipsis", no_wrap=True)
    for name in splits:
        table.add_column(name, justify="right")
    for label, name in zip(classes.labels, classes.names, strict=True):
        table.add_row(literal(name), *(f"{summary.per_label[label]:,}" for summary in splits.values()))
    table.add_row(Text("all", style="bold"), *(f"{summary.n:,}" for summary in splits.values()))
    table.add_row(Text("dup", style="italic"), *(f"{summary.duplicates:,}" for summary in splits.values()))
    return table
