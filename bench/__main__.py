"""Embedding speed, side by side in one run, on the same sentences and the same model.

ours (the default inference path: the default recipe, trained, saved and loaded as a user gets
it, so at the precision a saved model runs at here; see ``bench.default_path``) vs the tutorial's
way (unsorted chunks, pad to longest, one fp32 forward each) vs sentence-transformers
``encode()``, for the bundled MiniLM and for a DistilBERT built from its config (random weights,
same cost as the real one). Also: the cached re-run of all of SST2, prediction latency with token
scores, peak RSS and SST2 test accuracy of the default path next to fp32 and the all-layer recipe.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.rates import embedder_rate, st_rate, tutorial_rate

REPO = Path(__file__).resolve().parent.parent
SST2 = Path(os.environ.get("BERTSENT_DATA", REPO.parent / "shared" / "data" / "sst2"))
QUICK_SIZES = (300, 300)  # --quick: the default path's train and test sentences


def distilbert_folder(tokenizer) -> str:
    import torch
    from transformers import DistilBertConfig, DistilBertModel

    torch.manual_seed(0)
    folder = tempfile.mkdtemp(prefix="bench-distilbert-")
    DistilBertModel(DistilBertConfig(vocab_size=tokenizer.vocab_size)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def compare(label: str, name: str, texts: list[str], device: str | None, precision: str, default=None) -> dict:
    """``default`` (a ``bench.default_path.DefaultPath`` of this encoder): ours is its path; else
    ours is ``name``'s default recipe at ``precision``."""
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder

    if default is not None:
        ours_embedder = default.embedder()
        exact = Encoder.load(name, device=device, precision="fp32")
        exact_embedder = default.embedder(exact)
    else:
        ours_embedder = Embedder(Encoder.load(name, device=device, precision=precision), cache=False)
        exact = Encoder.load(name, device=device, precision="fp32")
        exact_embedder = Embedder(exact, ours_embedder.pooling, layers=ours_embedder.layers, cache=False)
    for warm in (ours_embedder, exact_embedder):
        embedder_rate(warm, texts[:64])
    ours = embedder_rate(ours_embedder, texts)
    row = {
        "model": label,
        "n": len(texts),
        "precision": ours_embedder.encoder.precision,
        "recipe": f"{ours_embedder.pooling} pooling, {ours_embedder.layer_note}",
        "ours": ours,
        "ours_fp32": embedder_rate(exact_embedder, texts),
        "tutorial": tutorial_rate(exact, texts),
        "sentence_transformers": st_rate(exact.source, texts, exact.device),
    }
    row["ratio_vs_tutorial"] = row["ours"] / row["tutorial"]
    row["ratio_vs_sentence_transformers"] = row["ours"] / row["sentence_transformers"]
    return row


def accuracy_and_cache(device: str | None) -> dict:
    """SST2 test accuracy of the default path next to fp32 of the same recipe and the all-layer fp32
    recipe (the default before layer sets), each trained on all of SST2 train; the cached re-run time."""
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.embed import Embedder

    from bench.default_path import default_path

    splits = load_splits(SST2)
    out = {}
    with tempfile.TemporaryDirectory() as cache:
        os.environ["BERTSENT_CACHE"] = cache
        default = default_path(splits, device)
        out["accuracy"] = float((default.loaded.predict(splits.test.texts) == splits.test.labels).mean())
        out["accuracy_fp32"] = default.report_accuracy
        out["accuracy_all_layers_fp32"] = default_path(splits, device, pooling="layers", layers="all").report_accuracy
        trained = default.trained.embedder
        start = time.perf_counter()
        Embedder(trained.encoder, trained.pooling, layers=trained.layers).embed(splits.train.texts + splits.test.texts)
        out["cached_rerun_s"] = time.perf_counter() - start
    return out


