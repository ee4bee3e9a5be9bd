"""A labelling session (core.annotate): every decision journalled, the labelled file rebuilt, resumed."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from bertsent.core import active, jobs
from bertsent.core.annotate import journal_path, open_session, read_journal
from bertsent.core.errors import DataError

CLASSES = {"0/1": ["0", "1"], "6 strings": ["very bad", "bad", "meh", "fine", "good", "superb"]}


@pytest.fixture(params=list(CLASSES), ids=list(CLASSES))
def names(request) -> list[str]:
    return CLASSES[request.param]


def write_pool(folder: Path, n: int = 30) -> Path:
    pool = folder / "pool.txt"
    pool.write_text("".join(f"sentence number {i} is {'good' if i % 2 else 'bad'}\n" for i in range(n)))
    return pool


def rows(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def test_labels_skips_and_undo_are_journalled_and_resumed(tmp_path, names):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=names) as session:
        assert session.classes.labels[0] == (0 if names == ["0", "1"] else "very bad")  # integers stay integers
        session.label(0, names[0], "diverse")
        session.label(1, names[-1], "margin")
        session.skip(2, "margin")
        session.label(3, names[1], "margin")
        assert session.undo().index == 3
        assert session.counts()[0] == 1 and sum(session.counts()) == 2
    assert rows(out) == [["text", "label"], [session.texts[0], names[0]], [session.texts[1], names[-1]]]
    header, entries, _ = read_journal(journal_path(out))
    assert header["classes"] == list(session.classes.labels)
    assert [e.get("strategy") for e in entries if "index" in e] == ["diverse", "margin", "margin", "margin"]
    assert {"time", "index", "text"} <= set(entries[0]) and entries[-1].get("undo")
    with open_session(pool, out) as again:  # the classes come from the journal
        assert again.labels == {0: session.classes.labels[0], 1: session.classes.labels[-1]}
        assert again.taken[:4].tolist() == [True, True, True, False]
        assert again.remaining == 27


def test_a_torn_last_line_is_the_only_thing_lost(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=["0", "1"]) as session:
        session.label(5, "1")
    with open(journal_path(out), "ab") as journal:
        journal.write(b'{"time": "2026-01-01T00:00:00Z", "index": 6, "te')  # killed mid-write
    with open_session(pool, out) as session:
        assert session.labels == {5: 1}
        session.label(6, "0")  # the next line starts on a line of its own
    with open_session(pool, out) as session:
        assert session.labels == {5: 1, 6: 0}


def test_a_session_killed_mid_labelling_resumes_with_every_label_it_confirmed(tmp_path):
    pool, out = write_pool(tmp_path, n=400), tmp_path / "labelled.csv"
    script = textwrap.dedent(
        f"""
        import sys
        from bertsent.core.annotate import open_session
        with open_session({str(pool)!r}, {str(out)!r}, classes=["neg", "pos"]) as session:
            for i in range(400):
                session.label(i, "pos" if i % 2 else "neg")
                print(i, flush=True)
        """
    )
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    confirmed = -1
    deadline = time.monotonic() + 120
    while confirmed < 20 and time.monotonic() < deadline:
        confirmed = int(child.stdout.readline())
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert confirmed >= 20
    with open_session(pool, out) as session:
        assert set(range(confirmed + 1)) <= set(session.labels)  # nothing confirmed was lost
        assert all(session.labels[i] == ("pos" if i % 2 else "neg") for i in session.labels)
        n = len(session.labels)
    assert len(rows(out)) == n + 1  # the labelled file holds every journalled label


def test_the_labelled_file_is_a_training_file(tmp_path, tiny_encoder, names):
    from bertsent.core.data import load_splits
    from bertsent.core.embed import Embedder
    from bertsent.core.encoder import Encoder

    pool, out = write_pool(tmp_path, n=60), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=names) as session:
        for i in range(36):
            session.label(i, names[i % len(names)])
    splits = load_splits(out)
    assert set(splits.classes.labels) == set(session.classes.labels)
    embedder = Embedder(Encoder.load(str(tiny_encoder)), cache=False)
    trained = jobs.train(splits, embedder=embedder, C=1.0, record=False)
    assert set(trained.model.classes.labels) == set(session.classes.labels)


def test_the_model_in_the_loop(tmp_path, tiny_encoder, names):
    from bertsent.core.embed import Embedder
    from bertsent.core.encoder import Encoder

    pool, out = write_pool(tmp_path, n=40), tmp_path / "labelled.csv"
    embedder = Embedder(Encoder.load(str(tiny_encoder)), cache=False)
    with jobs.open_labelling(pool, out, classes=names) as session:
        jobs.embed_pool(session, embedder)
        first = session.suggest(3)
        assert len(set(first)) == 3
        assert jobs.refit(session) is None  # no labels yet: no model
        for i in range(3 * len(names)):
            session.label(i, names[i % len(names)])
        fitted = jobs.refit(session)
        session.use(fitted)
        assert fitted is not None and fitted.proba.shape == (40, len(names))
        assert 0 <= fitted.estimate.accuracy <= 1 and session.history[-1][0] == 3 * len(names)
        assert session.layers == len(embedder.layers) > 1  # the model reads the deep layers only
        shallow = active.deep_columns(embedder.dim, session.layers).start
        assert shallow > 0 and not fitted.classifier.to_arrays()["coef"][:, :shallow].any()
        label, probability = session.guess(30)
        assert label in session.classes.labels and 0 < probability <= 1
        for strategy in ("auto", "margin", "least-confidence", "diverse", "random"):
            picks = session.suggest(4, strategy)
            assert len(picks) == 4 and not session.taken[picks].any()
        near = session.similar(30, 5)
        assert 30 not in near and not session.taken[near].any()


def test_given_labels_teach_the_model_and_are_never_asked(tmp_path, tiny_encoder):
    from bertsent.core.embed import Embedder
    from bertsent.core.encoder import Encoder

    pool, out = write_pool(tmp_path, n=20), tmp_path / "labelled.csv"
    texts = pool.read_text().splitlines()
    given = tmp_path / "given.csv"
    given.write_text("text,label\n" + "".join(f"{texts[i]},{'pos' if i % 2 else 'neg'}\n" for i in range(6)))
    with open_session(pool, out, labels=given) as session:
        assert session.classes.labels == ("neg", "pos") and session.counts() == [3, 3]
        assert session.taken[:6].all() and session.remaining == 14
        session.embed(Embedder(Encoder.load(str(tiny_encoder)), cache=False))
        assert session.refit() is not None
        session.label(10, "pos")
    assert len(rows(out)) == 1 + 6 + 1
    suggested = jobs.suggest(pool, given, Embedder(Encoder.load(str(tiny_encoder)), cache=False), n=5)
    assert len(suggested) == 5 and not {text for _, text in suggested} & set(texts[:6])


def test_refusals_are_one_line(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("their data\n")
    with pytest.raises(DataError, match="not written by a labelling session"):
        with open_session(pool, theirs, classes=["a", "b"]):
            pass
    assert theirs.read_text() == "their data\n"
    with pytest.raises(DataError, match="name the classes"):
        with open_session(pool, out):
            pass
    with pytest.raises(DataError, match="named twice"):
        with open_session(pool, out, classes=["a", "a"]):
            pass
    with open_session(pool, out, classes=["a", "b"]) as session:
        with pytest.raises(DataError, match="another labelling session"):
            with open_session(pool, out):
                pass
        session.label(0, "a")
        with pytest.raises(DataError, match="labelled or skipped already"):
            session.label(0, "b")
        with pytest.raises(DataError, match="no class 'c'"):
            session.label(1, "c")
    with pytest.raises(DataError, match="classes are a, b"):
        with open_session(pool, out, classes=["x", "y"]):
            pass
    write_pool(tmp_path, n=3).write_text("something else entirely\nand more\n")
    with pytest.raises(DataError, match="no longer has"):
        with open_session(pool, out):
            pass
    journal_path(out).write_text(
        '{"kind": "bertsent labelling journal", "format": 1, "classes": ["a", "b"]}\nnot json\n'
    )
    with pytest.raises(DataError, match="line 2 is damaged"):
        with open_session(pool, out):
            pass
    assert json.loads(journal_path(out).read_text().splitlines()[0])["classes"] == ["a", "b"]


def test_the_script_api_opens_an_embedded_session_and_resumes_it(tmp_path, tiny_encoder):
    from bertsent.core.api import open_labelling

    pool, out = write_pool(tmp_path, n=20), tmp_path / "labelled.csv"
    with open_labelling(pool, out, classes=["bad", "good"], encoder=str(tiny_encoder)) as session:
        assert session.vectors is not None and session.vectors.shape[0] == 20
        for index in session.suggest(4):
            session.label(index, "good" if "good" in session.texts[index] else "bad")
        labelled = dict(session.labels)
    with open_labelling(pool, out, encoder=str(tiny_encoder)) as session:
        assert session.labels == labelled
