"""Encoders and embeddings: the encoders known by name and their install, layer sets, the frozen
encoder, the embedding cache and ``Embedder``. Imports ``core.base`` and ``core.data``."""
