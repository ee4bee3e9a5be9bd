"""Fine-tuning: train the encoder and a linear head together on the training split.

The model is the frozen recipe's shape (mean pooling, then a linear head with one output per class,
trained with softmax cross-entropy), so the result is an
ordinary :class:`SentimentModel`: prediction, token scores and saving work as for frozen models.
Training checkpoints to the cache as it goes; an interrupted run resumes from the last one and
ends with the weights an uninterrupted run would have.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from bertsent.core.base.errors import Cancelled, DataError
from bertsent.core.base.files import atomic_write_bytes
from bertsent.core.base.paths import cache_dir
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import Dataset, data_hash
from bertsent.core.encoding.embed import Embedder, pool
from bertsent.core.encoding.encoder import Encoder, weights_fingerprint

if TYPE_CHECKING:  # imported when needed: scikit-learn is slow to import, and `bertsent --help` needs none of it
    from bertsent.core.models.model import SentimentModel

BUCKET = 50  # batches per length bucket: little padding, still a shuffled order


@dataclass(frozen=True)
class FinetuneSettings:
    epochs: int = 3
    lr: float = 5e-5
    batch_size: int = 32
    max_length: int = 96
    warmup: float = 0.1  # share of the steps with a linear warm-up; the rest decays linearly to 0
    weight_decay: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.max_length < 8 or not self.lr > 0:
            raise ValueError("epochs and batch size must be at least 1, max length at least 8, lr positive")


@dataclass(frozen=True)
class FinetuneProgress:
    step: int
    total: int
    loss: float  # mean training loss over the last 20 steps
    rate: float  # training sentences per second since this run (or resume) started
    elapsed: float
    batch_size: int

    @property
    def eta(self) -> float | None:
        if not self.rate or self.step >= self.total:
            return None
        return (self.total - self.step) * self.batch_size / self.rate


FinetuneCallback = Callable[[FinetuneProgress], None]


class FineTuner:
    """Fine-tune ``encoder`` (a name, id or folder) with mean pooling and a linear head.

    ``checkpoints``: a folder for resumable state (default: the bertsent cache; None: no
    checkpoints). A checkpoint is written every ``checkpoint_every`` seconds and on cancel.
    """

    def __init__(
        self,
        encoder: str = "minilm",
        settings: FinetuneSettings | None = None,
        *,
        device: str | None = None,
        checkpoints: str | Path | None = "default",
        checkpoint_every: float = 60.0,
    ) -> None:
        self.encoder = encoder
        self.settings = settings or FinetuneSettings()
        self.device = device
        self.checkpoints = cache_dir() / "finetune" if checkpoints == "default" else checkpoints
        self.checkpoint_every = checkpoint_every
        self.resumed_from = 0
        self.checkpoint: Path | None = None  # the finished run's, when kept (see ``fit``)

    def fit(
        self,
        dataset: Dataset,
        progress: FinetuneCallback | None = None,
        cancel: threading.Event | None = None,
        *,
        classes: ClassSet | None = None,
        stop_after: int | None = None,
        keep_checkpoint: bool = False,
    ) -> SentimentModel:
        """Train on ``dataset``; raises :class:`Cancelled` (after checkpointing) when ``cancel`` is set.

        ``classes`` orders the head's outputs (default: the dataset's labels, sorted).

        ``stop_after`` ends the run after that many steps as if cancelled (for tests and demos).
        ``keep_checkpoint``: checkpoint the finished weights too and leave that file (``self.checkpoint``)
        for the caller to remove once the model is saved, so a failure before then loses no training.
        """
        import torch
        from bertsent.core.models.classifier import SentimentClassifier
        from bertsent.core.models.model import SentimentModel

        s = self.settings
        classes = classes or ClassSet.of(dataset.labels)
        if len(classes) < 2:
            raise DataError(f"cannot fine-tune on {dataset.source or 'these sentences'}: it has one class only")
        torch.manual_seed(s.seed)
        encoder = Encoder.load(self.encoder, device=self.device, max_length=s.max_length, precision="fp32")
        model = encoder.model.train().requires_grad_(True)
        head = torch.nn.Linear(encoder.hidden_size, len(classes)).to(encoder.device)
        ids, lengths = encoder.encode_ids(dataset.texts)
        targets = torch.as_tensor(classes.indices(dataset.labels), dtype=torch.long)
        per_epoch = math.ceil(len(ids) / s.batch_size)
        total = s.epochs * per_epoch
        optimizer = torch.optim.AdamW(_param_groups(model, head, s.weight_decay), lr=s.lr)
        warmup = max(1, int(s.warmup * total))
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min((step + 1) / warmup, max(0.0, (total - step) / max(1, total - warmup)))
        )
        autocast, scaler = _mixed_precision(encoder.device)
        path = self._checkpoint_path(encoder, dataset, classes)
        step = self._resume(path, model, head, optimizer, scheduler, scaler, total)
        self.resumed_from = step
        order: list[np.ndarray] = []
        recent: list[float] = []
        start, saved, done_here = time.perf_counter(), time.perf_counter(), 0
        while step < total:
            epoch, index = divmod(step, per_epoch)
            if index == 0 or not order:
                order = _epoch_batches(lengths, s.batch_size, s.seed, epoch)
            batch = order[index]
            inputs = encoder.batch_tensors([ids[i] for i in batch])
            with autocast():
                output = model(**inputs)
                logits = head(pool(output, inputs["attention_mask"], "mean").float())
            loss = torch.nn.functional.cross_entropy(logits, targets[batch].to(logits.device))
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_([p for group in optimizer.param_groups for p in group["params"]], 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            done_here += len(batch)
            recent = (recent + [loss.item()])[-20:]
            elapsed = time.perf_counter() - start
            if progress:
                rate = done_here / elapsed
                progress(FinetuneProgress(step, total, float(np.mean(recent)), rate, elapsed, s.batch_size))
            stopping = (cancel is not None and cancel.is_set()) or (stop_after is not None and step >= stop_after)
            if path and step < total and (stopping or time.perf_counter() - saved >= self.checkpoint_every):
                _save_checkpoint(path, step, model, head, optimizer, scheduler, scaler)
                saved = time.perf_counter()
            if stopping and step < total:
                where = "; run again to resume" if path else ""
                raise Cancelled(f"fine-tuning stopped at step {step:,} of {total:,}{where}")
        if path and keep_checkpoint:
            if self.resumed_from < total:  # resumed at the end: that checkpoint is this one
                _save_checkpoint(path, step, model, head, optimizer, scheduler, scaler)
            self.checkpoint = path
        elif path:
            path.unlink(missing_ok=True)
        model.eval().requires_grad_(False)
        trained = encoder.with_weights(model, "fp32", weights_fingerprint(model, encoder.tokenizer), finetuned=True)
        weight = head.weight.detach().float().cpu().numpy().astype(np.float64)
        bias = head.bias.detach().float().cpu().numpy().astype(np.float64)
        head_classifier = SentimentClassifier.from_linear(weight, bias, classes.array)
        return SentimentModel(Embedder(trained, "mean", cache=False), head_classifier)

    def _checkpoint_path(self, encoder: Encoder, dataset: Dataset, classes: ClassSet) -> Path | None:
        if self.checkpoints is None:
            return None
        key = json.dumps(
            {
                "encoder": encoder.fingerprint,
                "data": data_hash(dataset),
                "settings": asdict(self.settings),
                **({"classes": list(classes.labels)} if classes != ClassSet.of(dataset.labels) else {}),
            },
            sort_keys=True,
        )
        return Path(self.checkpoints) / f"{hashlib.sha256(key.encode()).hexdigest()[:24]}.pt"

    def _resume(self, path, model, head, optimizer, scheduler, scaler, total) -> int:
        """Load the checkpoint at ``path`` if there is a sound one; return the step to start at."""
        import torch

        if path is None or not path.is_file():
            return 0
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)  # tensors only: cannot run code
            model.load_state_dict(state["model"])
            head.load_state_dict(state["head"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            scaler.load_state_dict(state["scaler"])
            torch.set_rng_state(state["rng"])
            if torch.cuda.is_available() and "cuda_rng" in state:
                torch.cuda.set_rng_state_all(state["cuda_rng"])
            step = int(state["step"])
        except Exception:  # noqa: BLE001 - a damaged checkpoint means starting over, not failing
            path.unlink(missing_ok=True)
            return 0
        return step if 0 < step <= total else 0  # ``total``: finished, kept until its model was saved


def _param_groups(model, head, weight_decay: float) -> list[dict]:
    """No weight decay on biases and LayerNorm weights, as BERT was trained."""
    decay: list = []
    plain: list = []
    for name, parameter in [*model.named_parameters(), *(("head." + n, p) for n, p in head.named_parameters())]:
        (plain if parameter.ndim < 2 or "LayerNorm" in name or "layer_norm" in name else decay).append(parameter)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": plain, "weight_decay": 0.0}]


def _epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """A shuffled epoch in batches of similar length: shuffle, sort within buckets, shuffle batches."""
    rng = np.random.default_rng([seed, epoch])
    order = rng.permutation(len(lengths))
    batches: list[np.ndarray] = []
    bucket = batch_size * BUCKET
    for begin in range(0, len(order), bucket):
        chunk = order[begin : begin + bucket]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    return [batches[i] for i in rng.permutation(len(batches))]


def _mixed_precision(device: str):
    """Autocast context and gradient scaler: bf16 (or fp16 with scaling) on CUDA, fp32 on the CPU."""
    import contextlib

    import torch

    if not device.startswith("cuda"):
        return contextlib.nullcontext, torch.amp.GradScaler("cpu", enabled=False)
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return (
        lambda: torch.autocast("cuda", dtype=dtype),
        torch.amp.GradScaler("cuda", enabled=dtype == torch.float16),
    )


def _save_checkpoint(path: Path, step, model, head, optimizer, scheduler, scaler) -> None:
    import torch

    state = {
        "step": step,
        "model": model.state_dict(),
        "head": head.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "scaler": scaler.state_dict(),
        "rng": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda_rng"] = torch.cuda.get_rng_state_all()
    buffer = io.BytesIO()
    torch.save(state, buffer)
    atomic_write_bytes(path, buffer.getvalue())
