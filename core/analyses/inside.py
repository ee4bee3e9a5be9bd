"""Look inside a model: a 2-D map of sentence vectors, and one sentence's attention weights."""

from __future__ import annotations

import copy
import threading
import weakref
from dataclasses import dataclass

import numpy as np
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import DataError
from bertsent.core.base.text import sentence_problem
from bertsent.core.data.classes import ClassSet
from bertsent.core.data.dataset import Dataset, align_labels
from bertsent.core.encoding.embed import ProgressCallback
from bertsent.core.encoding.encoder import Encoder
from bertsent.core.models.model import SentimentModel

PROJECTIONS = ("pca", "tsne")


@dataclass(frozen=True)
class SentenceMap:
    """Test sentences projected to 2-D, with their true and predicted labels."""

    method: str
    xy: np.ndarray  # (n, 2)
    texts: list[str]
    labels: np.ndarray  # true labels, values from ``classes``
    predicted: np.ndarray
    confidence: np.ndarray  # probability of the predicted class
    classes: ClassSet  # the model's classes, in its order

    @property
    def mistakes(self) -> np.ndarray:
        return self.labels != self.predicted

    def to_rows(self) -> list[dict]:
        """One JSON object per sentence; labels as given (integers or strings)."""
        return [
            {
                "x": float(x),
                "y": float(y),
                "label": label,
                "predicted": predicted,
                "confidence": float(confidence),
                "text": text,
            }
            for (x, y), label, predicted, confidence, text in zip(
                self.xy.tolist(),
                self.labels.tolist(),
                self.predicted.tolist(),
                self.confidence,
                self.texts,
                strict=True,
            )
        ]


def sentence_map(
    model: SentimentModel,
    dataset: Dataset,
    *,
    method: str = "pca",
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> SentenceMap:
    """Embed ``dataset`` with the model's embedder (cached), predict, and project the vectors the
    classifier sees (standardized) to 2-D: PCA, or t-SNE (on the first 50 principal components).

    Labels that are not the model's classes are refused, as ``evaluate`` refuses them (``align_labels``).
    """
    if method not in PROJECTIONS:
        raise DataError(f"unknown projection {method!r}; choose from {', '.join(PROJECTIONS)}")
    dataset = align_labels(dataset, model.classes)
    if len(dataset) < 3:
        raise DataError("a sentence map needs at least 3 sentences")
    from sklearn.decomposition import PCA

    vectors = model.embedder.embed(dataset.texts, progress, cancel)
    classifier = model.classifier
    proba = classifier.predict_proba(vectors)
    predicted = model.classes.array[decide(proba)]
    Z = classifier.standardize(vectors)
    if method == "pca":
        xy = PCA(n_components=2, random_state=0).fit_transform(Z)
    else:
        from sklearn.manifold import TSNE

        reduced = PCA(n_components=min(50, *Z.shape), random_state=0).fit_transform(Z)
        perplexity = float(min(30, max(2, (len(Z) - 1) // 3)))
        xy = TSNE(n_components=2, init="pca", perplexity=perplexity, random_state=0).fit_transform(reduced)
    return SentenceMap(
        method,
        np.asarray(xy, dtype=np.float64),
        list(dataset.texts),
        np.asarray(dataset.labels),
        predicted,
        proba.max(axis=1),
        model.classes,
    )


@dataclass(frozen=True)
class Attention:
    """Attention weights of one sentence: ``weights[layer, head, query, key]``, rows sum to 1."""

    tokens: list[str]  # [CLS] first, [SEP] last
    weights: np.ndarray  # (layers, heads, n, n)
    truncated: bool

    @property
    def layers(self) -> int:
        return self.weights.shape[0]

    @property
    def heads(self) -> int:
        return self.weights.shape[1]

    def grid(self, layer: int, head: int | None) -> np.ndarray:
        """The (n, n) weights of one head, or their average over heads when ``head`` is None."""
        weights = self.weights[layer]
        return weights.mean(axis=0) if head is None else weights[head]


_eager_models: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_eager_lock = threading.Lock()


def _eager_model(encoder: Encoder):
    """A copy of the encoder's model that returns attention weights (fast kernels do not).

    A copy, so embedding in another thread keeps its fast kernels; made once per encoder.
    """
    with _eager_lock:
        model = _eager_models.get(encoder)
        if model is None:
            model = copy.deepcopy(encoder.model)
            model.set_attn_implementation("eager")
            _eager_models[encoder] = model
        return model


def attention(encoder: Encoder, text: str) -> Attention:
    """Every layer's and head's attention weights for ``text`` (truncated to the encoder's limit)."""
    import torch

    if problem := sentence_problem(text):
        raise DataError(f"cannot show attention: {problem}")
    tokens = encoder.tokenize(text)
    inputs = encoder.batch_tensors([tokens.ids])
    with torch.inference_mode():
        output = _eager_model(encoder)(**inputs, output_attentions=True)
    weights = torch.stack([a[0] for a in output.attentions]).float().cpu().numpy()
    return Attention(tokens.tokens, weights, tokens.truncated)
