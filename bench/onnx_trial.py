"""``python -m bench.onnx_trial``: the ONNX Runtime paths the issue asked to try beyond fp32/bf16.

ONNX Runtime (fp32 as exported, fp32 with ORT's BERT fusions, and the exported graph with
dynamic int8 weights) side by side with ours in fp32 and bf16, in one run, on the bench's SST2
sentences and with the bench's accuracy rule (one classifier fit on fp32 vectors, applied to each
path's vectors of the whole test split). A trial, not a product path: it needs ``pip install
onnxruntime onnx``, which bertsent does not depend on. Its numbers are in docs/performance.md
(What else was tried), with the reason none of these became the default; that section also has
the torch int8 variants this script measured before bertsent's own int8 was removed.

The export follows what optimum's exporter checks: inputs passed by name (``input_ids``,
``attention_mask``; a positional mix-up feeds the mask in as token types), dynamic batch and
sequence axes, and the graph's output compared with PyTorch's on padded batches of mixed lengths.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np

SST2 = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sst2"


def export_onnx(encoder, folder: Path) -> Path:
    """The encoder's last hidden state as an ONNX graph with dynamic batch and sequence axes."""
    import torch

    class ByName(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask):
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    path = folder / "encoder.onnx"
    sample = encoder.batch_tensors(encoder.encode_ids(["a short one", "a somewhat longer sentence than that"])[0])
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        ByName(encoder.model).eval(),
        (sample["input_ids"], sample["attention_mask"]),
        str(path),
        input_names=["input_ids", "attention_mask"],
        output_names=["last_hidden_state"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
        opset_version=17,
        dynamo=False,
    )
    return path


def onnx_forward(session, encoder):
    """A replacement for ``Embedder.forward``: the ONNX graph, then the same masked mean."""

    def forward(batch_ids: list[list[int]]) -> np.ndarray:
        inputs = {key: value.numpy() for key, value in encoder.batch_tensors(batch_ids).items()}
        hidden = session.run(["last_hidden_state"], inputs)[0]
        mask = inputs["attention_mask"][:, :, None].astype(np.float32)
        return (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1)

    return forward


def session_for(path: Path):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = os.cpu_count() or 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def max_difference(embedder, reference, texts: list[str]) -> tuple[float, float]:
    """Largest absolute difference and smallest cosine between two embedders' vectors."""
    a, b = embedder.embed(texts), reference.embed(texts)
    cosine = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    return float(np.abs(a - b).max()), float(cosine.min())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.onnx_trial", description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=1500, help="SST2 train sentences to time (default 1500)")
    parser.add_argument("--train", type=int, default=2000, help="train sentences for the classifier")
    args = parser.parse_args(argv)

    import warnings

    from bertsent.core.data.dataset import load_dataset
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder
    from bertsent.core.models.classifier import SentimentClassifier

    from bench.paths import rate

    warnings.simplefilter("ignore")
    os.environ["BERTSENT_CACHE"] = tempfile.mkdtemp(prefix="bench-onnx-")
    train, test = load_dataset(SST2 / "train.tsv"), load_dataset(SST2 / "test.tsv")
    texts = train.texts[: args.n]
    exact = Encoder.load(precision="fp32")
    reference = Embedder(exact, "mean", cache=False)
    embedders = {p: Embedder(Encoder.load(precision=p), "mean", cache=False) for p in ("fp32", "bf16")}

    folder = Path(tempfile.mkdtemp(prefix="bench-onnx-model-"))
    start = time.perf_counter()
    graph = export_onnx(exact, folder)
    exported = time.perf_counter() - start
    from onnxruntime.quantization import QuantType
    from onnxruntime.quantization import quantize_dynamic as ort_quantize
    from onnxruntime.transformers.optimizer import optimize_model

    fused = folder / "encoder-fused.onnx"  # ORT's BERT fusions: attention, LayerNorm, GELU as single ops
    optimize_model(str(graph), model_type="bert", num_heads=exact.model.config.num_attention_heads).save_model_to_file(
        str(fused)
    )
    quantized = folder / "encoder-int8.onnx"
    ort_quantize(str(graph), str(quantized), weight_type=QuantType.QInt8, per_channel=True)
    for name, path in (("onnx fp32", graph), ("onnx fp32 fused", fused), ("onnx int8", quantized)):
        embedder = Embedder(exact, "mean", cache=False)
        embedder.forward = onnx_forward(session_for(path), exact)
        embedders[name] = embedder

    probe = test.texts[:256]  # padded batches of mixed lengths
    print(f"ONNX export {exported:.1f} s")
    classifier = SentimentClassifier(C=0.01).fit(reference.embed(train.texts[: args.train]), train.labels[: args.train])
    exact_labels = classifier.predict(reference.embed(test.texts))
    print(f"{'path':24s} {'sent/s':>7s} {'max |Δ|':>8s} {'min cos':>8s} {'accuracy':>9s} {'agree':>7s}")
    for name, embedder in embedders.items():
        speed = rate(embedder, texts)
        difference, cosine = max_difference(embedder, reference, probe)
        labels = classifier.predict(embedder.embed(test.texts))
        print(
            f"{name:24s} {speed:7.0f} {difference:8.2e} {cosine:8.5f} {(labels == test.labels).mean():9.2%} "
            f"{(labels == exact_labels).mean():7.2%}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.1f}; {len(texts):,} sentences timed, {len(test):,} test sentences")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
