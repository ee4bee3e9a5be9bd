"""Model folders: round trip, integrity, tampering, wrong encoder, no code execution."""

import hashlib
import io
import json
import shutil

import numpy as np
import pytest
from bertsent.core.base.errors import ModelFileError
from bertsent.core.models.persist import FORMAT, load_model, meta_checksum, read_meta, save_model


@pytest.fixture
def model_copy(small_model_dir, tmp_path):
    folder = tmp_path / "m"
    shutil.copytree(small_model_dir, folder)
    return folder


def classifier_path(folder):
    return folder / json.loads((folder / "model.json").read_text())["classifier"]


def write_meta(folder, meta):
    """Write ``meta`` with a matching checksum: an edit made by someone who knows the format."""
    meta["checksum"] = meta_checksum(meta)
    (folder / "model.json").write_text(json.dumps(meta))


def test_round_trip_gives_the_same_predictions(small_result, small_model_dir, encoder):
    saved = load_model(small_model_dir, encoder=encoder)
    texts = ["a charming , funny film .", "tedious and overlong ."]
    np.testing.assert_allclose(saved.model.predict_proba(texts), small_result.model.predict_proba(texts), atol=1e-6)
    assert saved.report.accuracy == small_result.report.accuracy
    assert saved.meta["encoder"]["name"] == "minilm" and saved.meta["pooling"] == "layers"
    assert len(saved.meta["data_sha256"]) == 64


def test_changed_file_is_refused(model_copy, encoder):
    path = classifier_path(model_copy)
    data = bytearray(path.read_bytes())
    data[-40] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="checksum mismatch"):
        load_model(model_copy, encoder=encoder)


def test_missing_and_truncated_files_are_refused(model_copy, encoder, tmp_path):
    classifier_path(model_copy).unlink()
    with pytest.raises(ModelFileError, match=r"missing classifier-[0-9a-f]{16}\.npz"):
        load_model(model_copy, encoder=encoder)
    (model_copy / "model.json").write_text('{"format": 1, "fil')
    with pytest.raises(ModelFileError, match="damaged"):
        load_model(model_copy, encoder=encoder)
    with pytest.raises(ModelFileError, match="no such model folder"):
        load_model(tmp_path / "absent")
    with pytest.raises(ModelFileError, match="not a bertsent model folder"):
        load_model(tmp_path)


def test_other_format_version_is_refused(model_copy, encoder):
    meta = json.loads((model_copy / "model.json").read_text())
    meta["format"] = 99
    (model_copy / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFileError, match="format 99"):
        load_model(model_copy, encoder=encoder)


def test_other_encoder_weights_are_refused(model_copy, encoder):
    meta = json.loads((model_copy / "model.json").read_text())
    meta["encoder"]["fingerprint"] = "0" * 64
    write_meta(model_copy, meta)
    with pytest.raises(ModelFileError, match="weights differ"):
        load_model(model_copy, encoder=encoder)


class _Boom:
    def __reduce__(self):
        return (exec, ("import pathlib; pathlib.Path('PWNED').write_text('x')",))


def test_a_pickle_planted_in_the_folder_never_runs(model_copy, encoder, tmp_path, monkeypatch):
    """Even with its checksum updated, an object array is refused, not unpickled."""
    monkeypatch.chdir(tmp_path)
    path = classifier_path(model_copy)
    arrays = dict(np.load(path))
    arrays["coef"] = np.array([_Boom()], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    meta = json.loads((model_copy / "model.json").read_text())
    meta["files"][path.name] = hashlib.sha256(buffer.getvalue()).hexdigest()
    write_meta(model_copy, meta)
    with pytest.raises(ModelFileError, match="damaged classifier"):
        load_model(model_copy, encoder=encoder)
    assert not (tmp_path / "PWNED").exists()


def test_saving_over_a_model_replaces_it_whole(small_result, model_copy):
    save_model(small_result.model, model_copy, report=small_result.report)
    assert read_meta(model_copy)["format"] == FORMAT
    assert sorted(p.name for p in model_copy.parent.iterdir()) == ["m"]
    assert sorted(p.name for p in model_copy.iterdir()) == sorted([read_meta(model_copy)["classifier"], "model.json"])


def test_model_json_is_replaced_whole_not_rewritten_in_place(small_result, model_copy):
    """A reader that opened ``model.json`` before a save still reads the complete old file: the new
    one arrives by rename, so no reader (and no crash mid-save) ever sees half of each."""
    with open(model_copy / "model.json", "rb") as reader:
        save_model(small_result.model, model_copy, report=None)
        old = json.loads(reader.read())
    assert old["report"] is not None and read_meta(model_copy)["report"] is None
    assert not list(model_copy.glob(".*.part"))


def test_refuses_to_overwrite_a_foreign_folder(small_result, tmp_path):
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.txt").write_text("keep me")
    with pytest.raises(ModelFileError, match="not a bertsent model folder"):
        save_model(small_result.model, tmp_path / "precious")
    assert (tmp_path / "precious" / "thesis.txt").read_text() == "keep me"
