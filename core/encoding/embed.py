"""Sentence embeddings from a frozen encoder: length-sorted batches, cache, progress and cancel."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from bertsent.core.base.errors import Cancelled, RecipeError
from bertsent.core.base.paths import cache_dir
from bertsent.core.encoding.cache import EmbeddingCache, cache_key, text_hash
from bertsent.core.encoding.encoder import Encoder
from bertsent.core.encoding.encoders import KNOWN
from bertsent.core.encoding.layers import ALL, LAST, describe_layers, resolve_layers

POOLINGS = ("layers", "mean", "cls")
DEFAULT_POOLING = "layers"
# Not a recipe but the layer probe's features: every layer's [CLS] and mean vector, from one
# forward pass, cached like any pooling. Row layout: (layers, 2 = [cls, mean], hidden) flattened.
HIDDEN = "hidden"
POOLING_HELP = {
    "layers": "each layer's mean-pooled output, concatenated (best measured; default layers: set per encoder)",
    "mean": "mean of the token vectors (default layer: the last; several layers: concatenated)",
    "cls": "the [CLS] vector (default layer: the last, the tutorial's recipe; several layers: concatenated)",
}


def default_layers(pooling: str, encoder_name: str = "") -> str:
    """The layer set a pooling reads when none is given: for the concatenated pooling, the set
    measured to keep the all-layer accuracy at less cost for a known encoder
    (``KnownEncoder.default_layers``, see docs/layers.md) and every layer for any other; the last
    layer for ``mean`` and ``cls``; every layer for the probe's rows."""
    if pooling == HIDDEN:
        return ALL
    if pooling != "layers":
        return LAST
    known = next((k for k in KNOWN.values() if encoder_name in (k.name, k.hub_id)), None)
    return known.default_layers if known else ALL


@dataclass(frozen=True)
class EmbedProgress:
    """Progress of one :meth:`Embedder.embed` call."""

    done: int
    total: int
    cached: int
    elapsed: float
    rate: float  # sentences computed per second (cache hits excluded)

    @property
    def eta(self) -> float | None:
        if self.rate <= 0:
            return None
        return (self.total - self.done) / self.rate


ProgressCallback = Callable[[EmbedProgress], None]


@dataclass(frozen=True)
class Vectors:
    """Sentence vectors, ``(n, dim)`` float32, and how many distinct sentences were longer than the
    encoder's limit (and cut to it)."""

    array: np.ndarray
    truncated: int


