"""Embedding: input order, caching, cancel and exact resume."""

import threading

import numpy as np
import pytest
from bertsent.core.base.errors import Cancelled
from bertsent.core.encoding.cache import EmbeddingCache
from bertsent.core.encoding.embed import Embedder

TEXTS = [
    "a gorgeous , witty , seductive movie .",
    "it 's a bad sign when you 're rooting for the film to end .",
    "good",
    "the story is far from original , but the performances are wonderful and the pacing brisk .",
    "good",
    "dull",
]


def test_rows_follow_input_order_whatever_the_batching(encoder):
    embedder = Embedder(encoder, "mean", cache=False, max_batch=2)
    together = embedder.embed(TEXTS)
    alone = np.vstack([embedder.embed([t]) for t in TEXTS])
    assert together.shape == (len(TEXTS), encoder.hidden_size)
    np.testing.assert_allclose(together, alone, atol=1e-4)
    np.testing.assert_array_equal(together[2], together[4])


def test_layers_pooling_concatenates_every_layer(encoder):
    vectors = Embedder(encoder, "layers", layers="all", cache=False).embed(TEXTS[:2])
    assert vectors.shape == (2, (encoder.num_layers + 1) * encoder.hidden_size)
    mean = Embedder(encoder, "mean", cache=False).embed(TEXTS[:2])
    np.testing.assert_allclose(vectors[:, -encoder.hidden_size :], mean, atol=1e-5)


def test_second_run_comes_from_the_cache(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path, "k")
    first = Embedder(encoder, "cls", cache=cache).embed(TEXTS)
    seen = []
    again = Embedder(encoder, "cls", cache=cache).embed(TEXTS, progress=seen.append)
    np.testing.assert_array_equal(first, again)
    assert seen[-1].cached == len(set(TEXTS)) == seen[-1].done


def test_cancel_then_resume_gives_exactly_the_uninterrupted_vectors(encoder, sst2_splits, tmp_path):
    texts = sst2_splits.test.texts[:300]
    reference = Embedder(encoder, "mean", cache=False, max_batch=16).embed(texts)
    cache = EmbeddingCache(tmp_path, "resume")
    cancel = threading.Event()

    def stop_midway(progress):
        if progress.done >= 100:
            cancel.set()

    embedder = Embedder(encoder, "mean", cache=cache, max_batch=16, flush_every=32)
    with pytest.raises(Cancelled, match="run again to resume"):
        embedder.embed(texts, progress=stop_midway, cancel=cancel)
    partial = len(cache.shards())
    assert partial >= 1
    seen = []
    resumed = embedder.embed(texts, progress=seen.append)
    assert 100 <= seen[0].cached < len(texts)
    np.testing.assert_array_equal(resumed, reference)


def test_damaged_shard_is_ignored(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path, "dmg")
    embedder = Embedder(encoder, "cls", cache=cache)
    first = embedder.embed(TEXTS[:3])
    for shard in cache.shards():
        shard.write_bytes(b"not a zip")
    np.testing.assert_array_equal(embedder.embed(TEXTS[:3]), first)


def test_cache_key_depends_on_pooling_and_weights(encoder):
    assert Embedder(encoder, "cls", cache=False).cache_key != Embedder(encoder, "mean", cache=False).cache_key


def test_the_cache_never_serves_one_encoders_vectors_to_another(tiny_distilbert, encoder, tmp_path, monkeypatch):
    """Two encoders of the same shape and settings but other weights share nothing in the cache."""
    import torch
    from bertsent.core.encoding.encoder import Encoder
    from transformers import AutoModel

    other = tmp_path / "other-weights"
    torch.manual_seed(1)
    AutoModel.from_config(AutoModel.from_pretrained(tiny_distilbert).config).save_pretrained(other)
    encoder.tokenizer.save_pretrained(other)
    monkeypatch.setenv("BERTSENT_CACHE", str(tmp_path / "cache"))
    first, second = Encoder.load(str(tiny_distilbert)), Encoder.load(str(other))
    Embedder(first, "mean").embed(TEXTS)
    from_cache = Embedder(second, "mean").embed(TEXTS)
    np.testing.assert_array_equal(from_cache, Embedder(second, "mean", cache=False).embed(TEXTS))


def test_poolings_are_the_first_token_and_the_mask_weighted_mean(encoder):
    """Computed here straight from the transformer's output, as the tutorial does."""
    import torch

    texts = TEXTS[:3]
    batch = encoder.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.inference_mode():
        hidden = encoder.model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    np.testing.assert_allclose(Embedder(encoder, "cls", cache=False).embed(texts), hidden[:, 0].numpy(), atol=1e-4)
    mean = ((hidden * mask).sum(1) / mask.sum(1)).numpy()
    np.testing.assert_allclose(Embedder(encoder, "mean", cache=False).embed(texts), mean, atol=1e-4)


def test_truncation_is_counted_from_the_cache_too(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path, "trunc")
    texts = ["word " * 1000, "short"]
    first = Embedder(encoder, "cls", cache=cache).vectors(texts)
    again = Embedder(encoder, "cls", cache=cache).vectors(texts)
    assert first.truncated == again.truncated == 1


def test_many_shards_are_compacted_into_one(encoder, tmp_path):
    cache = EmbeddingCache(tmp_path, "compact")
    embedder = Embedder(encoder, "cls", cache=cache, max_batch=1, flush_every=1)
    texts = [f"sentence number {i}" for i in range(12)]
    vectors = embedder.embed(texts)
    assert len(cache.shards()) == 1
    seen = []
    np.testing.assert_array_equal(Embedder(encoder, "cls", cache=cache).embed(texts, progress=seen.append), vectors)
    assert seen[-1].cached == 12


def test_repeated_sentences_are_spread_in_place_to_input_order():
    from bertsent.core.encoding.embed import _spread

    rng = np.random.default_rng(0)
    for _ in range(200):
        texts = [str(x) for x in rng.integers(0, 8, size=rng.integers(1, 30))]
        unique = list(dict.fromkeys(texts))
        vector = {t: rng.normal(size=3) for t in unique}
        result = np.zeros((len(texts), 3))
        result[: len(unique)] = [vector[t] for t in unique]
        _spread(result, unique, texts)
        assert np.array_equal(result, np.array([vector[t] for t in texts]))
