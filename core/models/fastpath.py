"""The fast default: bf16 where this machine runs it faster and the model's decisions stay the same.

Two checks, both recorded:
- per machine: CPU features and a short timed probe (a BERT-sized matrix multiply in fp32 and in
  bf16, best of several), cached per CPU model, torch version and thread count;
- per model, when it is saved: the held-out split labelled with a bf16 copy of the encoder next
  to fp32; bf16 is allowed only if accuracy moves by at most 0.3 points and at least 99% of the
  labels agree (``model.json``'s ``fast_path``).
A model loads in bf16 by default only where both say yes; everything else stays fp32.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from dataclasses import asdict, dataclass

import numpy as np
from bertsent.core.base.files import MIB, atomic_write_text, read_regular
from bertsent.core.base.paths import cache_dir

FAST = "bf16"
MAX_ACCURACY_CHANGE = 0.003  # 0.3 points
MIN_AGREEMENT = 0.99
MIN_SPEEDUP = 1.25  # the probe must show at least this, or fp32 stays (noise on a busy machine)
CPU_FEATURES = ("avx512_bf16", "amx_bf16", "amx_tile", "avx512_vnni", "avx512f", "avx2")


@dataclass(frozen=True)
class MachineChoice:
    precision: str  # "bf16" or "fp32": what models that allow it run in here
    reason: str
    cpu: str
    features: tuple[str, ...]
    fp32_gflops: float
    bf16_gflops: float


@dataclass(frozen=True)
class FastPathCheck:
    precision: str  # the fast path that was compared with fp32
    accuracy_fp32: float
    accuracy_fast: float
    agreement: float  # share of held-out labels that are the same
    n: int
    allowed: bool
    reason: str

    def to_dict(self) -> dict:
        return asdict(self)


def cpu_info() -> tuple[str, tuple[str, ...]]:
    """The CPU's model name and which of the features that matter here it has (Linux; else none)."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    name = value.strip()
                elif key.strip() == "flags":
                    flags = set(value.split())
                    break
    except OSError:
        pass
    return name, tuple(f for f in CPU_FEATURES if f in flags)


def matmul_gflops(dtype: str, size: tuple[int, int, int] = (2048, 384, 1536), seconds: float = 0.25) -> float:
    """Best GFLOP/s of ``[m, k] @ [k, n]`` in ``dtype`` over about ``seconds`` of repeats."""
    import torch

    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    m, k, n = size
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(m, k, generator=generator).to(torch_dtype)
    b = torch.randn(k, n, generator=generator).to(torch_dtype)
    best = float("inf")
    with torch.inference_mode():
        a @ b
        deadline = time.perf_counter() + seconds
        runs = 0
        while runs < 3 or time.perf_counter() < deadline:  # at least 3 timings, even on a crowded machine
            start = time.perf_counter()
            a @ b
            best = min(best, time.perf_counter() - start)
            runs += 1
    return 2 * m * k * n / best / 1e9


def machine_choice(*, refresh: bool = False) -> MachineChoice:
    """This machine's choice, from the cache or a short probe (about a second)."""
    import torch

    cpu, features = cpu_info()
    key = hashlib.sha256(json.dumps([cpu, features, torch.__version__, torch.get_num_threads()]).encode()).hexdigest()
    path = cache_dir() / "machine.json"
    try:
        cached = json.loads(read_regular(path, MIB))
    except (OSError, ValueError):
        cached = {}
    if not isinstance(cached, dict):
        cached = {}
    if not refresh and isinstance(cached.get(key), dict):
        try:
            saved = cached[key]
            return MachineChoice(**{**saved, "features": tuple(saved["features"])})
        except TypeError:
            pass
    fp32 = bf16 = 0.0
    for _ in range(2):  # interleaved, best of both rounds: a busy machine slows both alike
        fp32 = max(fp32, matmul_gflops("fp32"))
        bf16 = max(bf16, matmul_gflops("bf16"))
    speedup = bf16 / fp32
    if speedup >= MIN_SPEEDUP:
        choice = MachineChoice(FAST, f"bf16 matmul {speedup:.1f}x fp32 in the probe", cpu, features, fp32, bf16)
    else:
        reason = f"bf16 matmul {speedup:.2f}x fp32 in the probe (needs {MIN_SPEEDUP}x)"
        choice = MachineChoice("fp32", reason, cpu, features, fp32, bf16)
    cached[key] = asdict(choice)
    atomic_write_text(path, json.dumps(cached, indent=1))
    return choice