class Embedder:
    """Turn sentences into fixed-size vectors with a frozen :class:`Encoder`.

    Batches are formed over the distinct sentences sorted by token length (and a token budget),
    so a resumed run computes exactly the batches an uninterrupted run computes.
    """

    def __init__(
        self,
        encoder: Encoder,
        pooling: str = DEFAULT_POOLING,
        *,
        layers: str | Sequence[int] | None = None,
        batch_tokens: int | None = None,
        max_batch: int | None = None,
        cache: EmbeddingCache | bool = True,
        flush_every: int = 1024,
    ) -> None:
        if pooling not in (*POOLINGS, HIDDEN):
            raise ValueError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
        if pooling == HIDDEN and layers is not None:
            raise RecipeError("the probe's rows hold every layer: no layer set applies")
        self.encoder = encoder
        self.pooling = pooling
        # the layers the vectors are made of; the encoder runs only as deep as the deepest
        layers = default_layers(pooling, encoder.name) if layers is None else layers
        self.layers = resolve_layers(layers, encoder.num_layers)
        self.depth = max(self.layers)
        # CPU: small batches stay in the caches (measured, see README); a GPU needs large ones to be busy.
        on_cuda = encoder.device.startswith("cuda")
        self.batch_tokens = batch_tokens or (65536 if on_cuda else 2048)
        self.max_batch = max_batch or (1024 if on_cuda else 32)
        self.flush_every = flush_every
        if cache is True:
            cache = EmbeddingCache(cache_dir() / "embeddings", self.cache_key)
        self.cache = cache or None

    @property
    def dim(self) -> int:
        return len(self.layers) * self.encoder.hidden_size * (2 if self.pooling == HIDDEN else 1)

    @property
    def layer_note(self) -> str:
        """The layer set for people: "layers 0-4 (4 of 6 transformer layers run)"."""
        return describe_layers(self.layers, self.encoder.num_layers)

    @property
    def cache_key(self) -> str:
        return cache_key(
            encoder=self.encoder.fingerprint,
            pooling=self.pooling,
            layers=list(self.layers),
            max_length=self.encoder.max_length,
            precision=self.encoder.precision,
        )

    def embed(
        self,
        texts: list[str],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Vectors for ``texts`` in input order, shape ``(len(texts), dim)``, float32 (see :meth:`vectors`)."""
        return self.vectors(texts, progress, cancel).array

    def vectors(
        self,
        texts: list[str],
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
    ) -> Vectors:
        """Vectors for ``texts`` in input order, with how many sentences were cut to the encoder's limit.

        Raises :class:`Cancelled` when ``cancel`` is set; every finished batch stays cached.
        """
        start = time.perf_counter()
        unique = list(dict.fromkeys(texts))
        hashes = [text_hash(t) for t in unique]
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        vectors = result[: len(unique)]  # distinct sentences first; repeats are filled in at the end
        lengths = np.zeros(len(unique), dtype=np.int64)
        have = self.cache.fill(hashes, vectors, lengths) if self.cache else np.zeros(len(unique), dtype=bool)
        cached = int(have.sum())
        done, computed = cached, 0
        pending: list[int] = []

        def report() -> None:
            if progress:
                elapsed = time.perf_counter() - start
                rate = computed / elapsed if elapsed > 0 else 0.0
                progress(EmbedProgress(done, len(unique), cached, elapsed, rate))

        report()
        if cached < len(unique):
            ids, lengths = self.encoder.encode_ids(unique)
            try:
                for batch in self.batches_of(ids):
                    if have[batch].all():
                        continue
                    if cancel is not None and cancel.is_set():
                        raise Cancelled(
                            f"embedding cancelled at {done:,} of {len(unique):,} sentences; run again to resume"
                        )
                    vectors[batch] = self.forward([ids[i] for i in batch])
                    fresh = batch[~have[batch]]
                    have[batch] = True
                    pending.extend(fresh.tolist())
                    done += len(fresh)
                    computed += len(fresh)
                    if len(pending) >= self.flush_every:
                        self._flush(pending, hashes, vectors, lengths)
                    report()
            finally:
                self._flush(pending, hashes, vectors, lengths)
            if self.cache:
                self.cache.compact(hashes, vectors, lengths)
        truncated = int((lengths > self.encoder.max_length).sum())
        if len(unique) < len(texts):
            _spread(result, unique, texts)
        return Vectors(result, truncated)

    def batches_of(self, ids: list[list[int]]) -> list[np.ndarray]:
        """Index arrays of length-sorted batches within the token budget."""
        lengths = np.fromiter((len(x) for x in ids), dtype=np.int64, count=len(ids))
        order = np.argsort(lengths, kind="stable")
        batches: list[np.ndarray] = []
        begin = 0
        for end in range(1, len(order) + 1):
            width = lengths[order[end - 1]]
            if end - begin >= self.max_batch or (end - begin) * width >= self.batch_tokens or end == len(order):
                batches.append(order[begin:end])
                begin = end
        return batches

    def forward(self, batch_ids: list[list[int]]) -> np.ndarray:
        """Pooled vectors of one batch of id lists (no cache), the encoder run only to ``depth``."""
        import torch

        inputs = self.encoder.batch_tensors(batch_ids)
        only_last = self.layers == (self.depth,)  # the last hidden state is all it reads
        with torch.inference_mode():
            output = self.encoder.upto(self.depth)(**inputs, output_hidden_states=not only_last)
        layers = None if only_last else self.layers
        return pool(output, inputs["attention_mask"], self.pooling, layers).float().cpu().numpy()

    def _flush(self, pending: list[int], hashes: list[bytes], vectors: np.ndarray, lengths: np.ndarray) -> None:
        if self.cache and pending:
            self.cache.add([hashes[i] for i in pending], vectors[pending], lengths[pending])
        pending.clear()


def _spread(result: np.ndarray, unique: list[str], texts: list[str]) -> None:
    """Rearrange in place: rows of ``unique`` (in first-occurrence order) to rows of ``texts``.

    Text ``i``'s source row is never after ``i``, so filling from the last row back reads every
    source before it is overwritten: no second copy of the vectors is needed.
    """
    index = {text: row for row, text in enumerate(unique)}
    source = np.fromiter((index[t] for t in texts), dtype=np.int64, count=len(texts))
    for row in np.flatnonzero(source != np.arange(len(texts)))[::-1]:
        result[row] = result[source[row]]


def pool(output, mask, pooling: str, layers: Sequence[int] | None = None):
    """Pool a transformers model output into one vector per sentence: the ``layers`` of its hidden
    states (None: its last hidden state alone) each pooled, concatenated in layer order."""
    import torch

    states = [output.last_hidden_state] if layers is None else [output.hidden_states[i] for i in layers]
    if pooling == "cls":
        return torch.cat([h[:, 0] for h in states], dim=1)
    weights = mask.unsqueeze(-1).to(output.last_hidden_state.dtype)
    count = weights.sum(dim=1).clamp(min=1)
    means = [(h * weights).sum(dim=1) / count for h in states]
    if pooling == HIDDEN:
        pairs = zip(states, means, strict=True)
        return torch.cat([part for h, mean in pairs for part in (h[:, 0], mean)], dim=1)
    return torch.cat(means, dim=1)
