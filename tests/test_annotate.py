"""A labelling session (core.labelling.annotate): every decision journalled, the labelled file rebuilt, resumed."""

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
from bertsent.core import jobs
from bertsent.core.base.errors import DataError
from bertsent.core.labelling import active
from bertsent.core.labelling.annotate import journal_path, open_session, read_journal

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
        from bertsent.core.labelling.annotate import open_session
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
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

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
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

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
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

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


def test_a_test_file_scores_each_model_and_is_never_asked(tmp_path, tiny_encoder, names):
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    pool, out = write_pool(tmp_path, n=40), tmp_path / "labelled.csv"
    texts = pool.read_text().splitlines()
    test = tmp_path / "test.csv"
    held_out = {i: names[i % len(names)] for i in range(30, 40)}
    test.write_text("text,label\n" + "".join(f"{texts[i]},{label}\n" for i, label in held_out.items()))
    with jobs.open_labelling(pool, out, classes=names, test=test) as session:
        assert session.taken[30:].all() and session.remaining == 30  # a label there would leak into the test
        jobs.embed_pool(session, Embedder(Encoder.load(str(tiny_encoder)), cache=False))
        assert session.test_vectors.shape[0] == 10
        session.use(jobs.refit(session))
        assert session.test_score is None and session.test_history == []  # no model yet
        for i in range(2 * len(names)):
            session.label(i, names[i % len(names)])
        fitted = jobs.refit(session)
        session.use(fitted)
        score = session.test_score
        predicted = fitted.classifier.predict(session.test_vectors).tolist()
        truth = [session.classes.labels[names.index(label)] for label in held_out.values()]
        assert score.n == 10 and score.labels == 2 * len(names)
        assert score.accuracy == sum(p == t for p, t in zip(predicted, truth, strict=True)) / 10
        session.label(20, names[0])
        session.use(jobs.refit(session))
        assert [s.labels for s in session.test_history] == [2 * len(names), 2 * len(names) + 1]
        session.undo()
        session.use(jobs.refit(session))  # the point after the undone label goes
        assert [s.labels for s in session.test_history] == [2 * len(names)]
        assert session.taken[30:].all()


def test_classes_and_files_may_use_the_shown_names(tmp_path, names):
    """As the screen shows them (negative,positive for 0,1): reopening with those names resumes,
    and a labels or test file written with them is read as the classes (the rule of evaluate)."""
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=names) as session:
        shown = session.classes.names
        session.label(0, names[0])
    assert shown == (["negative", "positive"] if names == ["0", "1"] else names)
    given, test = tmp_path / "given.csv", tmp_path / "test.csv"
    given.write_text(f"text,label\na given film,{shown[-1]}\n")
    test.write_text(f"text,label\nheld out one,{shown[0]}\nheld out two,{shown[-1]}\n")
    with open_session(pool, out, classes=shown, labels=given, test=test) as again:
        assert again.classes == session.classes and again.labels == {0: session.classes.labels[0]}
        assert again.given.labels.tolist() == [session.classes.labels[-1]]
        assert again.test.labels.tolist() == [session.classes.labels[0], session.classes.labels[-1]]


def test_a_test_file_with_other_classes_is_one_line(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    test = tmp_path / "test.csv"
    test.write_text("text,label\nfine film,good\nawful film,terrible\n")
    with pytest.raises(DataError, match=r"test.csv: label 'terrible' is not one of the classes of this session"):
        with open_session(pool, out, classes=["good", "bad"], test=test):
            pass
    assert not journal_path(out).exists()  # refused before the first line: nothing left behind
    with pytest.raises(DataError, match="missing.csv"):
        with open_session(pool, out, classes=["good", "bad"], test=tmp_path / "missing.csv"):
            pass


def _journal_with(out: Path, header: dict | None = None, extra: list[str] = ()) -> None:
    lines = journal_path(out).read_text().splitlines()
    if header is not None:
        lines[0] = json.dumps({**json.loads(lines[0]), **header})
    journal_path(out).write_text("\n".join([*lines, *extra]) + "\n")


@pytest.mark.parametrize(
    "damage",
    [
        {"classes": ["a", "a"]},
        {"classes": [1, "a"]},
        {"classes": [None, "a"]},
        {"classes": [{"x": 1}, {"y": 2}]},
        {"classes": [" ", ""]},
        {"labels": 5},
    ],
    ids=["repeated", "mixed", "null", "objects", "blank", "labels not a path"],
)
def test_a_journal_header_edited_by_hand_is_one_line(tmp_path, damage):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=["a", "b"]) as session:
        session.label(0, "a")
    _journal_with(out, damage)
    with pytest.raises(DataError, match="labelled.csv.journal: .*damaged"):
        with open_session(pool, out):
            pass