def predict_latency(default) -> dict:
    """Token scores of one 23-token sentence with the default path's model, every pass computed
    (p50, p95 of 30); and the same sentence scored again, as Enter after the typing preview asks."""
    model = default.loaded
    sentence = "the film is a charming , funny and often moving portrait of a family that could have been a cliche"
    n_tokens = len(model.encoder.tokenize(sentence).ids)
    model.explain(sentence, reuse=False)
    fresh, again = [], []
    for _ in range(30):
        start = time.perf_counter()
        model.explain(sentence, reuse=False)
        fresh.append(time.perf_counter() - start)
        start = time.perf_counter()
        model.explain(sentence)
        again.append(time.perf_counter() - start)
    return {
        "predict_tokens": n_tokens,
        "predict_precision": model.encoder.precision,
        "predict_p50_ms": 1000 * float(np.median(fresh)),
        "predict_p95_ms": 1000 * float(np.percentile(fresh, 95)),
        "predict_again_p50_ms": 1000 * float(np.median(again)),
    }


def startup_times() -> dict:
    """Wall time of ``bertsent --help`` and of the TUI's first frame, each in a fresh process."""
    frame = (
        "import time, asyncio; t = time.perf_counter()\n"
        "from bertsent.tui.app import create_app\n"
        "async def main():\n"
        "    async with create_app().run_test(size=(80, 24)):\n"
        "        print(time.perf_counter() - t)\n"
        "asyncio.run(main())"
    )
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "bertsent.cli", "--help"], cwd=REPO, check=True, capture_output=True)
    help_s = time.perf_counter() - start
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    interpreter = time.perf_counter() - start
    out = subprocess.run([sys.executable, "-c", frame], cwd=REPO, check=True, capture_output=True, text=True)
    return {"help_s": help_s, "tui_first_frame_s": interpreter + float(out.stdout.split()[-1])}


