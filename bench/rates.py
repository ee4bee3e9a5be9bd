"""Sentences per second of the three ways to embed that the bench compares: the tutorial's loop,
ours (``Embedder``) and sentence-transformers' ``encode()``. A module of its own so that every
bench part imports it without importing the bench's entry point."""

from __future__ import annotations

import time


def tutorial_rate(encoder, texts: list[str], chunk: int = 64) -> float:
    """The tutorial's way: chunks in file order, padded to their longest, fp32, [CLS] kept."""
    import torch

    start = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(texts), chunk):
            batch = encoder.tokenizer(texts[i : i + chunk], padding=True, return_tensors="pt")
            encoder.model(**{k: v.to(encoder.device) for k, v in batch.items()}).last_hidden_state[:, 0].cpu()
    return len(texts) / (time.perf_counter() - start)


def embedder_rate(embedder, texts: list[str]) -> float:
    """Ours: an ``Embedder`` (uncached, its recipe and precision as given) over ``texts``."""
    start = time.perf_counter()
    embedder.embed(texts)
    return len(texts) / (time.perf_counter() - start)


def st_rate(folder: str, texts: list[str], device: str) -> float:
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(folder, device=device)
    model.encode(texts[:32])
    start = time.perf_counter()
    model.encode(texts, batch_size=32)
    return len(texts) / (time.perf_counter() - start)
