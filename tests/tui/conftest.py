"""TUI fixtures: apps that reuse the session's encoder, and a helper to read the screen as text."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import textual._wait
import textual.constants
from bertsent.tui import error_log
from bertsent.tui.app import BertsentApp, create_app
from textual.worker import WorkerCancelled, WorkerFailed


@pytest.fixture(autouse=True)
def no_animations(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in tests start with animations off. The tab underline slides for 0.3 s after a
    tab switch, so a snapshot taken soon after "3" drew it wherever a loaded CPU had got it to."""
    monkeypatch.setattr(textual.constants, "TEXTUAL_ANIMATIONS", "none")


REFRESH_S = 0.02  # a little more than one frame at Textual's 60 frames a second


@pytest.fixture(autouse=True)
def finer_idle_waits(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pilot's ``pause()`` (and each ``press``) waits for the process to go idle in steps of 20 ms,
    so every wait idled at least 20 ms. Steps of 5 ms (the same 1/20 share of CPU counting as idle)
    wait for the same thing: test_label_screen.py and test_inside_screen.py took 59 s instead of
    73 s on one thread, with the same CPU time; the suite about 25 s less. Snapshots keep Textual's
    steps: a DataTable sizes its columns when idle, and one snapshot in five full runs caught the
    predict history before that."""
    if "snap_compare" in request.fixturenames:
        return
    monkeypatch.setattr(textual._wait, "SLEEP_GRANULARITY", 0.005)
    monkeypatch.setattr(textual._wait, "SLEEP_IDLE", 0.005 / 20)


@pytest.fixture(autouse=True)
def no_unexpected_errors(own_config_and_state) -> Iterator[None]:
    """The app turns a bug into one line and a logged traceback and goes on, so no test may pass
    over one: a test that causes an error on purpose reads the log and removes it."""
    yield
    if error_log.log_path().exists():
        pytest.fail(f"the app logged an unexpected error:\n{error_log.log_path().read_text()}")


@pytest.fixture
def sst2_here(sst2_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run from SST2's parent so the app shows the machine-independent path ``sst2``."""
    monkeypatch.chdir(sst2_dir.parent)
    return sst2_dir.name


@pytest.fixture
def make_app(encoder):
    """``create_app`` plus the session's already loaded encoder (saves ~4 s per app)."""

    def make(data: str | None = None) -> BertsentApp:
        app = create_app(data=data)
        app.adopt_encoder(encoder)
        return app

    return make


def screen_text(app: BertsentApp) -> str:
    """What the terminal shows now, as plain text lines."""
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


async def settle(pilot) -> None:
    """Wait until every worker has finished and the UI has caught up with their messages. Each
    round lasts at least one screen refresh (60 per second): work started after a refresh
    (``call_after_refresh``) has started by the time the round waits for the workers."""
    for _ in range(3):
        await pilot.pause(REFRESH_S)
        for worker in list(pilot.app.workers):
            with contextlib.suppress(WorkerFailed, WorkerCancelled):  # the app reports these itself
                await worker.wait()
    await pilot.pause()


async def settle_until(pilot, condition, what: str, seconds: float = 60) -> None:
    """:func:`settle`, then wait for ``condition()``: a cancelled thread worker finishes after
    Textual already counts it done (its thread stops at the next checkpoint), later on a busy machine."""
    await settle(pilot)
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {seconds:.0f} s: {what}")
        await pilot.pause(0.05)
    await settle(pilot)


async def show_predict(pilot, result) -> None:
    """Make ``result`` the session's model and switch to Predict, settled."""
    await settle(pilot)
    pilot.app.set_result(result)
    await pilot.press("4")
    await settle(pilot)


class Gate:
    """Holds the first call of ``owner.name`` (in a worker) until the test opens the gate.

    The test acts (presses Esc, say) while the work is certainly still running, however fast or
    loaded the machine is; later calls pass straight through. ``calls`` counts every call. Use it
    as ``with gate:`` around the app's run, so a failing test never leaves the worker waiting.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch, owner: object, name: str) -> None:
        self.entered, self.opened = threading.Event(), threading.Event()
        self.calls = 0
        real = getattr(owner, name)

        def held(*args, **kwargs):
            self.calls += 1
            self.entered.set()
            self.opened.wait(120)
            return real(*args, **kwargs)

        monkeypatch.setattr(owner, name, held)

    def __enter__(self) -> Gate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.opened.set()

    async def wait_entered(self, pilot, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while not self.entered.is_set():
            assert time.monotonic() < deadline, "the work never started"
            await pilot.pause(0.05)


@pytest.fixture(scope="session")
def tui_embedding(encoder, sst2_dir):
    """What the Embed screen produces for SST2 with limit 200 (the default pooling).

    Embedded here in one pass, never read from the session's cache: a vector computed in another
    batch (another test embedded all of SST2 first) differs in its last bits, and a token score
    near a strength step then drew another mark in a snapshot, depending on the tests' order.
    """
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import embed_splits
    from bertsent.tui.state import Embedding

    splits = load_splits(sst2_dir, limit=200)
    embedder = Embedder(encoder, cache=False)
    return Embedding(splits, embedder, embed_splits(embedder, splits))


@pytest.fixture(scope="session")
def tui_result(tui_embedding):
    """What the Train screen produces from :func:`tui_embedding` with cross-validated C."""
    from bertsent.core.models.train import fit

    return fit(tui_embedding.embedder, tui_embedding.splits, tui_embedding.embedded)


@pytest.fixture(scope="session")
def tui_probe(encoder, tui_embedding):
    """The layer probe on :func:`tui_embedding`'s sentences (what ctrl+r on Inside computes)."""
    from bertsent.core.analyses.probe import probe_layers

    return probe_layers(encoder, tui_embedding.splits, cache=False)  # one pass, as tui_embedding


@pytest.fixture(scope="session")
def tui_map(tui_result, tui_embedding):
    """The PCA sentence map of the test sentences with :func:`tui_result`'s model."""
    from bertsent.core.analyses.inside import sentence_map

    return sentence_map(tui_result.model, tui_embedding.splits.test)


SST5_ORDER = ["very negative", "negative", "neutral", "positive", "very positive"]  # the graded scale


@pytest.fixture(scope="session")
def tui_sst5_embedding(encoder, sst5_dir):
    """SST-5 (five named classes) as the Embed screen produces it with limit 200 (one pass, no
    cache, as :func:`tui_embedding`)."""
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import embed_splits
    from bertsent.tui.state import Embedding

    splits = load_splits(sst5_dir, limit=200, class_order=SST5_ORDER)
    embedder = Embedder(encoder, cache=False)
    return Embedding(splits, embedder, embed_splits(embedder, splits))


@pytest.fixture(scope="session")
def tui_sst5_result(tui_sst5_embedding):
    """A five-class model trained on :func:`tui_sst5_embedding` (fixed C: no search)."""
    from bertsent.core.models.train import fit

    return fit(tui_sst5_embedding.embedder, tui_sst5_embedding.splits, tui_sst5_embedding.embedded, C=0.01)


@pytest.fixture(scope="session")
def six_classes_folder(tmp_path_factory) -> Path:
    """Six named classes (spaces in their names), 16 train and 6 test sentences each."""
    from tests.conftest import CLASS_WORDS, write_labelled_folder

    folder = tmp_path_factory.mktemp("six-classes") / "six"
    folder.mkdir()
    return write_labelled_folder(folder, CLASS_WORDS)


@pytest.fixture(scope="session")
def tui_six_embedding(encoder, six_classes_folder):
    """:func:`six_classes_folder` embedded as the Embed screen does, the classes in their given order."""
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.train import embed_splits
    from bertsent.tui.state import Embedding

    from tests.conftest import CLASS_WORDS

    splits = load_splits(six_classes_folder, class_order=list(CLASS_WORDS))
    embedder = Embedder(encoder, cache=False)
    return Embedding(splits, embedder, embed_splits(embedder, splits))


@pytest.fixture(scope="session")
def tui_six_result(tui_six_embedding):
    from bertsent.core.models.train import fit

    return fit(tui_six_embedding.embedder, tui_six_embedding.splits, tui_six_embedding.embedded, C=1.0)
