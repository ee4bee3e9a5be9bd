"""Fault injection: SIGTERM and SIGINT during embedding, training and saving, and two processes
saving into one folder at once. Afterwards the model folder is the old model or the new one, and
it loads; a signal ends the command with one line and 143 (SIGTERM) or 130 (SIGINT)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import warm
from bertsent.core.models.persist import load_model, read_meta

REPO = Path(__file__).resolve().parents[1]

# Runs `bertsent ARGS` with a pause at the start of one stage, announced on stdout, so the
# signal is sent while that stage is running (time.sleep wakes for a signal at once).
STAGED_CLI = """
import sys, time
stage, args = sys.argv[1], sys.argv[2:]

def announced(function, after=1):
    calls = []
    def wrapper(*a, **k):
        calls.append(1)
        if len(calls) == after:
            print("stage", stage, flush=True)
            time.sleep(60)
        return function(*a, **k)
    return wrapper

import bertsent.core.models.classifier as classifier, bertsent.core.models.persist as persist
import bertsent.core.encoding.embed as embed
import bertsent.core.labelling.label as label
if stage == "embedding":
    embed.Embedder.forward = announced(embed.Embedder.forward, after=3)  # two batches done
elif stage == "training":
    classifier.SentimentClassifier.fit = announced(classifier.SentimentClassifier.fit)
elif stage == "saving":
    persist.atomic_write_text = announced(persist.atomic_write_text)  # the classifier file is written
elif stage == "labelling":
    label.label_rows = announced(label.label_rows)
from bertsent.cli.main import main
sys.exit(main(args))
"""


@pytest.fixture
def old_model(small_model_dir, tmp_path):
    folder = tmp_path / "model"
    shutil.copytree(small_model_dir, folder)
    return folder


# Each stage once and each signal at least twice (both reach the same handler): each case is a
# process (forked warm: tests/warm.py) that loads the encoder and embeds.
@pytest.mark.parametrize(
    ("stage", "signum", "status", "said"),
    [
        ("embedding", signal.SIGTERM, 143, "terminated"),
        ("training", signal.SIGINT, 130, "interrupted"),
        ("saving", signal.SIGTERM, 143, "terminated"),
        ("saving", signal.SIGINT, 130, "interrupted"),
    ],
)
def test_signal_mid_stage_ends_cleanly_and_leaves_a_model_that_loads(
    sst2_dir, old_model, encoder, tmp_path, stage, signum, status, said
):  # fmt: skip
    old = read_meta(old_model)["checksum"]
    cache = tmp_path / "cache"
    args = ["train", "--data", str(sst2_dir), "--limit", "60", "--pooling", "cls", "--no-cv", "--C", "1"]
    process = warm.Popen(
        [sys.executable, "-c", STAGED_CLI, stage, *args, "--out", str(old_model)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BERTSENT_CACHE": str(cache)},
    )
    assert process.stdout.readline().strip() == f"stage {stage}", process.stderr.read()
    process.send_signal(signum)
    assert process.wait(timeout=120) == status
    err = process.stderr.read()
    assert err.startswith(f"bertsent: {said}") and len(err.strip().splitlines()) == 1, err
    assert read_meta(old_model)["checksum"] == old  # nothing new was complete: the old model, whole
    assert not list(old_model.glob(".*.part")) and load_model(old_model, encoder=encoder).model
    if stage == "embedding":  # the batches finished before the signal were flushed to the cache
        assert list(cache.glob("embeddings/*/*.npz"))


@pytest.mark.parametrize(
    ("signum", "status", "said"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")]
)
def test_signal_while_labelling_ends_with_one_line_and_its_own_status(
    small_model_dir, tmp_path, signum, status, said
):  # fmt: skip
    (tmp_path / "in.csv").write_text("id,review\n1,a fine film\n2,a dull film\n", encoding="utf-8")
    args = ["label", str(tmp_path / "in.csv"), "--model", str(small_model_dir), "--out", str(tmp_path / "o.csv")]
    process = warm.Popen(
        [sys.executable, "-c", STAGED_CLI, "labelling", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout.readline().strip() == "stage labelling", process.stderr.read()
    process.send_signal(signum)
    assert process.wait(timeout=120) == status
    err = process.stderr.read()
    assert err == f"bertsent: {said}; finished parts are kept, run the same command again to resume\n"
    assert not (tmp_path / "o.csv").exists()


SAVER = """
import sys, time
from pathlib import Path
from bertsent.core.models.persist import load_model, save_model

source, target, shift, go = sys.argv[1:]
saved = load_model(source)
saved.model.classifier.intercept_ = saved.model.classifier.intercept_ + float(shift)
print("ready", flush=True)
while not Path(go).exists():  # polled, not spun: the first one ready would hold a core while the other starts
    time.sleep(0.001)
for _ in range(25):
    save_model(saved.model, target, report=saved.report)
"""


def test_two_processes_saving_into_one_folder_leave_one_whole_model(small_model_dir, encoder, tmp_path):
    target, go = tmp_path / "model", tmp_path / "go"
    shutil.copytree(small_model_dir, target)
    texts = ["a fine film", "a dull film"]
    base = load_model(small_model_dir, encoder=encoder).model
    writers = [
        warm.Popen(
            [sys.executable, "-c", SAVER, str(small_model_dir), str(target), shift, str(go)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for shift in ("1", "-1")
    ]
    for writer in writers:
        assert writer.stdout.readline().strip() == "ready", writer.stderr.read()
    go.touch()  # both start saving at the same moment
    loads = 0
    while any(writer.poll() is None for writer in writers):
        load_model(target, encoder=encoder)  # a reader meanwhile always finds a whole model
        loads += 1
    assert [writer.wait() for writer in writers] == [0, 0], [w.stderr.read()[-2000:] for w in writers]
    meta = read_meta(target)
    assert sorted(p.name for p in target.iterdir()) == sorted([meta["classifier"], "model.json"])
    final = load_model(target, encoder=encoder).model.classifier.decision_function(base.embedder.embed(texts))
    reference = base.classifier.decision_function(base.embedder.embed(texts))
    assert any(np.allclose(final, reference + shift) for shift in (1, -1))
    assert loads > 0
