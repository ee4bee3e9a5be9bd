"""``python -m bench --paths``: the default inference path and each precision path side by side in one run.

For the bundled MiniLM on the same SST2 sentences: sentences/s of the default path (the default
recipe trained, saved and loaded as a user gets it: ``bench.default_path``), of the same recipe in
fp32 and bf16, of the all-layer fp32 recipe that was the default before layer sets, of
sentence-transformers ``encode()`` and of the tutorial's loop; each path's FLOP rate as a share of
a matrix multiply of its type at the encoder's own shapes (none for fp16 on CUDA: no probe of that
type); SST2 test accuracy and agreement with the fp32 labels of the same recipe, one classifier
(fit on fp32 vectors of the first ``train_n`` training sentences, C by CV) applied to each path's
vectors, which is how a saved model runs on a faster path. Also the machine's fast-path choice
(``bertsent doctor``).
"""

from __future__ import annotations

import os
import tempfile
import time

import numpy as np

PATHS = ("fp32", "bf16")
BEFORE = "fp32, all layers (before)"


def encoder_flops(encoder, ids: list[list[int]], depth: int | None = None) -> float:
    """Multiply-adds x 2 of the encoder's first ``depth`` layers (default: all) for these sentences
    (real tokens, no padding): the Linear layers per token plus attention's two seq x seq products."""
    config = encoder.model.config
    hidden = int(config.hidden_size)
    inner = int(getattr(config, "intermediate_size", None) or config.hidden_dim)
    layers = encoder.num_layers if depth is None else depth
    per_token = 2 * layers * (4 * hidden * hidden + 2 * hidden * inner)
    lengths = np.array([len(x) for x in ids], dtype=np.float64)
    return float((per_token * lengths + 4 * layers * hidden * lengths**2).sum())


def matmul_reference(dtype: str, encoder, tokens: int) -> float:
    """GFLOP/s of the encoder's own feed-forward products in ``dtype``: ``[tokens, hidden] @ [hidden,
    inner]`` and back, ``tokens`` a batch's worth (the embedder's token budget); best of repeats."""
    from bertsent.core.models.fastpath import matmul_gflops

    config = encoder.model.config
    hidden = int(config.hidden_size)
    inner = int(getattr(config, "intermediate_size", None) or config.hidden_dim)
    up = matmul_gflops(dtype, (tokens, hidden, inner), 0.5)
    down = matmul_gflops(dtype, (tokens, inner, hidden), 0.5)
    return 2 / (1 / up + 1 / down)  # equal FLOPs in each: the rate of the pair


def rate(embedder, texts: list[str]) -> float:
    embedder.embed(texts[:64])
    start = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - start)


