"""``python -m bench --label N``: bulk labelling of N CSV rows built from SST2 sentences.

Side by side in one run: the raw embedding rate of the same model, recipe (layer set included) and
precision (the bench's ``ours``), then ``bertsent label`` in a child process (rows/s over its wall
time, peak RSS), then the kill-and-resume check: a second run SIGKILLed half way, run again, and
compared byte for byte with the first.
"""

from __future__ import annotations

import csv
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def write_corpus(sst2: Path, path: Path, n: int) -> None:
    """N rows (id, review, source) cycling through SST2 train and test sentences."""
    from bertsent.core.data.dataset import load_dataset

    texts = load_dataset(sst2 / "train.tsv").texts + load_dataset(sst2 / "test.tsv").texts
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "review", "source"])
        writer.writerows((i, texts[i % len(texts)], "sst2") for i in range(n))


def train_model(sst2: Path, folder: Path, device: str | None, precision: str) -> None:
    """The default recipe (layers pooling) on 2,000 SST2 sentences with a fixed C (labelling speed
    does not depend on how well the classifier was fitted), saved as `bertsent train` saves it:
    with the bf16 check, so labelling runs in the precision a user's model would."""
    from bertsent.core import jobs
    from bertsent.core.data.dataset import Splits, load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    splits = Splits(load_dataset(sst2 / "train.tsv").head(2000), load_dataset(sst2 / "test.tsv").head(500), True)
    encoder = Encoder.load(device=device, precision=precision)
    trained = jobs.train(splits, embedder=Embedder(encoder, cache=False), C=0.0032)
    jobs.save(trained.result, folder, run=trained.run)


def label_command(corpus: Path, model: Path, out: Path, window: int) -> list[str]:
    command = [sys.executable, "-m", "bertsent.cli", "label", str(corpus), "--model", str(model), "--out", str(out)]
    return [*command, "--window-rows", str(window)]


def label_run(sst2: Path, n: int, device: str | None, precision: str) -> dict:
    from bertsent.core.data.dataset import load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.labelling.label import WINDOW_ROWS
    from bertsent.core.models.persist import load_model

    from bench.rates import embedder_rate

    work = Path(tempfile.mkdtemp(prefix="bench-label-"))
    env = {**os.environ, "BERTSENT_CACHE": str(work / "cache"), "BERTSENT_STATE": str(work / "state")}
    os.environ.update({k: env[k] for k in ("BERTSENT_CACHE", "BERTSENT_STATE")})
    corpus, model = work / "corpus.csv", work / "model"
    write_corpus(sst2, corpus, n)
    train_model(sst2, model, device, precision)
    saved = load_model(model, device=device).model  # the recipe and precision the saved model runs at
    encoder = saved.encoder
    embedder = Embedder(encoder, saved.embedder.pooling, layers=saved.embedder.layers, cache=False)
    texts = load_dataset(sst2 / "train.tsv").texts[: min(3000, n)]
    embedder_rate(embedder, texts[:64])
    embed_before = embedder_rate(embedder, texts)

    window = min(WINDOW_ROWS, max(256, n // 8))  # small runs still get windows to kill between
    first = work / "labelled.csv"
    start = time.perf_counter()
    subprocess.run(label_command(corpus, model, first, window), env=env, check=True, capture_output=True)
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    embed_after = embedder_rate(embedder, texts)
    embed = (embed_before + embed_after) / 2

    second = work / "resumed.csv"
    journal = Path(f"{second}.parts") / "journal.json"
    windows = -(-n // window)
    process = subprocess.Popen(label_command(corpus, model, second, window), env=env, stderr=subprocess.DEVNULL)
    killed_at = 0
    while process.poll() is None:
        if journal.is_file():
            killed_at = len(json.loads(journal.read_text())["parts"])
            if killed_at >= max(1, windows // 2):
                process.send_signal(signal.SIGKILL)
                break
        time.sleep(0.2)
    process.wait()
    resumed = subprocess.run(label_command(corpus, model, second, window), env=env, capture_output=True, text=True)
    identical = resumed.returncode == 0 and second.read_bytes() == first.read_bytes()
    cache_files = sum(1 for _ in (work / "cache").rglob("*.npz")) if (work / "cache").exists() else 0
    return {
        "label_rows": n,
        "label_precision": encoder.precision,
        "label_window_rows": window,
        "label_seconds": seconds,
        "label_rows_per_s": n / seconds,
        "label_embed_rate": embed,
        "label_embed_rate_before_after": [embed_before, embed_after],
        "label_ratio_vs_embed": n / seconds / embed,
        "label_peak_rss_mb": peak_mb,
        "label_killed_after_parts": killed_at,
        "label_resume_identical": identical,
        "label_cache_files": cache_files,
    }


def print_label(result: dict) -> None:
    print(
        f"label: {result['label_rows']:,} CSV rows ({result['label_precision']}, windows of "
        f"{result['label_window_rows']:,}) in {result['label_seconds']:.0f} s, "
        f"{result['label_rows_per_s']:.0f} rows/s = {result['label_ratio_vs_embed']:.2f}x the raw embedding rate "
        f"({result['label_embed_rate']:.0f} sentences/s, before/after "
        f"{'/'.join(f'{r:.0f}' for r in result['label_embed_rate_before_after'])}); "
        f"peak RSS {result['label_peak_rss_mb']:.0f} MB; killed after {result['label_killed_after_parts']} part(s), "
        f"resumed output identical: {result['label_resume_identical']}; embedding-cache files written: "
        f"{result['label_cache_files']}"
    )
