"""Embed: choose encoder, pooling, layer set and a limit; embed both splits with progress, cancel and resume."""

from __future__ import annotations

from bertsent.tui.background import Throttle, cancel_event, reports_stop, yield_to_ui
from bertsent.tui.messages import (
    EmbedFinished,
    EmbedProgressed,
    EncoderInstalled,
    InstallProgressed,
    LimitChanged,
    Stopped,
    Working,
)
from bertsent.tui.safe_text import error_line, literal
from bertsent.tui.screens.base import Pane
from bertsent.tui.state import Embedding
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.suggester import SuggestFromList
from textual.validation import Integer
from textual.widgets import Button, Input, Label, ProgressBar, Select, Static


def encoder_choices() -> list[tuple[str, str]]:
    """The known encoders as Select options: size, layers, the SST2 accuracy and train time measured
    with each, and whether it is installed."""
    from bertsent.core.encoding.encoders import KNOWN, is_installed

    return [(encoder_label(known, is_installed(known)), name) for name, known in KNOWN.items()]


def encoder_label(known, installed: bool) -> str:
    parts = [known.name, f"{known.megabytes} MB"]
    if known.measured:
        parts.append(f"SST2 {known.measured.accuracy:.1%}, trains in {known.measured.seconds:.0f} s")
    if not installed:
        parts.append("not installed" if known.package else "from the hub")
    return " · ".join(parts)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}:{secs:02d}"