def paths_run(sst2, n: int, train_n: int, device: str | None, test_n: int | None = None) -> dict:
    from bertsent.core.data.dataset import Splits, load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder
    from bertsent.core.models.fastpath import keeps_decisions, machine_choice

    from bench.default_path import default_path
    from bench.rates import st_rate, tutorial_rate

    os.environ["BERTSENT_CACHE"] = tempfile.mkdtemp(prefix="bench-paths-")
    train = load_dataset(sst2 / "train.tsv")
    test = load_dataset(sst2 / "test.tsv")
    test = test if test_n is None else test.head(test_n)
    texts = train.texts[:n]
    splits = Splits(train.head(train_n), test, given=True)
    default = default_path(splits, device)
    before = default_path(splits, device, pooling="layers", layers="all")  # today's recipe, for accuracy
    encoders = {p: Encoder.load(device=device, precision=p) for p in PATHS}
    exact = encoders["fp32"]
    ids, _ = exact.encode_ids(texts)
    depth = default.loaded.embedder.depth
    flops = {"default": encoder_flops(exact, ids, depth) / len(texts), BEFORE: encoder_flops(exact, ids) / len(texts)}
    rows = {"default": {"rate": rate(default.embedder(), texts), "precision": default.precision}}
    rows.update({p: {"rate": rate(default.embedder(encoders[p]), texts), "precision": p} for p in PATHS})
    rows[BEFORE] = {"rate": rate(Embedder(exact, "layers", layers="all", cache=False), texts), "precision": "fp32"}
    rows["sentence-transformers"] = {"rate": st_rate(exact.source, texts, exact.device), "precision": "fp32"}
    rows["tutorial"] = {"rate": tutorial_rate(exact, texts), "precision": "fp32"}
    tokens = default.loaded.embedder.batch_tokens
    peak = {"fp32": matmul_reference("fp32", exact, tokens), "bf16": matmul_reference("bf16", exact, tokens)}
    for name, row in rows.items():
        per_sentence = flops[BEFORE if name in (BEFORE, "sentence-transformers", "tutorial") else "default"]
        row["gflops"] = row["rate"] * per_sentence / 1e9
        reference = peak.get(row["precision"])
        row["share_of_matmul"] = None if reference is None else row["gflops"] / reference
        row["ratio_vs_st"] = row["rate"] / rows["sentence-transformers"]["rate"]
        row["ratio_vs_tutorial"] = row["rate"] / rows["tutorial"]["rate"]
    exact_labels = default.model_on(exact).predict(test.texts)  # fp32 of the same recipe
    before_accuracy = float((before.trained.predict(test.texts) == test.labels).mean())
    for name in (*PATHS, "default"):
        model = default.loaded if name == "default" else default.model_on(encoders[name])
        labels = exact_labels if name == "fp32" else model.predict(test.texts)
        rows[name]["accuracy"] = float((labels == test.labels).mean())
        rows[name]["agreement"] = float((labels == exact_labels).mean())
        rows[name]["accuracy_delta_points"] = 100 * (rows[name]["accuracy"] - before_accuracy)
    rows[BEFORE]["accuracy"] = before_accuracy
    machine = machine_choice()
    fast = rows["bf16"]
    fast["allowed"] = keeps_decisions(fast["accuracy"] - rows["fp32"]["accuracy"], fast["agreement"])
    headline = {key: rows["default"][key] for key in ("rate", "ratio_vs_st", "ratio_vs_tutorial", "accuracy")}
    headline.update(
        accuracy_delta_points=rows["default"]["accuracy_delta_points"],
        agreement=rows["default"]["agreement"],
        precision=default.precision,
        recipe=default.recipe,
    )
    return {
        "default": headline,
        "paths_n": len(texts),
        "paths_train_n": train_n,
        "paths_test_n": len(test),
        "flops_per_sentence": flops,
        "matmul_gflops": peak,
        "matmul_tokens": tokens,
        "paths": rows,
        "machine_precision": machine.precision,
        "machine_reason": machine.reason,
        "load_average": os.getloadavg()[0],
    }


def print_paths(result: dict) -> None:
    d = result["default"]
    print(
        f"default path ({d['recipe']}, {d['precision']}): {d['rate']:.0f} sentences/s = "
        f"{d['ratio_vs_st']:.2f}x sentence-transformers, {d['ratio_vs_tutorial']:.2f}x the tutorial; SST2 test "
        f"accuracy {d['accuracy']:.2%} ({d['accuracy_delta_points']:+.2f} points against the fp32 all-layer "
        f"recipe), {d['agreement']:.2%} of labels equal to fp32 of the same recipe"
    )
    peak = result["matmul_gflops"]
    flops = result["flops_per_sentence"]
    print(
        f"paths (MiniLM, {result['paths_n']:,} SST2 sentences, {flops['default'] / 1e9:.2f} GFLOP each for the "
        f"default recipe, {flops[BEFORE] / 1e9:.2f} for all layers; matmul at the model's shapes "
        f"({result['matmul_tokens']} tokens) fp32 {peak['fp32']:.0f}, bf16 {peak['bf16']:.0f} GFLOP/s; "
        f"load average {result['load_average']:.1f}):"
    )
    print(
        f"{'path':26s} {'sent/s':>7s} {'÷st':>5s} {'÷tut':>5s} {'GFLOP/s':>8s} {'÷matmul':>8s} "
        f"{'accuracy':>9s} {'agree':>7s}"
    )
    for name, row in result["paths"].items():
        share = "—" if row["share_of_matmul"] is None else f"{row['share_of_matmul']:.0%}"
        accuracy = f"{row['accuracy']:.2%}" if "accuracy" in row else "—"
        agreement = f"{row['agreement']:.2%}" if "agreement" in row else "—"
        label = f"default ({row['precision']})" if name == "default" else name
        print(
            f"{label:26s} {row['rate']:7.0f} {row['ratio_vs_st']:5.2f} {row['ratio_vs_tutorial']:5.2f} "
            f"{row['gflops']:8.1f} {share:>8s} {accuracy:>9s} {agreement:>7s}"
        )
    print(
        f"accuracy: one classifier per recipe fit on fp32 vectors of {result['paths_train_n']:,} train sentences "
        f"(C by CV), applied to each path's vectors of {result['paths_test_n']:,} test sentences; "
        f"this machine's fast path: {result['machine_precision']} ({result['machine_reason']}); "
        f"bf16 passes the model rule (±0.3 points, >= 99% agreement): {result['paths']['bf16']['allowed']}"
    )
