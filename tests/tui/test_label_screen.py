"""The Label screen (6) on small synthetic pools and the tiny config-built encoder: open, label with
the number keys, skip, undo, switch strategy, find similar, resume, train and save, a test file's
accuracy; snapshots at 80x24 with 2 and 5 classes. Regenerate after an intended change:
pytest tests/tui/test_label_screen.py --snapshot-update
"""

from __future__ import annotations

import asyncio
import csv
import threading
from pathlib import Path

import pytest
from bertsent.core.labelling.annotate import journal_path
from bertsent.tui.app import create_app
from textual.widgets import Input

from tests.conftest import CLASS_WORDS
from tests.tui.conftest import Gate, screen_text, settle

KINDS = {
    "2 classes": ["0", "1"],
    "5 classes": ["very negative", "negative", "neutral", "positive", "very positive"],
}


def sentences(names: list[str], numbers: range) -> list[tuple[str, str]]:
    """(sentence, class) pairs, one per class and number, each made of its class's words (so even
    a tiny encoder separates them)."""
    pairs = []
    for i in numbers:
        for name in names:
            bag = CLASS_WORDS[name] if name in CLASS_WORDS else CLASS_WORDS[("negative", "positive")[int(name)]]
            a, b, c = bag.split()
            pairs.append((f"a {(a, b, c)[i % 3]} film, {(c, a, b)[i % 3]} and {i} times {b}", name))
    return pairs


def write_pool(folder: Path, names: list[str], n: int = 12) -> Path:
    """``n`` sentences per class."""
    pool = folder / "pool.txt"
    pool.write_text("".join(f"{text}\n" for text, _ in sentences(names, range(n))))
    return pool


def write_test(folder: Path, names: list[str], n: int = 4) -> Path:
    """A labelled test file: ``n`` sentences per class that are not in the pool."""
    test = folder / "test.csv"
    with open(test, "w", newline="") as handle:
        csv.writer(handle).writerows([("text", "label"), *sentences(names, range(100, 100 + n))])
    return test


@pytest.fixture
def tiny_app(tiny_encoder):
    """An app whose encoder is the tiny one (loaded once per test: a fraction of a second)."""
    from bertsent.core.encoding.encoder import Encoder

    def make():
        app = create_app()
        encoder = Encoder.load(str(tiny_encoder))
        app.adopt_encoder(encoder)
        app.encoder_name = encoder.name
        return app

    return make


async def open_pool(
    pilot, pool: Path, names: list[str] | None, test: Path | None = None, *, settled: bool = True
) -> None:
    app = pilot.app
    for field in app.query(Input):
        field.cursor_blink = False
    await pilot.press("6")
    app.query_one("#label-pool", Input).value = str(pool)
    app.query_one("#label-classes", Input).value = ",".join(names) if names else ""
    app.query_one("#label-test", Input).value = str(test) if test else ""
    app.query_one("#label-pane").action_open()
    if settled:
        await settle(pilot)


def labelled_rows(pool: Path) -> list[list[str]]:
    with open(pool.with_name("pool.labelled.csv"), newline="") as handle:
        return list(csv.reader(handle))


@pytest.mark.parametrize("kind", KINDS)
def test_label_skip_undo_and_resume(kind, tiny_app, tmp_path):
    asyncio.run(label_skip_undo_and_resume(KINDS[kind], tiny_app, tmp_path))


async def label_skip_undo_and_resume(names, tiny_app, tmp_path):
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        pane = app.query_one("#label-pane")
        assert app.focused.id == "label-card" and pane.current is not None
        first = pane.current
        await pilot.press("1")
        assert pane.current != first
        await pilot.press("s")  # skipped: not in the labelled file
        await pilot.press(str(len(names)))
        await pilot.press("u")  # the last label taken back: that sentence is asked again
        undone = pane.current
        assert undone not in pane.session.labels
        for key in [str(k) for k in range(1, len(names) + 1)] * 2:
            await pilot.press(key)
        await settle(pilot)
        assert pane.session.fitted is not None  # every class has 2 labels: a model, a guess, a CV estimate
        text = screen_text(app)
        assert "model: " in text and "CV " in text and "left" in text
        await pilot.press("m")
        assert pane.strategy == "margin"
        await pilot.press("f")
        assert pane.similar and pane.current not in pane.similar
        await pilot.press("2")
        assert pane.session.decisions[-1].strategy in ("similar", "margin")
        labelled = dict(
            zip(*[[pane.session.texts[i] for i in pane.session.labels], pane.session.labels.values()], strict=True)
        )
    rows = labelled_rows(pool)
    assert rows[0] == ["text", "label"] and len(rows) - 1 == len(labelled) == 1 + 2 * len(names) + 1
    assert pane.session is None  # closed with the app: the journal is unlocked

    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, None)  # the classes come from the journal
        pane = app.query_one("#label-pane")
        assert len(pane.session.labels) == len(labelled)
        assert app.query_one("#label-classes", Input).value.split(",") == pane.session.classes.names