def fast_copy(encoder):
    """A bf16 copy of an fp32 encoder (same tokenizer and fingerprint)."""
    import copy

    import torch

    return encoder.with_weights(copy.deepcopy(encoder.model).to(torch.bfloat16), FAST, finetuned=encoder.finetuned)


def check_fast_path(model, texts: list[str], labels: np.ndarray) -> FastPathCheck | None:
    """Compare a bf16 copy of ``model``'s encoder with its fp32 labels on a held-out split.

    None when the model is not an fp32 CPU model (an explicit precision, or CUDA, already chose).
    """
    from bertsent.core.encoding.embed import Embedder

    encoder = model.encoder
    if encoder.precision != "fp32" or not encoder.device.startswith("cpu") or not len(texts):
        return None
    fast = Embedder(fast_copy(encoder), model.embedder.pooling, layers=model.embedder.layers, cache=False)
    classes = model.classifier.classes_
    exact_labels = classes[model.predict_proba(texts).argmax(axis=1)]  # fp32 vectors: cached by training
    fast_labels = classes[model.classifier.predict_proba(fast.embed(texts)).argmax(axis=1)]
    labels = np.asarray(labels)
    accuracy_fp32 = float((exact_labels == labels).mean())
    accuracy_fast = float((fast_labels == labels).mean())
    agreement = float((fast_labels == exact_labels).mean())
    change = accuracy_fast - accuracy_fp32
    allowed = keeps_decisions(change, agreement)
    verdict = "allowed" if allowed else "not allowed"
    reason = (
        f"{FAST} {verdict}: accuracy {change * 100:+.2f} points (limit ±{MAX_ACCURACY_CHANGE * 100:.1f}), "
        f"{agreement:.2%} of {len(texts):,} held-out labels agree with fp32 (need {MIN_AGREEMENT:.0%})"
    )
    return FastPathCheck(FAST, accuracy_fp32, accuracy_fast, agreement, len(texts), allowed, reason)


def keeps_decisions(accuracy_change: float, agreement: float) -> bool:
    """The fast-path rule: a faster precision may be the default only where it moves held-out
    accuracy by at most :data:`MAX_ACCURACY_CHANGE` and keeps at least :data:`MIN_AGREEMENT` of
    the fp32 labels."""
    return abs(accuracy_change) <= MAX_ACCURACY_CHANGE + 1e-12 and agreement >= MIN_AGREEMENT


def describe_choice(fast: FastPathCheck) -> str:
    """Which precision a model saved with ``fast`` runs in by default here, and why (one line)."""
    if not fast.allowed:
        return f"default precision fp32: {fast.reason}"
    machine = machine_choice()
    where = "used by default on this machine" if machine.precision == fast.precision else "not used on this machine"
    return f"default precision {machine.precision}: {fast.reason}; {where} ({machine.reason})"


def load_precision(saved: str, check: dict | None, device: str) -> str | None:
    """The precision a model saved at ``saved`` precision, with ``model.json``'s ``fast_path``
    ``check``, loads in by default here: bf16 where the model allows it and this machine runs it
    faster; None to keep the saved precision."""
    if not device.startswith("cpu") or saved != "fp32" or not isinstance(check, dict) or not check.get("allowed"):
        return None
    return FAST if machine_choice().precision == FAST else None
