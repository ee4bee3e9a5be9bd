"""Issue 18, the second hostile pass (core and CLI): each class of input or event gets one clear
line and its documented status, and loses nothing; and direct tests that pin the rules the first
pass only exercised from a distance (each fails when its rule is changed)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import threading

import numpy as np
import pytest
from bertsent.cli.main import main
from bertsent.core.base import jsonio
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import DataError, ModelFileError
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.classes import names_of as label_names
from bertsent.core.data.dataset import align_labels, as_labels, load_dataset
from bertsent.core.encoding.embed import Embedder
from bertsent.core.models.classifier import SentimentClassifier
from bertsent.core.models.model import SentimentModel
from bertsent.core.models.persist import META, load_model, meta_checksum

SENTENCES = ["a fine film", "dull and slow", "it is a film", "warm , funny and wise", "not worth it", "so so"]


def labelled_file(tmp_path, labels: list[str], name: str = "data.tsv"):
    path = tmp_path / name
    rows = [f"{SENTENCES[i % len(SENTENCES)]} {i}\t{label}" for i, label in enumerate(labels)]
    path.write_text("sentence\tlabel\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def one_line_error(capsys, status: int, done: int) -> str:
    err = capsys.readouterr().err
    assert done == status, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture(scope="module")
def three_classes(encoder) -> SentimentModel:
    """A 3-class model over the bundled encoder: a seeded random linear head (no training needed)."""
    rng = np.random.default_rng(0)
    weight, bias = rng.normal(size=(3, encoder.hidden_size)), rng.normal(size=3)
    classifier = SentimentClassifier.from_linear(weight, bias, np.asarray(["neg", "neu", "pos"]))
    return SentimentModel(Embedder(encoder, "mean", cache=False), classifier)


# D and C2. Labels are kept exactly as written: only str(int(v)) == v is an integer.


@pytest.mark.parametrize(
    "pair",
    [
        ("01", "1"),
        ("-0", "0"),
        ("+1", "1"),
        ("\u0661", "1"),
        ("good ", "good"),
        (" 1", "1"),
        ("1.0", "1"),
        ("0x1", "1"),
    ],
)
def test_labels_written_differently_are_different_classes(tmp_path, pair):
    dataset = load_dataset(labelled_file(tmp_path, [pair[0], pair[1]] * 3))
    assert sorted(set(dataset.labels.tolist())) == sorted(pair)  # as written, not merged, not stripped
    names = label_names(np.unique(dataset.labels))
    assert len(set(names)) == 2 and all(name.strip() == name for name in names)  # both visibly distinct


def test_names_of_labels_with_spaces_at_an_end_are_quoted_and_never_collide():
    assert label_names(np.asarray(["good", "good "])) == ["good", '"good "']
    assert len(set(label_names(np.asarray(['"good "', "good "])))) == 2


def test_integer_labels_are_int64_only_when_written_as_python_writes_them():
    assert as_labels(["0", "-3", "9223372036854775807"]).dtype == np.int64
    assert as_labels(["0", "-0"]).dtype.kind == "U"
    assert as_labels(["1", "99999999999999999999"]).tolist() == ["1", "99999999999999999999"]


def test_a_label_beyond_int64_is_a_text_label_in_data_and_train(tmp_path, capsys, monkeypatch):
    data = labelled_file(tmp_path, ["99999999999999999999", "1"] * 6)
    assert main(["data", "--data", str(data), "--json"]) == 0
    per_label = json.loads(capsys.readouterr().out)
    assert "99999999999999999999" in json.dumps(per_label)
    monkeypatch.setattr("bertsent.core.models.fastpath.check_fast_path", lambda *args: None)
    assert main(["train", "--data", str(data), "--C", "1", "--out", str(tmp_path / "m"), "--json"]) == 0
    assert load_model(tmp_path / "m").model.classes.labels == ("1", "99999999999999999999")


def test_evaluate_refuses_labels_that_only_look_like_the_models(small_model_dir, tmp_path, capsys):
    data = labelled_file(tmp_path, ["01", "1"] * 3)
    err = one_line_error(capsys, 2, main(["evaluate", "--model", str(small_model_dir), "--data", str(data)]))
    assert "'01' is not one of the classes" in err


def test_evaluate_reads_labels_written_as_the_models_class_names(small_model_dir, tmp_path, capsys):
    data = labelled_file(tmp_path, ["1", "0"] * 3)
    named = tmp_path / "named.tsv"
    named.write_text(data.read_text().replace("\t1\n", "\tpositive\n").replace("\t0\n", "\tnegative\n"))
    assert "positive" in named.read_text()
    outputs = []
    for path in (data, named):
        assert main(["evaluate", "--model", str(small_model_dir), "--data", str(path), "--json"]) == 0
        outputs.append({k: v for k, v in json.loads(capsys.readouterr().out).items() if k != "data"})
    assert outputs[0] == outputs[1]


# C5. Files a user can point bertsent at: regular files of bounded size only, never a blocking read.


def _hostile(kind: str, path) -> None:
    if kind == "zero":
        os.symlink("/dev/zero", path)
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "socket":
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
    elif kind == "spaces":
        with open(path, "wb") as handle:
            for _ in range(100):
                handle.write(b" " * 2**20)  # 100 MiB


HOSTILE = ["zero", "fifo", "folder", "socket", "spaces"]


@pytest.mark.parametrize("kind", HOSTILE)
def test_read_regular_refuses_what_is_not_a_small_regular_file(tmp_path, kind):
    from bertsent.core.base.files import read_regular
    from bertsent.core.models.persist import META_LIMIT

    _hostile(kind, tmp_path / "x")
    with pytest.raises(OSError) as caught:
        read_regular(tmp_path / "x", META_LIMIT)
    assert caught.value.strerror.startswith(("not a regular file", "larger than"))


@pytest.mark.parametrize("kind", HOSTILE)
def test_model_json_that_is_not_a_file_is_refused_in_one_line(small_model_dir, tmp_path, capsys, kind):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    (folder / META).unlink()
    _hostile(kind, folder / META)
    with unblocked(folder / META) as hung:
        with pytest.raises(ModelFileError, match="cannot be read"):
            load_model(folder)
        err = one_line_error(capsys, 2, main(["predict", "--model", str(folder), "a fine film"]))
    assert "refusing to load" in err and not hung


@contextlib.contextmanager
def unblocked(fifo):
    """After 20 s, a writer opens and closes ``fifo``: a reader blocked on it fails instead of hanging."""
    hung = []

    def release() -> None:
        hung.append(True)
        with open(fifo, "wb"):
            pass

    watchdog = threading.Timer(20, release)
    watchdog.start()
    try:
        yield hung
    finally:
        watchdog.cancel()


@pytest.mark.parametrize("kind", ["zero", "fifo", "folder", "socket"])  # 100 MiB is allowed: history is capped at 256
def test_run_history_and_settings_that_are_not_files_are_refused_or_ignored(tmp_path, monkeypatch, capsys, kind):
    from bertsent.core.base.paths import config_dir, state_dir
    from bertsent.tui import config

    state_dir().mkdir(parents=True, exist_ok=True)
    _hostile(kind, state_dir() / "runs.jsonl")
    with unblocked(state_dir() / "runs.jsonl") as hung:
        err = one_line_error(capsys, 2, main(["runs"]))
    assert "runs.jsonl" in err and not hung
    config_dir().mkdir(parents=True, exist_ok=True)
    _hostile(kind, config.config_path())
    with unblocked(config.config_path()) as hung:
        assert config.load() == {}
    assert not hung


# B1. A fine-tuned model is saved before anything can fail; its checkpoint goes only after the save.


def finetune_args(tiny_distilbert, sst2_dir, out) -> list[str]:
    return [
        "train", "--finetune", "--encoder", str(tiny_distilbert), "--data", str(sst2_dir), "--limit", "40",
        "--epochs", "2", "--batch-size", "8", "--out", str(out), "--json",
    ]  # fmt: skip


def test_one_class_note_of_a_model_without_c():
    from bertsent.core.data.classes import ClassSet
    from bertsent.core.jobs import run_notes
    from bertsent.core.models.report import build_report

    labels = np.asarray([0, 1, 0, 1])
    report = build_report(
        labels,
        np.zeros(4, int),
        labels,
        np.zeros(4, int),
        classes=ClassSet((0, 1)),
        C=None,
        encoder="e",
        pooling="mean",
    )
    assert run_notes(report, 512) == ["the model predicts one label for every test sentence"]


def test_a_failing_report_after_fine_tuning_loses_no_model(tiny_distilbert, sst2_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))

    def broken(*args, **kwargs) -> None:
        raise RuntimeError("formatting failed")

    monkeypatch.setattr("bertsent.cli.train.print_json", broken)
    with pytest.raises(RuntimeError):
        main(finetune_args(tiny_distilbert, sst2_dir, tmp_path / "ft"))
    assert load_model(tmp_path / "ft").report.method == "finetune"
    assert not list((tmp_path / "cache" / "finetune").glob("*.pt"))  # saved, so the checkpoint went


def test_a_failed_save_keeps_the_finished_checkpoint_and_a_rerun_does_not_train_again(
    tiny_distilbert, sst2_dir, tmp_path, monkeypatch, capsys
):
    from bertsent.cli.common import Progress
    from bertsent.core.models import persist

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    real_save, steps = persist.save_model, []

    def count_steps(progress, update) -> None:
        if update.stage == "fine-tuning":
            steps.append(update.done)

    monkeypatch.setattr(Progress, "job", count_steps)

    def crash(*args, **kwargs):
        raise RuntimeError("killed while saving")

    monkeypatch.setattr(persist, "save_model", crash)
    args = finetune_args(tiny_distilbert, sst2_dir, tmp_path / "ft")
    with pytest.raises(RuntimeError):
        main(args)
    assert steps == list(range(1, 11)) and len(list((tmp_path / "cache" / "finetune").glob("*.pt"))) == 1
    monkeypatch.setattr(persist, "save_model", real_save)
    steps.clear()
    assert main(args) == 0
    assert steps == []  # resumed at the end: no step trained twice
    assert not list((tmp_path / "cache" / "finetune").glob("*.pt"))
    assert json.loads(capsys.readouterr().out)["model"] == str(tmp_path / "ft")


# B2 and E. SIGTERM stops as Ctrl-C does (checkpoint included) and exits 143.


def test_sigterm_while_fine_tuning_checkpoints_and_exits_143(tiny_distilbert, sst2_dir, tmp_path, monkeypatch, capsys):
    from bertsent.cli.common import Progress

    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    steps = []

    def training(progress, update):
        if update.stage != "fine-tuning":
            return
        steps.append(update.done)
        if update.done == 3:
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Progress, "job", training)
    args = finetune_args(tiny_distilbert, sst2_dir, tmp_path / "ft")
    assert main(args) == 143
    err = one_line_error(capsys, 143, 143)
    assert "fine-tuning stopped at step 3 of 10; run again to resume" in err and "embeddings" not in err
    assert len(list((tmp_path / "cache" / "finetune").glob("*.pt"))) == 1
    steps.clear()

    def count(progress, update) -> None:
        if update.stage == "fine-tuning":
            steps.append(update.done)

    monkeypatch.setattr(Progress, "job", count)
    assert main(args) == 0 and steps == list(range(4, 11))


def test_sigterm_that_a_command_turns_into_cancelled_still_exits_143(small_model_dir, tmp_path, monkeypatch, capsys):
    from bertsent.cli.common import Progress

    source = tmp_path / "in.txt"
    source.write_text("\n".join(SENTENCES * 50) + "\n")

    def rows(progress, update):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Progress, "job", rows)
    args = ["label", str(source), "--model", str(small_model_dir), "--out", str(tmp_path / "out.jsonl")]
    assert main([*args, "--window-rows", "10"]) == 143
    assert "Traceback" not in capsys.readouterr().err


def test_sigterm_while_mapping_exits_143(small_model_dir, tmp_path, monkeypatch, capsys):
    def forward(embedder, batch):
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(Embedder, "forward", forward)
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))  # nothing cached: it must embed
    data = labelled_file(tmp_path, ["0", "1"] * 5)
    done = main(["map", "--model", str(small_model_dir), "--data", str(data)])
    assert "terminated" in one_line_error(capsys, 143, done)


# F. Destinations are checked before the work; map refuses what evaluate refuses.


@pytest.mark.parametrize("out", [".", "a_file/x.joblib"])
def test_export_to_a_folder_is_refused_before_loading(small_model_dir, tmp_path, monkeypatch, capsys, out):
    (tmp_path / "a_file").write_text("x")
    monkeypatch.chdir(tmp_path)

    def must_not_load(*args, **kwargs):
        raise AssertionError("the model was loaded before the destination was checked")

    monkeypatch.setattr("bertsent.core.models.persist.load_model", must_not_load)
    err = one_line_error(capsys, 2, main(["export", "--model", str(small_model_dir), "--out", out]))
    assert ".part" not in err and "--out" in err


def test_map_refuses_labels_that_are_not_the_models_classes(small_model_dir, tmp_path, capsys):
    data = labelled_file(tmp_path, ["good", "bad", "meh"] * 3)
    err = one_line_error(capsys, 2, main(["map", "--model", str(small_model_dir), "--data", str(data)]))
    assert "is not one of the classes of the model" in err


# G. label_names must be the names of classes.


@pytest.mark.parametrize("names", [["positive", "negative"], ["negative"], ["negative", "positive", "neutral"]])
def test_label_names_that_are_not_the_classes_names_are_refused(small_model_dir, tmp_path, names):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    meta = json.loads((folder / META).read_text())
    meta["label_names"] = names
    meta["checksum"] = meta_checksum(meta)
    (folder / META).write_text(jsonio.dumps(meta))
    with pytest.raises(ModelFileError, match="label_names"):
        load_model(folder)


# Rules pinned directly.


@pytest.mark.parametrize(("agreement", "allowed"), [(0.9899, False), (0.9901, True), (0.95, False), (1.0, True)])
def test_fast_path_needs_99_percent_agreement(agreement, allowed):
    from bertsent.core.models.fastpath import keeps_decisions as fast_path_allowed

    assert fast_path_allowed(0.0, agreement) is allowed
    assert fast_path_allowed(0.0031, 1.0) is False and fast_path_allowed(-0.003, 1.0) is True


def test_multiclass_token_scores_are_the_drop_of_the_scored_class(three_classes):
    text = "a warm and funny film"
    for scored in ("neg", "neu", "pos"):
        prediction = three_classes.explain(text, scored=scored)
        column = three_classes.classes.index(scored)
        ids = three_classes.encoder.encode_ids([text])[0][0]
        without_first = ids[:1] + ids[2:]
        proba = three_classes.proba_ids([ids, without_first])[:, column]
        assert prediction.tokens[0].score == pytest.approx(proba[0] - proba[1], abs=1e-6)
        assert prediction.scored == scored
    from bertsent.core.models.explain import display_axis

    assert display_axis(prediction)[0] == 1  # more than two classes: green is towards the class scored


def test_sentence_map_projects_the_standardized_vectors(encoder, tmp_path):
    from bertsent.core.analyses.inside import sentence_map
    from sklearn.decomposition import PCA

    dim = encoder.hidden_size
    arrays = {"mean": np.linspace(-1, 1, dim), "scale": np.linspace(0.05, 2, dim)}  # far from identity
    arrays |= {"coef": np.ones((3, dim)), "intercept": np.zeros(3), "classes": np.asarray(["neg", "neu", "pos"])}
    model = SentimentModel(Embedder(encoder, "mean", cache=False), SentimentClassifier.from_arrays(arrays))
    dataset = load_dataset(labelled_file(tmp_path, ["neg", "neu", "pos"] * 4))
    result = sentence_map(model, dataset)
    vectors = model.embedder.embed(dataset.texts)
    standardized = PCA(n_components=2, random_state=0).fit_transform(model.classifier.standardize(vectors))
    raw = PCA(n_components=2, random_state=0).fit_transform(vectors)
    assert np.allclose(np.abs(result.xy), np.abs(standardized), atol=1e-6)
    assert not np.allclose(np.abs(result.xy), np.abs(raw), atol=1e-3)


def test_the_embedding_cache_key_includes_the_precision(encoder):
    from bertsent.core.models.fastpath import fast_copy

    fast = fast_copy(encoder)
    assert fast.fingerprint == encoder.fingerprint and fast.precision != encoder.precision
    assert Embedder(fast).cache_key != Embedder(encoder).cache_key


def test_the_decision_rule_is_the_most_probable_class_first_on_ties():
    proba = np.asarray([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.2, 0.7], [0.6, 0.4, 0.0], [0.3, 0.35, 0.35]])
    assert decide(proba).tolist() == [1, 0, 2, 0, 1]
    assert decide(np.asarray([0.45, 0.55])).tolist() == 1
    assert decide(np.asarray([0.5, 0.5])).tolist() == 0  # two classes too: a tie is the first, not "p >= 0.5"


def test_a_tie_goes_to_the_first_class_in_model_and_labelling(encoder, tmp_path):
    from bertsent.core.labelling.label import label_file

    classes = np.asarray(["b_second", "a_first", "c_third"])
    classes.sort()
    flat = SentimentClassifier.from_linear(np.zeros((3, encoder.hidden_size)), np.zeros(3), classes)
    model = SentimentModel(Embedder(encoder, "mean", cache=False), flat)
    assert model.predict(["a fine film", "dull"]).tolist() == ["a_first", "a_first"]
    assert model.explain("a fine film").label == "a_first"
    source = tmp_path / "in.txt"
    source.write_text("a fine film\ndull\n")
    label_file(model, source, tmp_path / "out.jsonl")
    rows = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [row["label"] for row in rows] == ["a_first", "a_first"]


def test_align_labels_uses_the_same_rule_as_loading(tmp_path):
    model_classes = ClassSet.of(as_labels(["0", "1"]))
    for written in (["01", "1"], ["+1", "0"], ["-0", "1"]):
        dataset = load_dataset(labelled_file(tmp_path, written * 2))
        with pytest.raises(DataError, match="is not one of the classes"):
            align_labels(dataset, model_classes)
    assert align_labels(load_dataset(labelled_file(tmp_path, ["1", "0"] * 2)), model_classes).labels.dtype == np.int64
