"""Results the screens share through the app: what was embedded, and the model in use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Embedding:
    """Splits (after the limit), the embedder used and their embeddings (core objects)."""

    splits: Any  # core.data.dataset.Splits
    embedder: Any  # core.encoding.embed.Embedder
    embedded: Any  # core.models.train.Embedded


@dataclass(frozen=True)
class ActiveModel:
    """The model used by Predict and where it came from, in words."""

    model: Any  # core.models.model.SentimentModel
    origin: str
