"""model.json and the classifier arrays, edited by hand or by an attacker: a loaded model or one
line (ModelFileError, exit 2), never a traceback, never a silent change of predictions."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import shutil

import numpy as np
import pytest
from bertsent.cli.main import main
from bertsent.core.base.errors import ModelFileError
from bertsent.core.base.schema import Num, Obj, Str
from bertsent.core.models.persist import MODEL_SCHEMA, load_model, meta_checksum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TEXTS = ["a charming , funny film .", "tedious and overlong ."]
HOSTILE = [
    "bogus", "", "int8", "fp32", "cls", "mean", "layers", "x" * 5000, -1, 0, 1, 2**70, 1e308, 0.5,
    float("nan"), True, None, [], {}, [1, 2], {"a": 1}, "classifier-0000000000000000.npz", "../model.json",
    "encoder-0123456789abcdef", "0" * 64, 4, 64,
]  # fmt: skip


def leaf_paths(value, path=()):
    """Every key path in a JSON document, containers included."""
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaf_paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaf_paths(item, (*path, index))


@pytest.fixture(scope="module")
def cls_model_dir(encoder, tmp_path_factory):
    """A model on [CLS] vectors, where a pooling edit to "mean" keeps the shape: only the
    checksum can tell. Random weights: it only has to give different predictions."""
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.models.classifier import SentimentClassifier
    from bertsent.core.models.model import SentimentModel
    from bertsent.core.models.persist import save_model

    rng = np.random.default_rng(0)
    dim = encoder.hidden_size
    arrays = {"mean": np.zeros(dim), "scale": np.ones(dim), "coef": rng.normal(size=(1, dim)),
              "intercept": np.zeros(1), "classes": np.array([0, 1])}  # fmt: skip
    model = SentimentModel(Embedder(encoder, "cls", cache=False), SentimentClassifier.from_arrays(arrays))
    return save_model(model, tmp_path_factory.mktemp("cls") / "m")


@pytest.fixture(scope="module", params=["layers", "cls"])
def original(request, small_model_dir, cls_model_dir, encoder):
    folder = small_model_dir if request.param == "layers" else cls_model_dir
    meta = json.loads((folder / "model.json").read_text())
    proba = load_model(folder, encoder=encoder).model.predict_proba(TEXTS)
    return folder, meta, sorted((path for path in leaf_paths(meta) if path), key=repr), proba


def spec_at(path: tuple):
    """The schema spec of the field at ``path`` (None inside free-form parts)."""
    spec = MODEL_SCHEMA
    for key in path:
        spec = spec.fields.get(key) if isinstance(spec, Obj) else getattr(spec, "value", getattr(spec, "item", None))
        spec = getattr(spec, "spec", spec)  # inside Nullable
        if spec is None:
            return None
    return spec


def valid_values(spec) -> st.SearchStrategy:
    """Values the schema accepts for ``spec``: the edits a careful user (or attacker) would make."""
    if isinstance(spec, Str) and spec.choices:
        return st.sampled_from(spec.choices)
    if isinstance(spec, Num):
        low, high = max(spec.low, -1e9), min(spec.high, 1e9)
        return st.integers(int(low), int(high)) if spec.integer else st.floats(low, high)
    return st.sampled_from(HOSTILE)


def apply(meta: dict, path: tuple, action: str, value) -> dict:
    meta = copy.deepcopy(meta)
    *parents, last = path
    target = meta
    for key in parents:
        target = target[key]
    if action == "delete":
        del target[last]
    elif action == "add" and isinstance(target[last], dict):
        target[last]["unexpected"] = value
    else:
        target[last] = value
    return meta


def check_load(folder, encoder, expected) -> None:
    """Loaded (with the same predictions, or a note saying why not) or refused in one line."""
    try:
        saved = load_model(folder, encoder=encoder)
    except ModelFileError as error:
        assert "\n" not in str(error) and str(error)
        return
    proba = saved.model.predict_proba(TEXTS)
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
    if saved.notes:  # a deliberate, reported change: precision
        assert "precision" in saved.notes[0]
        assert saved.meta["encoder"]["precision"] != saved.meta["encoder"]["trained_precision"]
    else:
        np.testing.assert_array_equal(proba, expected)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data(), action=st.sampled_from(["set", "set", "delete", "add"]), resign=st.booleans())
def test_edited_model_json_loads_unchanged_or_is_refused(encoder, original, tmp_path_factory, data, action, resign):
    source, meta, paths, expected = original
    what_predicts = [
        path for path in paths if path[0] in ("encoder", "pooling", "classes", "label_names", "classifier", "files")
    ]
    path = data.draw(st.sampled_from(what_predicts) | st.sampled_from(paths), label="path")
    value = data.draw(valid_values(spec_at(path)) | st.sampled_from(HOSTILE), label="value")
    edited = apply(meta, path, action, value)
    if resign:  # someone who knows the format recomputes the checksum; the schema still holds
        edited["checksum"] = meta_checksum(edited) if isinstance(edited, dict) else None
    folder = tmp_path_factory.mktemp("edited")
    shutil.copytree(source, folder, dirs_exist_ok=True)
    (folder / "model.json").write_text(json.dumps(edited))
    if resign:
        try:
            load_model(folder, encoder=encoder)
        except ModelFileError as error:
            assert "\n" not in str(error)
    else:
        check_load(folder, encoder, expected)


def resigned(folder, edit) -> None:
    """Apply ``edit`` to model.json and recompute its checksum, as someone who knows the format would."""
    meta = json.loads((folder / "model.json").read_text())
    edit(meta)
    meta["checksum"] = meta_checksum(meta)
    (folder / "model.json").write_text(json.dumps(meta))


def test_a_report_without_classes_reads_the_models_classes(small_model_dir, encoder, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    resigned(folder, lambda meta: meta["report"].pop("classes"))  # re-signed by hand
    saved = load_model(folder, encoder=encoder)
    assert saved.report.classes == saved.meta["classes"] == [0, 1]


@pytest.mark.parametrize(
    "edit",
    [
        lambda report: report.update(classes=["a", "b"]),
        lambda report: report.update(confusion=report["confusion"][:1]),
        lambda report: report["confusion"][0].append(0),
        lambda report: report["per_class"].popitem(),
        lambda report: report.update(per_class=dict(zip("xy", report["per_class"].values(), strict=True))),
        lambda report: report.update(C=None),
        lambda report: report.update(cv={"Cs": [0.01, 0.1], "scores": [0.7], "folds": 5}),
        lambda report: report.update(cv={"Cs": [], "scores": [], "folds": 5}),
    ],
    ids=[
        "other classes",
        "a confusion row short",
        "a confusion column more",
        "a class row short",
        "class rows renamed",
        "no C",
        "a C curve of unequal lists",
        "an empty C curve",
    ],  # fmt: skip
)
def test_a_report_that_does_not_cover_the_models_classes_is_refused(small_model_dir, encoder, tmp_path, edit):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    resigned(folder, lambda meta: edit(meta["report"]))
    with pytest.raises(ModelFileError, match="report does not cover its|report's classes differ|C curve") as error:
        load_model(folder, encoder=encoder)
    assert "\n" not in str(error.value)


def test_precision_may_be_edited_and_is_reported(small_model_dir, encoder, tmp_path, capsys):
    if encoder.device != "cpu":
        pytest.skip("the edit asks for bf16 on the CPU")
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    meta = json.loads((folder / "model.json").read_text())
    meta["encoder"]["precision"] = "bf16"
    (folder / "model.json").write_text(json.dumps(meta))
    saved = load_model(folder, encoder=encoder)
    assert saved.model.encoder.precision == "bf16"
    assert saved.notes == (f"{folder}: runs at bf16 precision (trained and evaluated at fp32, as set in model.json); "
                           "predictions may differ slightly",)  # fmt: skip
    assert main(["predict", "--model", str(folder), "--no-scores", "fine"]) == 0
    assert "note:" in capsys.readouterr().err


def as_older_bertsent_saved_it(folder, *, trained: str, precision: str, fast_path: dict | None) -> None:
    """Rewrite model.json as an older bertsent wrote it (precisions it offered), checksum and all."""

    def older(meta: dict) -> None:
        meta["encoder"].update(trained_precision=trained, precision=precision)
        meta["fast_path"] = fast_path

    resigned(folder, older)


def test_an_int8_model_of_an_older_bertsent_predicts_at_fp32_with_one_note(labelled_data, tiny_encoder, tmp_path,
                                                                          capsys):  # fmt: skip
    data, classes = labelled_data
    folder = tmp_path / "old"
    assert main(["train", "--data", str(data), "--encoder", str(tiny_encoder), "--out", str(folder), "--json"]) == 0
    capsys.readouterr()
    as_older_bertsent_saved_it(folder, trained="int8", precision="int8", fast_path=None)  # int8 had no check
    saved = load_model(folder)
    assert saved.model.encoder.precision == "fp32"
    note = (f"{folder}: int8 precision is no longer offered (it changed too many labels); runs at fp32 "
            "(trained and evaluated at int8): predictions may differ slightly")  # fmt: skip
    assert saved.notes == (note,)
    sentence = "a good film, nice and pleasant"
    assert main(["predict", "--model", str(folder), "--json", "--no-scores", sentence]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["label"] in classes
    assert captured.err.strip().splitlines() == [f"bertsent: note: {note}"]


@pytest.mark.parametrize("machine", ["bf16", "fp32"])
def test_an_fp32_model_edited_to_int8_runs_at_the_fast_path_its_check_allows(small_model_dir, tmp_path, monkeypatch,
                                                                             machine):  # fmt: skip
    from bertsent.core.models import fastpath
    from bertsent.core.models.fastpath import FastPathCheck, MachineChoice

    monkeypatch.setattr(fastpath, "machine_choice", lambda: MachineChoice(machine, "test", "cpu", (), 1.0, 2.0))
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    check = FastPathCheck("bf16", 0.85, 0.85, 1.0, 200, allowed=True, reason="as fp32 on 200 sentences")
    as_older_bertsent_saved_it(folder, trained="fp32", precision="int8", fast_path=check.to_dict())
    saved = load_model(folder, device="cpu")
    assert saved.model.encoder.precision == machine
    assert saved.notes == (f"{folder}: int8 precision is no longer offered (it changed too many labels); runs at "
                           f"{machine}",)  # fmt: skip
    proba = saved.model.predict_proba(TEXTS)
    assert proba[0, 1] > 0.5 > proba[1, 1]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        (("pooling",), "bogus"),
        (("pooling",), "mean"),
        (("encoder", "max_length"), 4),
        (("label_names", 0), "positive"),
        (("classes", 1), 7),
    ],
)
def test_edits_that_change_predictions_exit_2_in_one_line(cls_model_dir, tmp_path, capsys, field, value):
    folder = tmp_path / "m"
    shutil.copytree(cls_model_dir, folder)
    meta = json.loads((folder / "model.json").read_text())
    (folder / "model.json").write_text(json.dumps(apply(meta, field, "set", value)))
    assert main(["predict", "--model", str(folder), "--no-scores", "fine"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "refusing to load" in err


def test_every_field_written_is_in_the_schema(small_model_dir):
    meta = json.loads((small_model_dir / "model.json").read_text())
    MODEL_SCHEMA.check(meta, "model.json")
    assert set(meta) == set(MODEL_SCHEMA.fields)


# Classifier arrays with a matching checksum (files list and model.json re-signed)

MUTATIONS = {
    "slice coef": lambda a: {**a, "coef": a["coef"][:, :-1]},
    "transpose coef": lambda a: {**a, "coef": a["coef"].T},
    "zero scale": lambda a: {**a, "scale": np.where(np.arange(a["scale"].size) == 3, 0.0, a["scale"])},
    "negative scale": lambda a: {**a, "scale": -a["scale"]},
    "nan mean": lambda a: {**a, "mean": np.full_like(a["mean"], np.nan)},
    "inf intercept": lambda a: {**a, "intercept": np.array([np.inf])},
    "2-d intercept": lambda a: {**a, "intercept": a["intercept"].reshape(1, 1)},
    "int coef": lambda a: {**a, "coef": a["coef"].astype(np.int64)},
    "complex coef": lambda a: {**a, "coef": a["coef"].astype(np.complex128)},
    "string classes": lambda a: {**a, "classes": np.array(["neg", "pos"])},
    "classes reversed": lambda a: {**a, "classes": a["classes"][::-1]},
    "three classes": lambda a: {**a, "classes": np.array([0, 1, 2])},
    "classes 3 and 7": lambda a: {**a, "classes": np.array([3, 7])},
    "no intercept": lambda a: {k: v for k, v in a.items() if k != "intercept"},
    "extra array": lambda a: {**a, "extra": np.zeros(2)},
    "C zero": lambda a: {**a, "C": np.array([0.0])},
    "C matrix": lambda a: {**a, "C": np.ones((2, 2))},
    "short mean": lambda a: {**a, "mean": a["mean"][:10], "scale": a["scale"][:10], "coef": a["coef"][:, :10]},
    "empty": lambda a: {},
}


def resign_arrays(folder, arrays) -> None:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)

    def new_arrays(meta: dict) -> None:
        (folder / meta["classifier"]).write_bytes(buffer.getvalue())
        meta["files"][meta["classifier"]] = hashlib.sha256(buffer.getvalue()).hexdigest()

    resigned(folder, new_arrays)


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_classifier_arrays_of_the_wrong_shape_or_values_are_refused(small_model_dir, encoder, tmp_path, mutation):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    meta = json.loads((folder / "model.json").read_text())
    arrays = dict(np.load(folder / meta["classifier"]))
    resign_arrays(folder, MUTATIONS[mutation](arrays))
    with pytest.raises(ModelFileError, match="refusing to load") as refused:
        load_model(folder, encoder=encoder)
    assert "\n" not in str(refused.value)


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(["mean", "scale", "coef", "intercept", "classes", "C"]),
    values=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=0, max_size=6),
    dtype=st.sampled_from(["float64", "float32", "int64", "uint8", "bool", "complex64", "U3"]),
    shape=st.sampled_from(["same", "flat", "row", "column"]),
)
def test_arbitrary_classifier_arrays_load_or_are_refused(
    small_model_dir, encoder, tmp_path_factory, name, values, dtype, shape
):
    folder = tmp_path_factory.mktemp("arrays")
    shutil.copytree(small_model_dir, folder, dirs_exist_ok=True)
    meta = json.loads((folder / "model.json").read_text())
    arrays = dict(np.load(folder / meta["classifier"]))
    original = arrays[name] if name in arrays else np.zeros(1)
    array = np.resize(np.asarray(values or [0.0]), original.size if shape == "same" else len(values))
    with np.errstate(all="ignore"):
        array = array.astype(dtype)
    same = array.reshape(original.shape) if array.size == original.size else array
    shapes = {"same": same, "flat": array.ravel(), "row": array.reshape(1, -1), "column": array.reshape(-1, 1)}
    arrays[name] = shapes[shape]
    resign_arrays(folder, arrays)
    try:
        saved = load_model(folder, encoder=encoder)
    except ModelFileError as error:
        assert "\n" not in str(error)
        return
    proba = saved.model.predict_proba(TEXTS)  # a valid (different) model: it must work
    assert proba.shape == (2, 2) and np.isfinite(proba).all()