def test_a_journal_that_decides_a_sentence_twice_is_one_line(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=["a", "b"]) as session:
        session.label(0, "a")
    repeated = journal_path(out).read_text().splitlines()[1]
    _journal_with(out, extra=[repeated])  # pasted twice: an undo would leave the label half taken back
    with pytest.raises(DataError, match="line 3 decides sentence 0 a second time"):
        with open_session(pool, out):
            pass


def test_a_journal_that_lost_its_first_line_keeps_the_labelled_file(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    with open_session(pool, out, classes=["a", "b"]) as session:
        session.label(0, "a")
        session.label(1, "b")
    labelled = out.read_text()
    journal_path(out).write_bytes(journal_path(out).read_bytes()[:30])  # truncated inside the header
    with pytest.raises(DataError, match="first line is gone.*give labelled.csv as the labels file"):
        with open_session(pool, out, classes=["a", "b"]):
            pass
    assert out.read_text() == labelled  # not rebuilt from an empty journal


def test_a_journal_that_cannot_be_written_is_one_line(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    journal_path(out).mkdir()
    with pytest.raises(DataError, match="cannot write the journal"):
        with open_session(pool, out, classes=["a", "b"]):
            pass


def test_a_disk_that_refuses_a_write_loses_no_label_and_is_one_line(tmp_path, monkeypatch):
    import bertsent.core.labelling.annotate as annotate

    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"

    def full(*args):
        raise OSError(28, "No space left on device")

    with open_session(pool, out, classes=["a", "b"]) as session:
        session.label(0, "a")
        journal = journal_path(out).read_bytes()
        with monkeypatch.context() as patch:
            patch.setattr(annotate.os, "fsync", full)
            with pytest.raises(DataError, match="No space left on device; that was not saved"):
                session.label(1, "b")
        assert journal_path(out).read_bytes() == journal and session.labels == {0: "a"}
        with monkeypatch.context() as patch:
            patch.setattr(annotate, "atomic_write_text", full)
            with pytest.raises(DataError, match="the journal has every label"):
                session.label(1, "b")
        assert session.labels == {0: "a", 1: "b"} and len(rows(out)) == 2  # the file lags one label
        session.label(2, "a")
        assert len(rows(out)) == 4  # and catches up with the next
    with open_session(pool, out) as session:
        assert session.labels == {0: "a", 1: "b", 2: "a"}


def test_a_line_the_disk_refused_half_way_is_cut_back_and_never_written_later(tmp_path, monkeypatch):
    """Half the line gets through, then the disk is full: the half goes, and labelling the sentence
    again once there is room leaves one decision, not two (which would make the journal unopenable)."""
    import bertsent.core.labelling.annotate as annotate

    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    real_write = os.write
    with open_session(pool, out, classes=["a", "b"]) as session:
        journal, fd = journal_path(out), session._handle.fileno()
        before = journal.read_bytes()
        calls = []

        def fills_up(target, data):
            if target != fd:
                return real_write(target, data)
            calls.append(len(data))
            if len(calls) == 1:
                return real_write(target, bytes(data[: len(data) // 2]))
            raise OSError(28, "No space left on device")

        with monkeypatch.context() as patch:
            patch.setattr(annotate.os, "write", fills_up)
            with pytest.raises(DataError, match="No space left on device; that was not saved"):
                session.label(3, "a")
        assert journal.read_bytes() == before and 3 not in session.labels
        session.label(3, "b")
    with open_session(pool, out) as session:
        assert session.labels == {3: "b"}
    assert journal.read_bytes().count(b'"index": 3') == 1


def test_a_test_file_that_shares_sentences_with_the_labels_is_one_line(tmp_path):
    pool, out = write_pool(tmp_path), tmp_path / "labelled.csv"
    texts = pool.read_text().splitlines()
    given, test = tmp_path / "given.csv", tmp_path / "test.csv"
    given.write_text(f"text,label\n{texts[0]},a\n{texts[1]},b\n")
    test.write_text(f"text,label\n{texts[0]},a\n{texts[9]},b\n")
    with pytest.raises(DataError, match="test.csv: 1 of its sentences are labels the model learns from"):
        with open_session(pool, tmp_path / "other.csv", classes=["a", "b"], labels=given, test=test):
            pass
    with open_session(pool, out, classes=["a", "b"]) as session:
        session.label(5, "a")
    test.write_text(f"text,label\n{texts[5]},a\n{texts[6]},b\n")
    with pytest.raises(DataError, match="test.csv: 1 of its sentences are labels the model learns from"):
        with open_session(pool, out, test=test):
            pass


def test_a_folder_as_the_pool_is_one_line(tmp_path):
    with pytest.raises(DataError, match="is a folder; name a file of sentences"):
        with open_session(tmp_path, tmp_path / "labelled.csv", classes=["a", "b"]):
            pass