def test_train_and_save_from_the_labels_is_one_key(tiny_app, tmp_path):
    asyncio.run(train_and_save(tiny_app, tmp_path))


async def train_and_save(tiny_app, tmp_path):
    names = KINDS["5 classes"]
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        for key in [str(k) for k in range(1, 6)] * 4:
            await pilot.press(key)
        await pilot.press("t")
        await settle(pilot)
        assert (tmp_path / "pool.labelled-model" / "model.json").is_file()
        assert app.active_model is not None  # Predict uses it
    assert journal_path(pool.with_name("pool.labelled.csv")).is_file()


@pytest.mark.parametrize("kind", KINDS)
def test_a_test_file_is_scored_after_each_refit(kind, tiny_app, tmp_path, monkeypatch):
    import threading

    from bertsent.core.labelling.annotate import Session

    monkeypatch.setenv("HOME", str(tmp_path))
    score, threads = Session.score, set()

    def scoring(self, fitted):
        threads.add(threading.current_thread() is threading.main_thread())
        return score(self, fitted)

    monkeypatch.setattr(Session, "score", scoring)
    asyncio.run(a_test_file_scored(KINDS[kind], tiny_app, tmp_path))
    assert threads == {False}  # scored on the workers: a large test file takes tens of ms


async def a_test_file_scored(names, tiny_app, tmp_path):
    pool, test = write_pool(tmp_path, names), write_test(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names, Path("~") / test.name)  # typed from the home folder
        pane = app.query_one("#label-pane")
        assert f"scored on {4 * len(names)} test sentences" in screen_text(app)
        assert "test " not in app.query_one("#label-counts").render().plain  # no model yet
        for key in [str(k) for k in range(1, len(names) + 1)] * 2:
            await pilot.press(key)
            await settle(pilot)
        score = pane.session.test_score
        assert score is not None and score.n == 4 * len(names) and score.labels == 2 * len(names)
        counts = app.query_one("#label-counts").render().plain
        assert "CV " in counts and f"test {score.accuracy:.0%} on {score.n}" in counts
        await pilot.press("1")
        await settle(pilot)
        assert [s.labels for s in pane.session.test_history] == [2 * len(names), 2 * len(names) + 1]


def test_a_test_file_with_other_classes_is_one_notice(tiny_app, tmp_path):
    asyncio.run(a_test_file_with_other_classes(tiny_app, tmp_path))


async def a_test_file_with_other_classes(tiny_app, tmp_path):
    names = KINDS["5 classes"]
    pool, test = write_pool(tmp_path, names), write_test(tmp_path, ["0", "1"])
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names, test)
        assert app.query_one("#label-pane").session is None
        notices = [str(n.message) for n in app._notifications]
        assert any("test.csv: label 0 is not one of the classes" in n for n in notices), notices
        assert "The pool is not open" in screen_text(app)


def test_opening_twice_in_a_row_opens_once(tiny_app, tmp_path, monkeypatch):
    asyncio.run(open_twice(tiny_app, tmp_path, monkeypatch))


async def open_twice(tiny_app, tmp_path, monkeypatch):
    from bertsent.core import jobs

    names = KINDS["2 classes"]
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        pane = app.query_one("#label-pane")
        with Gate(monkeypatch, jobs, "embed_pool") as gate:  # a big pool: the next open holds the journal a while
            pane.action_open()
            await gate.wait_entered(pilot)  # the first open holds the journal, embedding
            pane.action_open()  # Enter again: the first open is superseded and lets go of the journal
        await settle(pilot)
        notices = [str(n.message) for n in app._notifications]
        assert pane.session is not None, notices
        assert not any("another labelling session" in notice for notice in notices), notices
        await pilot.press("1")
        assert len(pane.session.labels) == 1


