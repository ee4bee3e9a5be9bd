"""Interruptions and hostile input: kill -9 mid-write, concurrent writers, arbitrary bytes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import warm
from bertsent.core.base.errors import DataError, ModelFileError
from bertsent.core.data.dataset import load_dataset
from bertsent.core.encoding.cache import EmbeddingCache
from bertsent.core.encoding.embed import Embedder
from bertsent.core.models.persist import load_model, read_meta
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[1]


def child(code: str) -> subprocess.Popen:
    return warm.Popen([sys.executable, "-c", code], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(process: subprocess.Popen, prefix: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            raise AssertionError(f"child ended early: {process.stderr.read()[-2000:]}")
    raise AssertionError(f"no {prefix!r} line in {timeout} s")


EMBED_CHILD = """
import sys, numpy as np
from bertsent.core.encoding.cache import EmbeddingCache
from bertsent.core.data.dataset import load_dataset
from bertsent.core.encoding.embed import Embedder
from bertsent.core.encoding.encoder import Encoder
texts = load_dataset({data!r}).texts[:{n}]
embedder = Embedder(Encoder.load(), "mean", cache=EmbeddingCache({cache!r}, "k"), flush_every=32)
def progress(p):
    print(f"progress {{p.done}}", flush=True)
vectors = embedder.embed(texts, progress=progress)
np.save({out!r}, vectors)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def reference(encoder, sst2_dir):
    texts = load_dataset(sst2_dir / "test.tsv").texts[:400]
    return texts, Embedder(encoder, "mean", cache=False).embed(texts)


def test_kill_9_mid_embedding_then_resume_gives_exactly_the_uninterrupted_vectors(
    encoder, sst2_dir, reference, tmp_path
):
    texts, expected = reference
    cache = tmp_path / "cache"
    code = EMBED_CHILD.format(data=str(sst2_dir / "test.tsv"), n=400, cache=str(cache), out=str(tmp_path / "x.npy"))
    process = child(code)
    while int(wait_for_line(process, "progress").split()[1]) < 150:
        pass
    process.send_signal(signal.SIGKILL)
    process.wait()
    seen = []
    resumed = Embedder(encoder, "mean", cache=EmbeddingCache(cache, "k")).embed(texts, progress=seen.append)
    assert 0 < seen[0].cached < len(texts)
    np.testing.assert_array_equal(resumed, expected)


def test_two_processes_share_one_cache(encoder, sst2_dir, reference, tmp_path):
    texts, expected = reference
    cache = tmp_path / "cache"
    processes = [
        child(
            EMBED_CHILD.format(data=str(sst2_dir / "test.tsv"), n=400, cache=str(cache), out=str(tmp_path / f"{i}.npy"))
        )
        for i in range(2)
    ]
    for process in processes:
        wait_for_line(process, "done", timeout=240)
        process.wait()
    for i in range(2):
        np.testing.assert_array_equal(np.load(tmp_path / f"{i}.npy"), expected)
    seen = []
    again = Embedder(encoder, "mean", cache=EmbeddingCache(cache, "k")).embed(texts, progress=seen.append)
    assert seen[-1].cached == len(texts)
    np.testing.assert_array_equal(again, expected)


SAVE_CHILD = """
from bertsent.core.models.persist import load_model, save_model

saved = load_model({source!r})
print("ready", flush=True)
while True:  # two different models in turn, so the old one and the new one can be told apart
    save_model(saved.model, {target!r}, report=saved.report)
    save_model(saved.model, {target!r}, report=None)
"""


@pytest.mark.parametrize("delay", [0.05, 0.2, 0.45])
def test_kill_9_while_saving_leaves_a_model_that_loads(small_model_dir, encoder, tmp_path, delay):
    import shutil

    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    before, report = read_meta(target)["files"], read_meta(target)["report"]
    process = child(SAVE_CHILD.format(source=str(small_model_dir), target=str(target)))
    wait_for_line(process, "ready")
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    saved = load_model(target, encoder=encoder)  # the old model or a complete new one, never a broken one
    meta = read_meta(target)
    assert meta["files"] == before and meta["report"] in (None, report)
    assert saved.model.predict_proba(["a fine film"]).shape == (1, 2)


def test_a_model_folder_missing_its_description_is_refused(small_model_dir, tmp_path):
    import shutil

    target = tmp_path / "model"
    shutil.copytree(small_model_dir, target)
    (target / "model.json").unlink()
    with pytest.raises(ModelFileError, match="not a bertsent model folder"):
        load_model(target)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=400), st.sampled_from([".tsv", ".csv", ".jsonl"]))
def test_arbitrary_bytes_load_or_raise_data_error(tmp_path, raw, suffix):
    path = tmp_path / f"data{suffix}"
    path.write_bytes(raw)
    for skip_bad in (False, True):
        try:
            data = load_dataset(path, skip_bad=skip_bad)
        except DataError as error:
            assert "\n" not in str(error)
        else:
            assert len(data.texts) == len(data.labels) > 0
            assert all(str(label).strip() for label in data.labels.tolist())  # labels are data, never empty
            assert all(text.strip() for text in data.texts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.text(max_size=40), st.sampled_from(["0", "1", "2", "pos", "", " 1 "])), max_size=12))
def test_arbitrary_lines_load_or_raise_data_error(tmp_path, rows):
    path = tmp_path / "rows.tsv"
    content = "".join(f"{text}\t{label}\n" for text, label in rows)  # a text may hold tabs and line breaks
    path.write_text(content, encoding="utf-8", errors="surrogatepass")
    try:
        data = load_dataset(path)
    except DataError:
        return
    assert len(data) <= len(content.splitlines())  # nothing invented: at most a row per line written


def test_odd_unicode_sentences_load_and_embed(encoder, tmp_path):
    path = tmp_path / "odd.tsv"
    lines = ["great 😀 film\t1", "電影很好看\t1", "zero\u200bwidth\t0", "\u202eright to left\t0", "\ufeffbom inside\t1"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    data = load_dataset(path)
    assert len(data) == 5
    vectors = Embedder(encoder, "mean", cache=False).embed(data.texts)
    assert np.isfinite(vectors).all()


def test_cache_survives_its_files_being_truncated(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path, "t")
    texts = ["one", "two", "three"]
    first = Embedder(encoder, "cls", cache=cache).embed(texts)
    for shard in cache.shards():
        shard.write_bytes(shard.read_bytes()[: len(shard.read_bytes()) // 2])
    np.testing.assert_array_equal(Embedder(encoder, "cls", cache=cache).embed(texts), first)