def memory_run(copies: int, device: str | None, precision: str) -> dict:
    """Embed SST2 train ``copies`` times (each copy made distinct) into a fresh cache, in a child
    process, and report its peak RSS."""
    code = (
        "import os, resource, sys, tempfile, time\n"
        "os.environ['BERTSENT_CACHE'] = tempfile.mkdtemp()\n"
        "from bertsent.core.data.dataset import load_dataset\n"
        "from bertsent.core.encoding.embed import Embedder\n"
        "from bertsent.core.encoding.encoder import Encoder\n"
        f"base = load_dataset({str(SST2 / 'train.tsv')!r}).texts\n"
        f"texts = [f'{{t}} ({{k}})' for k in range({copies}) for t in base]\n"
        f"embedder = Embedder(Encoder.load(device={device!r}, precision={precision!r}))\n"
        "t = time.perf_counter(); embedder.embed(texts); s = time.perf_counter() - t\n"
        "print(len(texts), s, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, capture_output=True, text=True)
    n, seconds, rss = out.stdout.split()[-3:]
    return {"memory_sentences": int(n), "memory_seconds": float(seconds), "memory_peak_rss_mb": float(rss)}


def finetune_run(device: str | None) -> dict:
    """Fine-tune the default encoder with the default settings on all of SST2 train; test accuracy and time."""
    from dataclasses import asdict

    from bertsent.core import jobs
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.models.finetune import FinetuneSettings

    splits = load_splits(SST2)
    settings = FinetuneSettings()
    start = time.perf_counter()
    report = jobs.train(splits, finetune=settings, device=device, record=False, resume=False).report
    return {
        "finetune_accuracy": report.accuracy,
        "finetune_train_s": report.seconds["finetune"],
        "finetune_total_s": time.perf_counter() - start,
        "finetune_settings": asdict(settings),
        "tfidf_accuracy": jobs.baseline(splits, record=False).report.accuracy,
    }


def probe_run(device: str | None, precision: str) -> dict:
    """The layer probe on all of SST2: embeddings computed first (untimed), then timed with them cached."""
    from bertsent.core.analyses.probe import hidden_features, probe_layers
    from bertsent.core.data.dataset import load_splits
    from bertsent.core.encoding.encoder import Encoder

    encoder = Encoder.load(device=device, precision=precision)
    splits = load_splits(SST2)
    hidden_features(encoder, splits)  # fills the cache
    start = time.perf_counter()
    probe = probe_layers(encoder, splits)
    seconds = time.perf_counter() - start
    best = probe.best
    return {
        "probe_s": seconds,
        "probe_fit_s": probe.seconds["fit"],
        "probe_best": f"layer {best.layer} {best.pooling} {best.accuracy:.4f}",
        "probe_last_cls": probe.accuracy(probe.layers - 1, "cls"),
        "probe_reference": probe.reference,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="SST2 train sentences to embed (default 3000)")
    parser.add_argument("--device", help="cpu or cuda (default: cuda when present)")
    parser.add_argument("--precision", default="auto", help="precision of 'ours' (default: auto)")
    parser.add_argument("--distilbert-n", type=int, default=1000, help="sentences for the DistilBERT row")
    parser.add_argument("--quick", action="store_true", help="skip the DistilBERT row and the accuracy runs")
    parser.add_argument(
        "--speed-only", action="store_true", help="only the sentences/s rows (MiniLM, DistilBERT architecture)"
    )
    parser.add_argument("--memory", type=int, metavar="COPIES", help="also embed SST2 train COPIES times (10: 69,200)")
    parser.add_argument("--tui", action="store_true", help="also measure key latency of the TUI under load")
    parser.add_argument("--finetune", action="store_true", help="also fine-tune on all of SST2 train (minutes)")
    parser.add_argument("--probe", action="store_true", help="also time the layer probe on SST2, embeddings cached")
    parser.add_argument(
        "--label", type=int, metavar="N", help="only bulk labelling: N CSV rows, rows/s, peak RSS, kill and resume"
    )
    parser.add_argument(
        "--label-latency", action="store_true", help="only the Label screen's key latency on a 10,000-sentence pool"
    )
    parser.add_argument("--paths", action="store_true", help="only the precision paths side by side (fp32, bf16)")
    parser.add_argument("--paths-train", type=int, default=2000, help="train sentences for --paths' classifiers")
    parser.add_argument("--paths-test", type=int, help="test sentences for --paths' accuracy (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    args = parser.parse_args(argv)
    from bertsent.core.encoding.encoder import quiet_transformers

    quiet_transformers()  # its "Loading weights" bars would break into the bench's report
    if args.paths:
        from bench.paths import paths_run, print_paths

        result = paths_run(SST2, args.n, args.paths_train, args.device, args.paths_test)
        print(json.dumps(result, indent=2)) if args.json else print_paths(result)
        return 0
    if args.label_latency:
        from bench.label_latency import label_latency

        result = label_latency(SST2)
        print(json.dumps(result, indent=2)) if args.json else print("\n".join(f"{k}: {v}" for k, v in result.items()))
        return 0
    if args.label:
        from bench.label_run import label_run, print_label

        result = label_run(SST2, args.label, args.device, args.precision)
        print(json.dumps(result, indent=2)) if args.json else print_label(result)
        return 0
    from bertsent.core.data.dataset import Splits, load_dataset
    from bertsent.core.encoding.encoder import Encoder

    from bench.default_path import default_path

    train = load_dataset(SST2 / "train.tsv")
    base = train.texts
    # More than SST2 train holds (a GPU run): repeats made distinct, since repeated sentences are embedded once.
    texts = [base[i % len(base)] + (f" ({i // len(base)})" if i >= len(base) else "") for i in range(args.n)]
    result: dict = {"n": len(texts), "torch_threads": __import__("torch").get_num_threads()}
    # the default path: the default recipe on 2,000 sentences, its fast path checked on all of SST2
    # test (--quick: QUICK_SIZES, enough to run the path, too few to decide it as finely)
    test = load_dataset(SST2 / "test.tsv")
    sizes = QUICK_SIZES if args.quick else (2000, len(test))
    default = default_path(Splits(train.head(sizes[0]), test.head(sizes[1]), given=True), args.device)
    precision = default.precision if args.precision == "auto" else args.precision
    minilm = compare("minilm", "minilm", texts, args.device, precision, default if args.precision == "auto" else None)
    rows = [minilm]
    if not args.quick:  # its own default recipe, at the precision the default path runs at here
        folder = distilbert_folder(Encoder.load(device="cpu").tokenizer)
        rows.append(compare("distilbert-arch", folder, texts[: args.distilbert_n], args.device, precision))
    if args.speed_only:
        result["rows"] = rows
        print(json.dumps(result, indent=2)) if args.json else print_speed(result)
        return 0
    if not args.quick:
        result.update(accuracy_and_cache(args.device))
    result.update(predict_latency(default))
    result.update(startup_times())
    if args.memory:
        result.update(memory_run(args.memory, args.device, args.precision))
    if args.tui:
        from bench.tui_latency import key_latency

        result.update(key_latency(str(SST2)))
    if args.finetune:
        result.update(finetune_run(args.device))
    if args.probe:
        result.update(probe_run(args.device, args.precision))
    result["rows"] = rows
    result["ratio_vs_tutorial"] = minilm["ratio_vs_tutorial"]
    result["ratio_vs_sentence_transformers"] = minilm["ratio_vs_sentence_transformers"]
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print_table(result)
    return 0


def print_speed(result: dict) -> None:
    print(
        f"SST2 train sentences, torch threads {result['torch_threads']}; sentences/s; ours is the default path "
        f"(minilm: {result['rows'][0]['recipe']}):"
    )
    header = ("model", "n", "prec", "ours", "ours fp32", "tutorial", "sent-tr", "÷tut", "÷st")
    print("{:16s} {:>5s} {:5s} {:>8s} {:>10s} {:>9s} {:>8s} {:>6s} {:>6s}".format(*header))
    for r in result["rows"]:
        print(
            f"{r['model']:16s} {r['n']:5d} {r['precision']:5s} {r['ours']:8.0f} {r['ours_fp32']:10.0f} "
            f"{r['tutorial']:9.0f} "
            f"{r['sentence_transformers']:8.0f} {r['ratio_vs_tutorial']:6.2f} "
            f"{r['ratio_vs_sentence_transformers']:6.2f}"
        )


def print_table(result: dict) -> None:
    print_speed(result)
    if "accuracy" in result:
        print(
            f"SST2 test accuracy: ours (the default path) {result['accuracy']:.2%}, fp32 of its recipe "
            f"{result['accuracy_fp32']:.2%}, fp32 all layers {result['accuracy_all_layers_fp32']:.2%}; "
            f"cached re-run of 8,741 sentences {result['cached_rerun_s']:.2f} s"
        )
    print(
        f"startup: bertsent --help {result['help_s']:.2f} s, "
        f"bertsent-tui first frame {result['tui_first_frame_s']:.2f} s"
    )
    if "memory_sentences" in result:
        print(
            f"memory: {result['memory_sentences']:,} sentences embedded in {result['memory_seconds']:.0f} s, "
            f"peak RSS {result['memory_peak_rss_mb']:.0f} MB"
        )
    if "finetune_accuracy" in result:
        s = result["finetune_settings"]
        print(
            f"fine-tuning minilm ({s['epochs']} epochs, lr {s['lr']:g}, batch {s['batch_size']}): "
            f"SST2 test accuracy {result['finetune_accuracy']:.2%}, training {result['finetune_train_s']:.0f} s, "
            f"with loading and scoring {result['finetune_total_s']:.0f} s; "
            f"TF-IDF baseline {result['tfidf_accuracy']:.2%}"
        )
    if "probe_s" in result:
        print(
            f"layer probe on SST2 (7 layers x 2 poolings + the all-layer reference), embeddings cached: "
            f"{result['probe_s']:.1f} s; best {result['probe_best']}, last-layer [CLS] {result['probe_last_cls']:.2%}"
        )
    for phase, doing in (("embed", "embedding"), ("train", "training"), ("probe", "probing layers")):
        if f"tui_{phase}_keys" in result:
            print(
                f"bertsent-tui while {doing}: {result[f'tui_{phase}_keys']} key presses, "
                f"p95 {result[f'tui_{phase}_key_p95_ms']:.0f} ms, max {result[f'tui_{phase}_key_max_ms']:.0f} ms"
            )
    print(
        f"predict with token scores ({result['predict_tokens']} tokens, {result['predict_precision']}): "
        f"p50 {result['predict_p50_ms']:.0f} ms, p95 {result['predict_p95_ms']:.0f} ms, the same sentence again "
        f"(Enter after the preview) p50 {result['predict_again_p50_ms']:.1f} ms; "
        f"peak RSS {result['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    sys.exit(main())