def test_more_classes_than_number_keys_is_one_notice(tiny_app, tmp_path):
    asyncio.run(too_many_classes(tiny_app, tmp_path))


async def too_many_classes(tiny_app, tmp_path):
    names = [f"class {i}" for i in range(1, 11)]
    pool = write_pool(tmp_path, ["0", "1"])
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        assert app.query_one("#label-pane").session is None  # class 10 would have no key
        notices = [str(n.message) for n in app._notifications]
        assert notices == ["the Label screen has keys 1 to 9 for classes, not 10: label from a script for more"]
        assert not journal_path(pool.with_name("pool.labelled.csv")).exists()  # nothing to undo by hand
        given = tmp_path / "given.csv"
        given.write_text("text,label\n" + "".join(f"sentence {i},{name}\n" for i, name in enumerate(names)))
        app.query_one("#label-given", Input).value = str(given)  # the labels file names 10 classes
        await open_pool(pilot, pool, None)
        assert app.query_one("#label-pane").session is None
        assert [str(n.message) for n in app._notifications][-1].endswith("not 10: label from a script for more")
        out = pool.with_name("pool.labelled.csv")
        assert not out.exists() and not journal_path(out).exists()  # refused before anything was written


def test_a_label_the_disk_refuses_is_one_notice_and_the_sentence_stays(tiny_app, tmp_path, monkeypatch):
    asyncio.run(disk_refuses(tiny_app, tmp_path, monkeypatch))


async def disk_refuses(tiny_app, tmp_path, monkeypatch):
    import bertsent.core.labelling.annotate as annotate

    def full(*args):
        raise OSError(28, "No space left on device")

    names = KINDS["5 classes"]
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        pane = app.query_one("#label-pane")
        await pilot.press("1")
        first = pane.current
        with monkeypatch.context() as patch:
            patch.setattr(annotate.os, "fsync", full)
            await pilot.press("2")
            assert pane.current == first and len(pane.session.labels) == 1  # not saved: asked again
            await pilot.press("u")
            assert len(pane.session.labels) == 1  # not undone either
        with monkeypatch.context() as patch:
            patch.setattr(annotate, "atomic_write_text", full)
            await pilot.press("2")  # journalled; only the labelled file lags: the next sentence comes
            assert pane.current != first and len(pane.session.labels) == 2
        await settle(pilot)
        notices = [str(n.message) for n in app._notifications]
        assert [n.split(": ", 1)[1] for n in notices] == [
            "cannot write: No space left on device; that was not saved",
            "cannot write: No space left on device; that was not saved",
            "cannot write: No space left on device; the journal has every label, "
            "and the file is rewritten with the next one or on opening again",
        ]


def test_keys_while_the_pool_embeds_then_esc_and_open_again(tiny_app, tmp_path, monkeypatch):
    from bertsent.core import jobs

    with Gate(monkeypatch, jobs, "embed_pool") as gate:
        asyncio.run(keys_while_embedding(tiny_app, tmp_path, gate))


async def keys_while_embedding(tiny_app, tmp_path, gate):
    names = KINDS["2 classes"]
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names, settled=False)
        pane = app.query_one("#label-pane")
        await gate.wait_entered(pilot)  # embedding
        pane.query_one("#label-card").focus()
        for key in ["1", "s", "u", "m", "f", "t"]:  # nothing to label yet: no effect, no error
            await pilot.press(key)
        assert pane.session is None and pane.strategy == "margin"
        await pilot.press("escape")  # cancels the embedding
        gate.opened.set()
        await settle(pilot)
        assert pane.session is None and not app.long_work()
        pane.action_open()  # resumes from the cache
        await settle(pilot)
        assert pane.session is not None
        await pilot.press("1")
        assert len(pane.session.labels) == 1
        notices = [str(n.message) for n in app._notifications]
        assert notices[0] == "Open a pool and label some sentences first", notices


