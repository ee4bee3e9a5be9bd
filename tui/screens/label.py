"""Label: a person labels a pool of sentences, the model choosing what to ask next.

Open a pool (and optionally a file of labels given already and a labelled test file to score each
model on), name the classes, then with the
sentence card focused: ``1``..``9`` give a class, ``s`` skips, ``u`` undoes, ``m`` switches the
strategy, ``f`` asks for sentences like this one next, ``t`` trains and saves a model from the
labels, Esc goes back to the tabs. Each label is journalled before the next sentence shows (the
session's job, ``core.labelling.annotate``); the model refits, the guess and the token colours follow in
worker threads, so no key waits for them.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from bertsent.tui.background import Throttle, blas_on_this_thread, cancel_event, reports_stop, yield_to_ui
from bertsent.tui.messages import (
    Explained,
    ModelSaved,
    PoolOpened,
    PoolProgressed,
    Refitted,
    Stopped,
    Trained,
    Working,
)
from bertsent.tui.safe_text import clean, error_line, literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.widgets.learning_curve import LearningCurve
from bertsent.tui.widgets.tokens import TokenScores
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, ProgressBar, Static

STRATEGY_ORDER = ("auto", "margin", "least-confidence", "diverse", "random")
SIMILAR = "similar"
CLASS_KEYS = 9  # the number keys 1..9 give the classes


def too_many_classes(n: int) -> str:
    return f"the Label screen has keys 1 to {CLASS_KEYS} for classes, not {n}: label from a script for more"


def number_keys_for(classes) -> None:
    """Refuse a class set with more classes than number keys (before a journal records them)."""
    from bertsent.core.base.errors import DataError

    if len(classes) > CLASS_KEYS:
        raise DataError(too_many_classes(len(classes)))


class SentenceCard(Vertical, can_focus=True):
    """The sentence to label: focused, the number keys label it (so they do not switch tabs)."""

    BINDINGS = [
        *(Binding(str(k), f"give({k - 1})", show=False) for k in range(1, CLASS_KEYS + 1)),
        Binding("s", "skip", "Skip"),
        Binding("u", "undo", "Undo"),
        Binding("m", "strategy", "Strategy"),
        Binding("f", "similar", "Similar"),
        Binding("t", "train", "Train+save"),
        Binding("escape", "back", "Back"),
    ]

    def action_give(self, position: int) -> None:
        self.parent_pane.give(position)

    def action_skip(self) -> None:
        self.parent_pane.skip()

    def action_undo(self) -> None:
        self.parent_pane.undo()

    def action_strategy(self) -> None:
        self.parent_pane.next_strategy()

    def action_similar(self) -> None:
        self.parent_pane.find_similar()

    def action_train(self) -> None:
        self.parent_pane.action_train()

    def action_back(self) -> None:
        if self.app.long_work():
            self.app.action_cancel()
        else:
            self.app.query_one("Tabs").focus()

    @property
    def parent_pane(self) -> LabelPane:
        return next(node for node in self.ancestors if isinstance(node, LabelPane))


class LabelPane(Pane):
    """The labelling loop over a ``core.labelling.annotate.Session`` (see the module docstring)."""

    DEFAULT_CSS = """
    LabelPane #label-pool, LabelPane #label-classes {
        width: 2fr;
    }
    LabelPane #label-column, LabelPane #label-given, LabelPane #label-test {
        width: 1fr;
        margin-left: 1;
    }
    LabelPane #label-card {
        height: auto;
        border: round $primary 40%;
        padding: 0 1;
    }
    LabelPane #label-card:focus {
        border: round $primary;
    }
    LabelPane #label-sentence {
        max-height: 3;
        text-style: bold;
    }
    LabelPane #label-guess, LabelPane #label-counts {
        height: auto;
        color: $text-muted;
    }
    LabelPane #label-tokens {
        height: auto;
        max-height: 2;
    }
    LabelPane #label-bar {
        height: 1;
    }
    LabelPane ProgressBar {
        display: none;
    }
    LabelPane ProgressBar.-running {
        display: block;
    }
    """

    BINDINGS = [Binding("ctrl+o", "open", "Open pool", id="label.open")]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = None  # core.labelling.annotate.Session, once open and embedded
        self.stack: contextlib.ExitStack | None = None
        self.current: int | None = None
        self.strategy = STRATEGY_ORDER[0]
        self.similar: list[int] = []
        # Held from an open until its session closes (released by its stack, on whichever thread
        # closes it), so an open pressed again waits for the one it supersedes to let go of the journal.
        self.pool_lock = threading.Lock()
        self.opening = 0  # presses of Open so far: a session opened for an earlier one is closed

    def compose(self) -> ComposeResult:
        with Horizontal(classes="bar"):
            yield Label("Pool", classes="field-label")
            yield Input(placeholder="sentences to label: .txt, .csv, .tsv or .jsonl", compact=True, id="label-pool")
            yield Input(placeholder="text column (found)", compact=True, id="label-column")
            yield Input(placeholder="labels given (optional)", compact=True, id="label-given")
        with Horizontal(classes="bar"):
            yield Label("Classes", classes="field-label")
            yield Input(placeholder="e.g. negative,positive (or from the labels)", compact=True, id="label-classes")
            yield Input(placeholder="test file (optional)", compact=True, id="label-test")
            yield Button("Open", id="label-open", compact=True, variant="primary")
        yield Static(id="label-status", classes="status", markup=False)
        yield ProgressBar(id="label-progress", show_eta=False)
        with SentenceCard(id="label-card"):
            yield Static(id="label-sentence", markup=False)
            yield Static(id="label-guess", markup=False)
            yield TokenScores(id="label-tokens")
        yield Static(id="label-counts", markup=False)
        yield LearningCurve(id="label-curve")

    def on_mount(self) -> None:
        self._status("Open a pool of sentences: type its path, name the classes, press Enter (Ctrl+O)")
        self.query_one("#label-card").border_title = "sentence"

    def on_unmount(self) -> None:
        self._close()

    def _close(self) -> None:
        if self.stack is not None:
            self.stack.close()
        self.stack, self.session, self.current = None, None, None

    def _status(self, line: str) -> None:
        self.query_one("#label-status", Static).update(literal(line))

    # --- opening a pool (a worker: reading, embedding) ---

    @on(Button.Pressed, "#label-open")
    @on(Input.Submitted, "#label-pool, #label-column, #label-given, #label-classes, #label-test")
    def action_open(self) -> None:
        pool = self.query_one("#label-pool", Input).value.strip()
        if not pool:
            self.query_one("#label-pool", Input).focus()
            self.app.say("Type the path of a file of sentences to label", "warning")
            return
        given, test = (self.query_one(field, Input).value.strip() for field in ("#label-given", "#label-test"))
        given, test = (str(Path(path).expanduser()) if path else None for path in (given, test))
        names = [name for name in self.query_one("#label-classes", Input).value.split(",") if name.strip()]
        column = self.query_one("#label-column", Input).value.strip() or None
        if len(names) > CLASS_KEYS:  # refused at once (from a labels file or a journal: by open_labelling)
            self.app.say(too_many_classes(len(names)), "error")
            return
        self._close()
        self.opening += 1
        self.query_one(ProgressBar).add_class("-running")
        self._status(f"Opening {pool}…")
        self._open(Path(pool).expanduser(), column, given, test, names or None, self.app.encoder_name, self.opening)

    @work(thread=True, exclusive=True, exit_on_error=False, group="pool")
    @reports_stop
    def _open(
        self,
        pool: Path,
        column: str | None,
        given: str | None,
        test: str | None,
        names: list[str] | None,
        encoder_name: str,
        opening: int,
    ) -> None:
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.encoding.embed import Embedder

        cancel = cancel_event()
        out = pool.with_name(pool.stem + ".labelled.csv")
        while not self.pool_lock.acquire(timeout=0.1):
            if cancel.is_set():
                return
        stack = contextlib.ExitStack()
        stack.callback(self.pool_lock.release)  # runs last: after the journal is unlocked
        try:
            session = stack.enter_context(
                jobs.open_labelling(
                    pool,
                    out,
                    classes=names,
                    labels=given,
                    test=test,
                    text_column=column,
                    accept_classes=number_keys_for,
                )
            )
            embedder = Embedder(self.app.get_encoder(encoder_name, status=self))
            throttle = Throttle()

            def progress(update) -> None:
                if throttle.ready(update.done == update.total):
                    self.post_message(PoolProgressed(update))

            jobs.embed_pool(session, embedder, progress=progress, cancel=cancel)
            with blas_on_this_thread():
                session.use(jobs.refit(session, cancel=cancel))
        except BaseException:
            stack.close()
            raise
        if cancel.is_set():
            stack.close()
            return
        self.post_message(PoolOpened(session, stack, opening))

    def on_pool_progressed(self, message: PoolProgressed) -> None:
        p = message.progress
        self.query_one(ProgressBar).update(total=max(p.total or 1, 1), progress=p.done)
        self._status(f"Embedding the pool: {p.done:,}/{p.total:,} sentences · {p.detail} · Esc cancels, Open resumes")

    def on_working(self, message: Working) -> None:
        self._status(message.text)

    def on_stopped(self, message: Stopped) -> None:
        self.query_one(ProgressBar).remove_class("-running")
        self._status(message.text)

    def on_pool_opened(self, message: PoolOpened) -> None:
        if message.opening != self.opening:  # Open was pressed again meanwhile: that open waits for this one
            message.stack.close()
            return
        self.query_one(ProgressBar).remove_class("-running")
        self.session, self.stack = message.session, message.stack
        self.similar = []
        if not self.query_one("#label-classes", Input).value.strip():
            self.query_one("#label-classes", Input).value = ",".join(self.session.classes.names)
        session = self.session
        left_out = f" ({session.left_out:,} rows left out: empty, bad or repeated)" if session.left_out else ""
        test = f"; scored on {len(session.test.texts):,} test sentences" if session.test is not None else ""
        self._status(f"{len(session.texts):,} sentences{left_out}; labels go to {session.out.name}{test}")
        self._show_counts()
        self.query_one(LearningCurve).show(session.history, session.test_history)
        self._next()
        self.query_one(SentenceCard).focus()

    # --- the loop (UI thread: each step is a journal line and a numpy query) ---

    def give(self, position: int) -> None:
        session = self.session
        if session is None or self.current is None or position >= len(session.classes):
            return
        self._decide(session.label, session.classes.labels[position])

    def skip(self) -> None:
        if self.session is None or self.current is None:
            return
        self._decide(self.session.skip)

    def _decide(self, record, *label) -> None:
        """Record a label or skip of the current sentence. One that cannot be written is said in one
        line and the sentence stays; one that is journalled, with only the labelled file behind, moves on."""
        from bertsent.core.base.errors import BertsentError

        index = self.current
        try:
            record(index, *label, self._strategy_now())
        except BertsentError as exc:
            self.app.say(error_line(exc), "error")
            if not self.session.taken[index]:
                return
        self._after_decision()

    def undo(self) -> None:
        from bertsent.core.base.errors import BertsentError

        session = self.session
        if session is None:
            return
        last = session.decisions[-1] if session.decisions else None
        try:
            session.undo()
        except BertsentError as exc:
            self.app.say(error_line(exc), "error")
            if last is not None and session.decisions and session.decisions[-1] is last:
                return  # not undone
        if last is None:
            self.app.say("Nothing to undo")
            return
        self.current = last.index
        self._show_current(explain=False)
        self._after_decision(advance=False)

    def next_strategy(self) -> None:
        self.similar = []
        self.strategy = STRATEGY_ORDER[(STRATEGY_ORDER.index(self.strategy) + 1) % len(STRATEGY_ORDER)]
        if self.session is not None:
            self._next()

    def find_similar(self) -> None:
        if self.session is None or self.current is None:
            return
        self.similar = self.session.similar(self.current, 10)
        self.app.say(f"Next: {len(self.similar)} sentences like this one (m returns to the strategy)")

    def _strategy_now(self) -> str:
        return SIMILAR if self.similar and self.current == self.similar[0] else self.strategy

    def _after_decision(self, advance: bool = True) -> None:
        if self.similar and self.current == self.similar[0]:
            self.similar.pop(0)
        if advance:
            self._next(explain=False)
        self._show_counts()
        self._refit(self.session, self.session.training_data())

    def _next(self, explain: bool = True) -> None:
        session = self.session
        while self.similar and session.taken[self.similar[0]]:
            self.similar.pop(0)
        if self.similar:
            self.current = self.similar[0]
        else:
            picks = session.suggest(1, self.strategy)
            self.current = picks[0] if picks else None
        self._show_current(explain)

    def _show_current(self, explain: bool = True) -> None:
        """The current sentence, the model's guess; its token scores follow from a worker, asked
        for here (``explain``) or, after a label, once the refit that the label starts is in."""
        session = self.session
        card = self.query_one("#label-card")
        keys = "  ".join(f"{i} {name}" for i, name in enumerate(session.classes.short_names(12), start=1))
        card.border_subtitle = clean(f"{keys}  s skip  u undo")
        if self.current is None:
            self.query_one("#label-sentence", Static).update(
                literal("Every sentence of the pool is labelled or skipped.")
            )
            self.query_one("#label-guess", Static).update("")
            self.query_one(TokenScores).show([])
            return
        card.border_title = clean(f"sentence {self.current + 1:,} · {self._strategy_now()} (m switches, f similar)")
        self.query_one("#label-sentence", Static).update(literal(session.texts[self.current]))
        self._show_guess()
        self.query_one(TokenScores).show([])
        if explain and session.fitted is not None:
            self._explain(session, self.current)

    def _show_guess(self) -> None:
        session = self.session
        guess = None if self.current is None else session.guess(self.current)
        if guess is None:
            line = "the model guesses once each class has 2 labels"
        else:
            label, probability = guess
            line = f"model: {session.classes.name(label)} (p = {probability:.2f})"
        self.query_one("#label-guess", Static).update(literal(line))

    def _show_counts(self) -> None:
        session = self.session
        counts = " · ".join(
            f"{name} {n}" for name, n in zip(session.classes.short_names(10), session.counts(), strict=True)
        )
        fitted = session.fitted
        estimate = fitted.estimate if fitted is not None else None
        line = Text(f"{counts} · {session.remaining:,} left")
        if estimate is not None:
            line.append(f" · CV {estimate.accuracy:.0%} ± {estimate.error:.0%} on {estimate.n}", style="bold")
        if (score := session.test_score) is not None:
            line.append(f" · test {score.accuracy:.0%} on {score.n:,}", style="bold")
        self.query_one("#label-counts", Static).update(line)

    # --- the model (workers) ---

    @work(thread=True, exclusive=True, exit_on_error=False, group="refit")
    def _refit(self, session, labelled) -> None:
        """Exclusive: a newer label cancels this fit, which stops between its folds."""
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.base.errors import Cancelled

        cancel = cancel_event()
        try:
            with blas_on_this_thread():
                fitted = jobs.refit(session, labelled=labelled, cancel=cancel)
                scored = session.score(fitted)  # here, not on the UI thread
        except Cancelled:
            return
        if not cancel.is_set():
            self.post_message(Refitted(session, fitted, len(labelled[1]), scored))

    def on_refitted(self, message: Refitted) -> None:
        if message.session is not self.session:  # fitted for a pool closed since
            return
        self.session.use(message.fitted, message.scored)
        self._show_counts()
        self.query_one(LearningCurve).show(self.session.history, self.session.test_history)
        self._show_guess()
        if message.fitted is not None and self.current is not None:
            self._explain(self.session, self.current)

    @work(thread=True, exclusive=True, exit_on_error=False, group="explain")
    def _explain(self, session, index: int) -> None:
        yield_to_ui()
        from bertsent.core.base.errors import Cancelled

        cancel = cancel_event()
        try:
            prediction = session.explain(index, cancel=cancel)
        except Cancelled:
            return
        if prediction is not None and not cancel.is_set():
            self.post_message(Explained(session, index, prediction))

    def on_explained(self, message: Explained) -> None:
        from bertsent.core.models.explain import display_axis

        if message.session is not self.session or message.index != self.current:
            return
        sign, _, _ = display_axis(message.prediction)
        self.query_one(TokenScores).show([(t.token, sign * t.score) for t in message.prediction.tokens])

    # --- a model from the labels, one key away ---

    def action_train(self) -> None:
        if self.session is None:
            self.app.say("Open a pool and label some sentences first", "warning")
            return
        session = self.session
        folder = session.out.with_name(session.out.stem + "-model")
        self._status(f"Training on {session.out.name} and saving to {folder}…")
        self._train(session.out, folder, session.embedder)

    @work(thread=True, exclusive=True, exit_on_error=False, group="labeltrain")
    @reports_stop
    def _train(self, labelled: Path, folder: Path, embedder) -> None:
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.data.dataset import load_splits

        splits = load_splits(labelled)
        with blas_on_this_thread():
            trained = jobs.train(splits, embedder=embedder, data=str(labelled), cancel=cancel_event())
        saved = jobs.save(trained.result, folder, run=trained.run)
        self.post_message(Trained(trained.result))
        self.post_message(ModelSaved(saved.folder or folder, saved.precision, saved.problem))

    def on_worker_state_changed(self, event) -> None:
        """A pool that could not be opened or embedded: the bar goes; a model that could not be
        trained: the status stops saying it trains (Pane's handler, which Textual calls after this
        one, has the app say why in one line)."""
        if event.worker.group == "pool" and event.worker.is_finished and self.session is None:
            self.query_one(ProgressBar).remove_class("-running")
            if event.worker.error is not None:
                self._status("The pool is not open: see the message; fix the path or classes and press Enter")
        if event.worker.group == "labeltrain" and event.worker.error is not None:
            self._status("No model trained: see the message")

    def on_model_saved(self, message: ModelSaved) -> None:
        if message.problem:
            self._status(message.problem)
        else:
            self._status(f"Saved the model to {message.folder}; press 4 (after Esc) to try it")
