"""Inside: which layer holds the label (probe), where sentences sit (map), what [CLS] attends to."""

from __future__ import annotations

from bertsent.tui.background import Throttle, blas_on_this_thread, cancel_event, reports_stop, yield_to_ui
from bertsent.tui.messages import (
    AttentionReady,
    EmbedProgressed,
    MapReady,
    PointExplained,
    ProbeFinished,
    ProbeProgressed,
    Stopped,
    Working,
)
from bertsent.tui.safe_text import error_line, literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.screens.predict import PREVIEW_TOKENS
from bertsent.tui.widgets.attention import AttentionGrid
from bertsent.tui.widgets.probe_chart import ProbeChart
from bertsent.tui.widgets.sentence_map import SentenceMapView
from bertsent.tui.widgets.tokens import TokenScores
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, ScrollableContainer, Vertical
from textual.widgets import ContentSwitcher, Input, Static, Tab, Tabs
from textual.worker import Worker, WorkerState

VIEWS = ("probe", "map", "attention")
STATUS_WORK = {"probe": ("probe", "ctrl+r"), "map": ("map", "ctrl+e")}  # worker group: (its view, its key)


class InsidePane(Pane):
    """Three views over one model and data: the layer probe, the sentence map, attention."""

    BINDINGS = [
        Binding("ctrl+r", "probe", "Probe", id="inside.probe"),
        Binding("ctrl+e", "map", "Map", id="inside.map"),
        Binding("ctrl+g", "attention", "Attention", id="inside.attention"),
        Binding("ctrl+t", "projection", "PCA/t-SNE", id="inside.projection"),
        Binding("left_square_bracket", "layer(-1)", "Layer-", show=False),
        Binding("right_square_bracket", "layer(1)", "Layer+", show=False),
        Binding("comma", "head(-1)", "Head-", show=False),
        Binding("full_stop", "head(1)", "Head+", show=False),
        Binding("h", "average", "Head average", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.sentence_map = None  # core.analyses.inside.SentenceMap shown
        self.method = "pca"
        self.attention = None  # core.analyses.inside.Attention shown
        self.attention_layer = -1  # the last layer until the user picks one
        self.attention_head: int | None = None  # None: the average over heads

    def compose(self) -> ComposeResult:
        yield Tabs(
            Tab("Probe (layers)", id="probe"), Tab("Map", id="map"), Tab("Attention", id="attention"), id="inside-tabs"
        )
        yield Static(id="inside-status", classes="status", markup=False)
        with ContentSwitcher(initial="inside-probe", id="inside-views"):
            with Vertical(id="inside-probe"):
                yield ProbeChart(id="inside-chart")
                yield Static(id="inside-probe-note", markup=False)
            with Vertical(id="inside-map"):
                yield SentenceMapView(id="inside-points")
                yield Static(id="inside-point", markup=False)
                yield TokenScores(id="inside-tokens")
            with Vertical(id="inside-attention"):
                with Horizontal(classes="bar"):
                    yield Input(placeholder="a sentence (or select a point on the map)", compact=True, id="inside-text")
                with ScrollableContainer(id="inside-grid-box"):
                    yield AttentionGrid(id="inside-grid")

    def on_mount(self) -> None:
        self.status = {
            "probe": "ctrl+r: a classifier on each layer alone ([CLS] and mean) of the Embed screen's sentences",
            "map": "ctrl+e: map the test sentences with the model in use; arrows move, n/p next mistake, ctrl+t t-SNE",
            "attention": "[ ] layer · , . head · h head average · Enter shows a typed sentence",
        }
        self._say(self._view(), self.status[self._view()])

    def _view(self) -> str:
        return self.query_one(Tabs).active or "probe"

    def _say(self, view: str, line: str) -> None:
        """The status line of ``view``, shown now if it is the view on screen."""
        self.status[view] = line
        if view == self._view():
            self.query_one("#inside-status", Static).update(literal(line))

    @on(Tabs.TabActivated, "#inside-tabs")
    def _view_changed(self, event: Tabs.TabActivated) -> None:
        event.stop()  # the app's own tabs must not see this
        self.query_one(ContentSwitcher).current = f"inside-{event.tab.id}"
        self._say(event.tab.id, self.status[event.tab.id])
        self.refresh_bindings()
        if event.tab.id == "attention" and self.attention is None:
            self._show_attention_of(self.query_one("#inside-text", Input).value)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("layer", "head", "average"):
            return self._view() == "attention" and self.attention is not None
        if action == "projection":
            return self._view() == "map"
        return True

    def action_attention(self) -> None:
        """Show the Attention view (of the sentence in the text field, or the map's selection)."""
        self.query_one(Tabs).active = "attention"

    # --- probe ------------------------------------------------------------------------------

    def action_probe(self) -> None:
        if any(w.is_running for w in self.app.workers if w.group == "probe"):
            self.app.say("The probe is already running; Esc cancels it")
            return
        splits = self.app.work_splits
        if splits is None:
            self.app.say("Load data first: press 1", "warning")
            return
        self.query_one(Tabs).active = "probe"
        self._say("probe", "Probing layers… (loading the encoder)")
        self._probe(self.app.encoder_name, splits)

    @work(thread=True, exclusive=True, exit_on_error=False, group="probe")
    @reports_stop
    def _probe(self, encoder_name: str, splits) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        cancel = cancel_event()
        encoder = self.app.get_encoder(encoder_name, status=self)
        throttle = Throttle()

        def progress(update) -> None:
            if throttle.ready(update.done == update.total):
                self.post_message(ProbeProgressed(update))

        with blas_on_this_thread():
            probe = jobs.probe(encoder, splits, progress=progress, cancel=cancel)
        self.post_message(ProbeFinished(probe))

    def on_probe_progressed(self, message: ProbeProgressed) -> None:
        p = message.progress
        if p.stage == "embedding every layer":
            line = f"Embedding every layer: {p.done:,} of {p.total:,} sentences ({p.detail})"
        else:
            line = f"Fitting one classifier per layer and pooling, then per set 0..k: fit {p.done:,} of {p.total:,}"
        self._say("probe", line + " · Esc cancels")

    def on_probe_finished(self, message: ProbeFinished) -> None:
        probe = message.probe
        self.query_one(ProbeChart).show(probe)
        best, last = probe.best, probe.accuracy(probe.layers - 1, "cls")
        note = (
            f"best: layer {best.layer} {best.pooling} {best.accuracy:.1%} · the tutorial's last-layer [CLS] "
            f"{last:.1%} ({(last - best.accuracy) * 100:+.1f} pts)"
        )
        cheapest = probe.cheapest_prefix
        if cheapest is not None:
            note += (
                f" · all layers' mean {probe.reference:.1%}; cheapest within 0.3 pts: layers 0-{cheapest.depth} "
                f"{cheapest.accuracy:.1%} ({cheapest.depth} of {probe.layers - 1} transformer layers)"
            )
        self.query_one("#inside-probe-note", Static).update(literal(note))
        self._say("probe", f"{probe.encoder}: {probe.n_train:,} train / {probe.n_test:,} test sentences · ctrl+r again")

    # --- map --------------------------------------------------------------------------------

    def action_map(self) -> None:
        active, splits = self.app.active_model, self.app.work_splits
        if active is None or splits is None:
            self.app.say("The map needs data and a model: train one (press 3) or load one (press 4)", "warning")
            return
        self.query_one(Tabs).active = "map"
        self._say("map", f"Mapping the test sentences ({self.method})…")
        self._map(active.model, splits.test, self.method)

    def action_projection(self) -> None:
        self.method = "tsne" if self.method == "pca" else "pca"
        if self.sentence_map is not None:
            self.action_map()
        else:
            self.app.say(f"The map will use {'t-SNE' if self.method == 'tsne' else 'PCA'}; ctrl+e draws it")

    @work(thread=True, exclusive=True, exit_on_error=False, group="map")
    @reports_stop
    def _map(self, model, dataset, method: str) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        throttle = Throttle()

        def progress(update) -> None:
            if throttle.ready(update.done == update.total):
                self.post_message(EmbedProgressed(update))

        with blas_on_this_thread():
            result = jobs.sentence_map(model, dataset, method=method, progress=progress, cancel=cancel_event())
        self.post_message(MapReady(result))

    def on_embed_progressed(self, message: EmbedProgressed) -> None:
        p = message.progress
        self._say("map", f"Embedding the test sentences: {p.done:,} of {p.total:,} · Esc cancels")

    def on_map_ready(self, message: MapReady) -> None:
        m = message.sentence_map
        self.sentence_map = m
        wrong = int(m.mistakes.sum())
        self._say(
            "map",
            f"{len(m.texts):,} test sentences, {m.method.upper()} of the classifier's inputs; "
            f"{wrong:,} misclassified · arrows move, n/p mistakes, ctrl+t PCA/t-SNE",
        )
        self.query_one(Tabs).active = "map"
        points = self.query_one(SentenceMapView)
        points.show(m)
        points.focus()

    @on(SentenceMapView.PointSelected)
    def _point_selected(self, message: SentenceMapView.PointSelected) -> None:
        m, i = self.sentence_map, message.index
        if m is None:
            return
        truth, guess = m.classes.name(m.labels[i].item()), m.classes.name(m.predicted[i].item())
        verdict = f"true {truth}, predicted {guess} ({m.confidence[i]:.0%})"
        line = Text(("✗ " if truth != guess else "") + verdict + ": ", style="italic")
        self.query_one("#inside-point", Static).update(line + literal(m.texts[i]))
        self.query_one(TokenScores).show([])
        self.query_one("#inside-text", Input).value = m.texts[i]
        active = self.app.active_model
        if active is not None:
            self._explain(active.model, i, m.texts[i])
        self.attention = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="inside-explain")
    def _explain(self, model, index: int, text: str) -> None:
        """Exclusive: moving on cancels the scoring of the point left behind."""
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.base.errors import Cancelled

        cancel = cancel_event()
        scores = len(model.encoder.tokenize(text).ids) - 2 <= PREVIEW_TOKENS
        try:
            prediction = jobs.predict_one(model, text, scores=scores, cancel=cancel)
        except Cancelled:
            return
        if not cancel.is_set():
            self.post_message(PointExplained(index, prediction))

    def on_point_explained(self, message: PointExplained) -> None:
        points = self.query_one(SentenceMapView)
        if message.index == points.selected:
            self.query_one(TokenScores).show([(t.token, t.score) for t in message.prediction.tokens])

    # --- attention --------------------------------------------------------------------------

    @on(Input.Submitted, "#inside-text")
    def _sentence_submitted(self, event: Input.Submitted) -> None:
        self._show_attention_of(event.value)

    def _show_attention_of(self, text: str) -> None:
        if not text.strip():
            self._say("attention", "type a sentence and press Enter, or select a point on the map")
            return
        active = self.app.active_model
        encoder = active.model.encoder if active is not None else None
        self._attention(encoder, self.app.encoder_name, text)

    @work(thread=True, exclusive=True, exit_on_error=False, group="attention")
    def _attention(self, encoder, encoder_name: str, text: str) -> None:
        yield_to_ui()
        from bertsent.core import jobs

        if encoder is None:
            encoder = self.app.get_encoder(encoder_name, status=self)
        self.post_message(AttentionReady(jobs.attention(encoder, text)))

    def on_attention_ready(self, message: AttentionReady) -> None:
        self.attention = message.attention
        self.attention_layer = (
            min(self.attention_layer, self.attention.layers - 1)
            if self.attention_layer >= 0
            else self.attention.layers - 1
        )
        if self.attention_head is not None:
            self.attention_head = min(self.attention_head, self.attention.heads - 1)
        self._draw_attention()
        self.refresh_bindings()

    def action_layer(self, step: int) -> None:
        self.attention_layer = (self.attention_layer + step) % self.attention.layers
        self._draw_attention()

    def action_head(self, step: int) -> None:
        heads = self.attention.heads
        if self.attention_head is None:  # from the average: the first head, or the last going back
            self.attention_head = 0 if step > 0 else heads - 1
        else:
            self.attention_head = (self.attention_head + step) % heads
        self._draw_attention()

    def action_average(self) -> None:
        self.attention_head = None
        self._draw_attention()

    def _draw_attention(self) -> None:
        a = self.attention
        head = "average of all heads" if self.attention_head is None else f"head {self.attention_head + 1} of {a.heads}"
        truncated = " · truncated to the encoder's limit" if a.truncated else ""
        self._say(
            "attention",
            f"layer {self.attention_layer + 1} of {a.layers} · {head} · {len(a.tokens)} tokens{truncated} "
            "· keys [ ] , . h",
        )
        self.query_one(AttentionGrid).show(a.tokens, a.grid(self.attention_layer, self.attention_head))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A probe or map that failed or was cancelled says so in its view's status line, in place
        of its last progress line (Pane's handler still hands the event to the app)."""
        group = event.worker.group
        if group not in STATUS_WORK or any(w.is_running for w in self.app.workers if w.group == group):
            return  # not ours, or a newer run (ctrl+t redraws the map) cancelled this one
        view, key = STATUS_WORK[group]
        if event.state == WorkerState.ERROR:
            self._say(view, f"The {view} failed: {error_line(event.worker.error)} · {key} tries again")
        elif event.state == WorkerState.CANCELLED:
            self._say(view, f"The {view} was cancelled · {key} starts it again")

    def on_working(self, message: Working) -> None:
        self._say(self._view(), message.text)

    def on_stopped(self, message: Stopped) -> None:
        self._say(self._view(), message.text)