class EmbedPane(Pane):
    """Turn the loaded sentences into vectors; finished batches are cached, so Start resumes."""

    BINDINGS = [Binding("ctrl+r", "start", "Start embedding", id="embed.start")]

    def compose(self) -> ComposeResult:
        from bertsent.core.encoding.embed import DEFAULT_POOLING, POOLING_HELP
        from bertsent.core.encoding.encoders import KNOWN

        with Horizontal(classes="bar"):
            yield Label("Encoder", classes="field-label")
            yield Input(
                self.app.encoder_name,
                placeholder="minilm (offline), mpnet, distilbert, bert, a Hugging Face id or a folder",
                suggester=SuggestFromList(list(KNOWN), case_sensitive=False),
                compact=True,
                id="embed-encoder",
            )
        with Horizontal(classes="bar"):
            yield Label("Known", classes="field-label")
            yield Select(
                encoder_choices(),
                value=self.app.encoder_name if self.app.encoder_name in KNOWN else Select.NULL,
                prompt="a known encoder (or type a Hugging Face id or folder above)",
                compact=True,
                id="embed-known",
            )
            yield Button("Install", id="embed-install", compact=True)
        with Horizontal(classes="bar"):
            yield Label("Pooling", classes="field-label")
            yield Select(
                [(f"{name}: {help}", name) for name, help in POOLING_HELP.items()],
                value=DEFAULT_POOLING,
                allow_blank=False,
                compact=True,
                id="embed-pooling",
            )
        with Horizontal(classes="bar"):
            yield Label("Layers", classes="field-label")
            yield Input(
                placeholder="the pooling's default (layers: the set measured for the encoder; mean, cls: the last)"
                " · or all, last, 4, 0-4, 0,2,4",
                compact=True,
                id="embed-layers",
            )
        with Horizontal(classes="bar"):
            yield Label("Limit", classes="field-label")
            yield Input(
                "" if self.app.limit is None else str(self.app.limit),
                placeholder="all",
                type="integer",
                validators=[Integer(minimum=1)],
                compact=True,
                id="embed-limit",
            )
            yield Button("Start", id="embed-start", compact=True, variant="primary")
        yield Static(id="embed-sizes", classes="status", markup=False)
        yield ProgressBar(id="embed-bar", show_eta=False)
        yield Static(id="embed-stats", markup=False)
        yield Static(
            literal("Esc cancels; finished batches stay cached, so Start again resumes where it stopped."),
            id="embed-help",
        )

    def on_mount(self) -> None:
        self.watch(self.app, "work_splits", self._show_sizes)
        self._offer_install()

    @on(Select.Changed, "#embed-known")
    def _known_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.query_one("#embed-encoder", Input).value = event.value
        self._offer_install()

    @on(Input.Changed, "#embed-encoder")
    def _encoder_typed(self, event: Input.Changed) -> None:
        from bertsent.core.encoding.encoders import KNOWN

        known = self.query_one("#embed-known", Select)
        name = event.value.strip()
        if name in KNOWN:
            known.value = name
        else:
            known.clear()

    def _offer_install(self) -> None:
        """Install shows while the chosen known encoder is installable, not installed and not installing."""
        from bertsent.core.encoding.encoders import KNOWN, is_installed

        known = KNOWN.get(str(self.query_one("#embed-known", Select).value))
        installing = any(w.is_running for w in self.app.workers if w.group == "install")
        offer = known is not None and known.package is not None and not is_installed(known) and not installing
        self.query_one("#embed-install", Button).display = offer

    @on(Button.Pressed, "#embed-install")
    def action_install(self) -> None:
        name = self.query_one("#embed-known", Select).value
        if not isinstance(name, str):
            return
        self.query_one("#embed-install", Button).display = False
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._install(name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="install")
    @reports_stop
    def _install(self, name: str) -> None:
        yield_to_ui()
        from bertsent.core.encoding.install import install_encoder

        cancel = cancel_event()
        throttle = Throttle()

        def progress(update) -> None:
            if throttle.ready(update.stage == "done"):
                self.post_message(InstallProgressed(update.stage, update.what, update.done, update.total))

        folder = install_encoder(name, progress=progress, cancel=cancel)
        self.post_message(EncoderInstalled(name, folder))

    def on_install_progressed(self, message: InstallProgressed) -> None:
        self.query_one(ProgressBar).update(total=message.total, progress=message.done)
        total = f" of {message.total / 1e6:,.1f}" if message.total else ""
        self.query_one("#embed-stats", Static).update(
            literal(
                f"Installing: {message.stage} {message.what}, {message.done / 1e6:,.1f}{total} MB · "
                "Esc cancels; downloaded packages are kept, so Install again resumes"
            )
        )

    def on_encoder_installed(self, message: EncoderInstalled) -> None:
        known = self.query_one("#embed-known", Select)
        known.set_options(encoder_choices())
        known.value = message.name
        self.query_one("#embed-stats", Static).update(
            literal(f"Installed {message.name} in {message.folder}. Press Start to embed with it.")
        )
        self.app.say(f"Encoder {message.name} installed")
        self._offer_install()

    def _field_limit(self) -> int | None:
        value = self.query_one("#embed-limit", Input).value.strip()
        return int(value) if value.isdigit() and int(value) > 0 else None

    @on(Input.Changed, "#embed-limit")
    def _limit_changed(self) -> bool:
        """Tell the app about a new limit; True if one is on its way (not yet in ``app.work_splits``)."""
        limit = self._field_limit()
        if limit != self.app.limit:
            self.post_message(LimitChanged(limit))
            return True
        return False

    def _show_sizes(self, splits) -> None:
        sizes = self.query_one("#embed-sizes", Static)
        if splits is None:
            sizes.update(literal("No data loaded yet: press 1 and load SST2"))
        else:
            sizes.update(literal(f"Will embed {len(splits.train):,} train + {len(splits.test):,} test sentences"))

    def action_start(self) -> None:
        if any(w.is_running for w in self.app.workers if w.group == "embed"):
            self.app.say("Embedding is already running; Esc cancels it")
            return
        if self._limit_changed():  # a limit typed just now: start once the app has it
            self.call_after_refresh(self.action_start)
            return
        splits = self.app.work_splits
        if splits is None:
            self.app.say("Load data first: press 1", "warning")
            return
        from bertsent.core.base.errors import RecipeError
        from bertsent.core.encoding.layers import parse_layers

        name = self.query_one("#embed-encoder", Input).value.strip() or "minilm"
        pooling = self.query_one("#embed-pooling", Select).value
        typed = self.query_one("#embed-layers", Input).value.strip()
        try:
            layers = parse_layers(typed) if typed else None
        except RecipeError as exc:
            self.app.say(str(exc), "warning")
            return
        self.app.use_encoder(name)
        self.query_one(ProgressBar).update(total=None, progress=0)
        self._embed(name, str(pooling), layers, splits)

    @on(Button.Pressed, "#embed-start")
    @on(Input.Submitted, "#embed-limit, #embed-encoder, #embed-layers")
    def _start_pressed(self) -> None:
        self.action_start()

    @work(thread=True, exclusive=True, exit_on_error=False, group="embed")
    @reports_stop
    def _embed(self, name: str, pooling: str, layers: str | None, splits) -> None:
        yield_to_ui()
        from bertsent.core import jobs
        from bertsent.core.encoding.embed import Embedder

        cancel = cancel_event()
        encoder = self.app.get_encoder(name, status=self)
        embedder = Embedder(encoder, pooling, layers=layers)
        self.post_message(Working(f"Reading the embedding cache ({embedder.layer_note})…"))
        throttle = Throttle()

        def progress(update) -> None:
            if throttle.ready(update.done == update.total):
                self.post_message(EmbedProgressed(update))

        embedded = jobs.embed(splits, embedder, progress=progress, cancel=cancel)
        self.post_message(EmbedFinished(Embedding(splits, embedder, embedded)))

    def on_working(self, message: Working) -> None:
        self.query_one("#embed-stats", Static).update(literal(message.text))

    def on_embed_progressed(self, message: EmbedProgressed) -> None:
        p = message.progress
        self.query_one(ProgressBar).update(total=max(p.total, 1), progress=p.done)
        self.query_one("#embed-stats", Static).update(
            literal(
                f"{p.done:,}/{p.total:,} sentences · {p.rate or 0:,.0f}/s · elapsed {duration(p.elapsed or 0)} · "
                f"ETA {duration(p.eta or 0) if p.done < p.total else '0:00'} · {p.detail}"
            )
        )

    def on_embed_finished(self, message: EmbedFinished) -> None:
        """Shown here, then bubbles on to the app, which makes it the embedding in use."""
        embedding = message.embedding
        total = len(embedding.splits.train) + len(embedding.splits.test)
        truncated = f"; {embedding.embedded.truncated:,} truncated" if embedding.embedded.truncated else ""
        self.query_one("#embed-stats", Static).update(
            literal(
                f"Done: {total:,} sentences as {embedding.embedded.train.shape[1]:,}-dim vectors "
                f"({embedding.embedder.encoder.name}, {embedding.embedder.pooling} pooling of "
                f"{embedding.embedder.layer_note}){truncated}. Press 3 to train."
            )
        )
        self.app.say(f"Embedded {total:,} sentences in {embedding.embedded.seconds:.1f} s")

    def on_stopped(self, message: Stopped) -> None:
        self.query_one("#embed-stats", Static).update(literal(message.text))

    def on_worker_state_changed(self, event) -> None:
        if event.worker.group == "install" and not event.worker.is_running:
            self._offer_install()
        if event.worker.group in ("embed", "install") and event.worker.error is not None:
            self.query_one("#embed-stats", Static).update(literal(error_line(event.worker.error)))