def test_a_model_fitted_for_the_last_pool_stays_out_of_the_next(tiny_app, tmp_path, monkeypatch):
    from bertsent.core import jobs

    refit, fitted = jobs.refit, threading.Event()

    def held_refit(*args, **kwargs):  # refits after a label, still running when another pool opens
        if "labelled" in kwargs:
            fitted.wait(60)
        return refit(*args, **kwargs)

    monkeypatch.setattr(jobs, "refit", held_refit)
    try:
        asyncio.run(model_stays_with_its_pool(tiny_app, tmp_path, fitted))
    finally:
        fitted.set()


async def model_stays_with_its_pool(tiny_app, tmp_path, fitted):
    (tmp_path / "two").mkdir()
    (tmp_path / "five").mkdir()
    two, five = write_pool(tmp_path / "two", KINDS["2 classes"]), write_pool(tmp_path / "five", KINDS["5 classes"])
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, two, KINDS["2 classes"])
        pane = app.query_one("#label-pane")
        for key in "1212":
            await pilot.press(key)
        await open_pool(pilot, five, KINDS["5 classes"], settled=False)  # while the first pool's model is fitting
        fitted.set()
        await settle(pilot)
        assert len(pane.session.texts) == 60 and pane.session.labels == {}
        assert pane.session.fitted is None  # no labels here: no model, not the other pool's
        assert "the model guesses once each class has 2 labels" in screen_text(app)


def test_train_with_one_class_labelled_is_one_notice(tiny_app, tmp_path):
    asyncio.run(train_one_class(tiny_app, tmp_path))


async def train_one_class(tiny_app, tmp_path):
    names = KINDS["5 classes"]
    pool = write_pool(tmp_path, names)
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, pool, names)
        await pilot.press("1", "1", "t")
        await settle(pilot)
        notices = [str(n.message) for n in app._notifications]
        assert len(notices) == 1 and "one class only ('very negative')" in notices[0], notices
        status = str(app.query_one("#label-status").render())
        assert "Training on" not in status and "No model" in status  # the status does not say it still trains


def test_a_pool_that_cannot_be_read_is_one_line(tiny_app, tmp_path):
    asyncio.run(unreadable_pool(tiny_app, tmp_path))


async def unreadable_pool(tiny_app, tmp_path):
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_pool(pilot, tmp_path / "missing.txt", ["a", "b"])
        assert app.query_one("#label-pane").session is None
        notices = [str(n.message) for n in app._notifications]
        assert sum("missing.txt" in notice for notice in notices) == 1, notices  # said once, not twice
        assert "The pool is not open" in screen_text(app)


@pytest.mark.parametrize("kind", KINDS)
def test_a_pool_column_the_header_does_not_name_is_chosen_in_its_field(kind, tiny_app, tmp_path):
    asyncio.run(named_column(KINDS[kind], tiny_app, tmp_path))


async def named_column(names, tiny_app, tmp_path):
    """A CSV whose header names no known text column is read as ``text,label`` without a header
    (the table rule): its ids would be the sentences. The column field names the text."""
    texts = [text for text, _ in sentences(names, range(6))]
    pool = tmp_path / "pool.csv"
    with open(pool, "w", newline="") as handle:
        csv.writer(handle).writerows([("id", "comment"), *enumerate(texts)])
    app = tiny_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.query_one("#label-column", Input).value = "commentary"
        await open_pool(pilot, pool, names)
        pane = app.query_one("#label-pane")
        assert pane.session is None
        notices = [str(n.message) for n in app._notifications]
        assert any("no column 'commentary'; columns found: 'id', 'comment'" in n for n in notices), notices
        app.query_one("#label-column", Input).value = "comment"
        await open_pool(pilot, pool, names)
        assert pane.session is not None and sorted(pane.session.texts) == sorted(texts)
        assert app.query_one("#label-sentence").render().plain in texts


@pytest.mark.parametrize("kind", KINDS)
def test_snapshot(kind, snap_compare, tiny_app, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the paths shown do not depend on the machine
    # A cache of its own: a vector embedded in another batch (by another test) differs in its last
    # bits, which can move a cluster and with it every pick and the picture.
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    names = KINDS[kind]
    pool, test = write_pool(Path("."), names), write_test(Path("."), names)

    async def run_before(pilot) -> None:
        await open_pool(pilot, pool, names, test)
        for key in [str(k) for k in range(1, len(names) + 1)] * 3:
            await pilot.press(key)
            await settle(pilot)  # each refit finishes: the curve has a point per label, however fast the machine
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(tiny_app(), terminal_size=(80, 24), run_before=run_before)
