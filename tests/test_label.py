"""Bulk labelling: every row and column kept in order, bad rows marked, kill -9 and resume byte for byte."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import warm
from bertsent.core.data.dataset import load_dataset
from bertsent.core.labelling.label import label_file
from bertsent.core.models.persist import load_model

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def model(small_model_dir):
    return load_model(small_model_dir).model


def _sst2_csv(sst2_dir: Path, path: Path, n: int) -> list[str]:
    texts = load_dataset(sst2_dir / "test.tsv").texts[:n]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review"])
        writer.writerows([i, t] for i, t in enumerate(texts))
    return texts


def _shards() -> list[Path]:
    return sorted(Path(os.environ["BERTSENT_CACHE"]).rglob("*.npz"))


def test_csv_keeps_every_row_and_column_in_order_and_labels_as_predict_does(model, sst2_dir, tmp_path, monkeypatch):
    texts = _sst2_csv(sst2_dir, tmp_path / "in.csv", 300)
    with open(tmp_path / "in.csv", "a", encoding="utf-8") as handle:  # bad rows at the end
        handle.write('300,""\n301\n302,"a quoted\nline break, still fine"\n')
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))  # its own: other workers write the session's
    result = label_file(model, tmp_path / "in.csv", tmp_path / "out.csv", all_probabilities=True, window_rows=64)
    assert _shards() == []  # nothing labelled goes into the embedding cache
    assert (result.rows, result.bad, result.format) == (303, 2, "csv")
    with open(tmp_path / "out.csv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    header = ["id", "review", "label", "probability", "probability_negative", "probability_positive", "error"]
    assert list(rows[0]) == header and len(rows) == 303
    assert [r["review"] for r in rows[:300]] == texts and [r["id"] for r in rows[:300]] == [str(i) for i in range(300)]
    expected = model.predict_proba(texts + ["a quoted\nline break, still fine"])
    got = np.array([[float(r["probability_negative"]), float(r["probability_positive"])] for r in rows if r["label"]])
    np.testing.assert_allclose(got, expected, atol=2e-6)
    names = np.array(["negative", "positive"])[expected.argmax(axis=1)]
    assert [r["label"] for r in rows if r["label"]] == names.tolist()
    assert all(float(r["probability"]) >= 0.5 for r in rows if r["label"])
    assert rows[300]["error"] == "line 302: empty sentence" and rows[300]["id"] == "300"
    assert rows[301]["error"].startswith("line 303: missing column") and rows[301]["label"] == ""
    assert rows[302]["error"] == "" and rows[302]["label"]
    assert not (tmp_path / "out.csv.parts").exists()


def test_jsonl_keeps_value_types_and_a_label_column_in_the_input_is_not_overwritten(model, tmp_path):
    source = tmp_path / "in.jsonl"
    source.write_text('{"text": "a lovely film", "label": 1, "meta": {"n": [1, 2]}}\n{"text": 3}\n', encoding="utf-8")
    label_file(model, source, tmp_path / "out.jsonl")
    first, second = (json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines())
    assert first["label"] == 1 and first["meta"] == {"n": [1, 2]}
    assert first["predicted_label"] == "positive" and first["error"] is None
    assert second["predicted_label"] is None and second["error"] == "line 2: not text"


def test_a_damaged_part_or_changed_input_is_recomputed_and_other_settings_start_over(model, sst2_dir, tmp_path):
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _sst2_csv(sst2_dir, source, 120)
    label_file(model, source, out, window_rows=40)
    expected = out.read_bytes()
    parts = tmp_path / "out.csv.parts"

    def stop_before_joining(p):  # every window written, the parts not yet joined into the output
        if p.done == 120 and len(json.loads((parts / "journal.json").read_text())["parts"]) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_file(model, source, out, window_rows=40, progress=stop_before_joining)
    (parts / "part-000001").write_bytes(b"damaged")
    result = label_file(model, source, out, window_rows=40)
    assert result.resumed == 80 and out.read_bytes() == expected and not parts.exists()
    with pytest.raises(KeyboardInterrupt):
        label_file(model, source, out, window_rows=40, progress=stop_before_joining)
    source.write_text(source.read_text().replace("\n1,", "\n1,changed "), encoding="utf-8")
    result = label_file(model, source, out, window_rows=40)
    assert result.resumed == 80 and not result.restarted  # window 0 changed: recomputed, 1 and 2 reused
    with pytest.raises(KeyboardInterrupt):
        label_file(model, source, out, window_rows=40, progress=stop_before_joining)
    result = label_file(model, source, out, window_rows=40, all_probabilities=True)
    assert result.resumed == 0 and result.restarted


def test_kill_9_mid_run_then_rerun_gives_the_uninterrupted_bytes(small_model_dir, sst2_dir, tmp_path, cli):
    source = tmp_path / "in.csv"
    _sst2_csv(sst2_dir, source, 600)
    command = [sys.executable, "-m", "bertsent.cli", "label", str(source), "--model", str(small_model_dir)]
    command += ["--window-rows", "75"]
    reference = tmp_path / "reference.csv"  # the uninterrupted bytes, from this process
    assert cli(*command[3:], "--out", str(reference)).returncode == 0
    out = tmp_path / "out.csv"
    journal = Path(f"{out}.parts") / "journal.json"
    process = warm.Popen([*command, "--out", str(out)], cwd=REPO, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if journal.is_file() and len(json.loads(journal.read_text())["parts"]) >= 3:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not out.exists() and journal.is_file()
    done = cli(*command[3:], "--out", str(out))  # the rerun: in this process, as the reference was
    assert done.returncode == 0, done.stderr[-2000:]
    assert "from the interrupted run" in done.stderr
    assert out.read_bytes() == reference.read_bytes()
    assert not Path(f"{out}.parts").exists()


def test_cli_errors_are_one_line(small_model_dir, tmp_path, cli):
    (tmp_path / "in.jsonl").write_text('{"id": 1, "body": "x"}\n')
    done = cli("label", str(tmp_path / "in.jsonl"), "--model", str(small_model_dir), "--out", str(tmp_path / "out.csv"))
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "--text-column" in done.stderr
