"""``python -m bench --paths``: each precision path side by side in one run, next to the hardware.

For the bundled MiniLM on the same SST2 sentences: sentences/s of ours in fp32, bf16 and int8,
sentence-transformers ``encode()`` and the tutorial's loop; each path's FLOP rate as a share of a
large matrix multiply of the same type on this machine; SST2 test accuracy and agreement with
fp32 labels of one classifier (fit on fp32 vectors of the first ``train_n`` training sentences)
applied to each path's vectors, which is how a saved model runs on a faster path. Also the
machine's fast-path choice (``bertsent doctor``).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

PATHS = ("fp32", "bf16", "int8")


def encoder_flops(encoder, ids: list[list[int]]) -> float:
    """Multiply-adds x 2 of the encoder's layers for these sentences (real tokens, no padding):
    the Linear layers per token plus attention's two seq x seq products."""
    config = encoder.model.config
    hidden = int(config.hidden_size)
    inner = int(getattr(config, "intermediate_size", None) or config.hidden_dim)
    layers = encoder.num_layers
    per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * inner)
    lengths = np.array([len(x) for x in ids], dtype=np.float64)
    return float((per_token * lengths + 4 * layers * hidden * lengths**2).sum())


def rate(embedder, texts: list[str]) -> float:
    embedder.embed(texts[:64])
    start = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - start)


def paths_run(sst2, n: int, train_n: int, device: str | None) -> dict:
    from bertsent.core.classifier import SentimentClassifier
    from bertsent.core.data import load_dataset
    from bertsent.core.embed import Embedder
    from bertsent.core.encoder import Encoder
    from bertsent.core.fastpath import keeps_decisions, machine_choice, matmul_gflops

    from bench.rates import st_rate, tutorial_rate

    os.environ["BERTSENT_CACHE"] = tempfile.mkdtemp(prefix="bench-paths-")
    train = load_dataset(sst2 / "train.tsv")
    test = load_dataset(sst2 / "test.tsv")
    texts = train.texts[:n]
    encoders = {p: Encoder.load(device=device, precision=p) for p in PATHS}
    exact = encoders["fp32"]
    ids, _ = exact.encode_ids(texts)
    flops_per_sentence = encoder_flops(exact, ids) / len(texts)
    rows = {p: {"rate": rate(Embedder(encoders[p], "mean", cache=False), texts)} for p in PATHS}
    rows["sentence-transformers"] = {"rate": st_rate(exact.source, texts, exact.device)}
    rows["tutorial"] = {"rate": tutorial_rate(exact, texts)}
    peak = {
        "fp32": matmul_gflops("fp32", (4096, 1024, 4096), 1.0),
        "bf16": matmul_gflops("bf16", (4096, 1024, 4096), 1.0),
    }
    peak["int8"] = None  # torch has no plain int8 matmul to time against; the row shows the fp32 share
    for name, row in rows.items():
        row["gflops"] = row["rate"] * flops_per_sentence / 1e9
        dtype = name if name in PATHS else "fp32"
        row["share_of_matmul"] = row["gflops"] / (peak[dtype] or peak["fp32"])
        row["ratio_vs_st"] = row["rate"] / rows["sentence-transformers"]["rate"]
    classifier = SentimentClassifier(C=0.01).fit(
        Embedder(exact, "mean").embed(train.texts[:train_n]), train.labels[:train_n]
    )
    exact_labels = classifier.predict(Embedder(exact, "mean").embed(test.texts))
    for p in PATHS:
        labels = (
            exact_labels
            if p == "fp32"
            else classifier.predict(Embedder(encoders[p], "mean", cache=False).embed(test.texts))
        )
        rows[p]["accuracy"] = float((labels == test.labels).mean())
        rows[p]["agreement"] = float((labels == exact_labels).mean())
    machine = machine_choice()
    fast = rows["bf16"]
    fast["allowed"] = keeps_decisions(fast["accuracy"] - rows["fp32"]["accuracy"], fast["agreement"])
    return {
        "paths_n": len(texts),
        "paths_train_n": train_n,
        "paths_test_n": len(test),
        "flops_per_sentence": flops_per_sentence,
        "matmul_gflops": peak,
        "paths": rows,
        "machine_precision": machine.precision,
        "machine_reason": machine.reason,
        "load_average": os.getloadavg()[0],
    }


def print_paths(result: dict) -> None:
    peak = result["matmul_gflops"]
    print(
        f"paths (MiniLM, mean pooling, {result['paths_n']:,} SST2 sentences, "
        f"{result['flops_per_sentence'] / 1e9:.2f} GFLOP each; matmul fp32 {peak['fp32']:.0f}, "
        f"bf16 {peak['bf16']:.0f} GFLOP/s; load average {result['load_average']:.1f}):"
    )
    print(f"{'path':22s} {'sent/s':>7s} {'÷st':>5s} {'GFLOP/s':>8s} {'÷matmul':>8s} {'accuracy':>9s} {'agree':>7s}")
    for name, row in result["paths"].items():
        if name == result["machine_precision"]:
            name += " (default here)"
        accuracy = f"{row['accuracy']:.2%}" if "accuracy" in row else "—"
        agreement = f"{row['agreement']:.2%}" if "agreement" in row else "—"
        print(
            f"{name:22s} {row['rate']:7.0f} {row['ratio_vs_st']:5.2f} {row['gflops']:8.1f} "
            f"{row['share_of_matmul']:8.0%} {accuracy:>9s} {agreement:>7s}"
        )
    print(
        f"accuracy: one classifier fit on fp32 vectors of {result['paths_train_n']:,} train sentences, "
        f"applied to each path's vectors of all {result['paths_test_n']:,} test sentences; "
        f"this machine's fast path: {result['machine_precision']} ({result['machine_reason']}); "
        f"bf16 passes the model rule (±0.3 points, >= 99% agreement): {result['paths']['bf16']['allowed']}"
    )
