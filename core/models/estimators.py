"""scikit-learn estimators: sentences to vectors with a frozen encoder, and the export of a model.

``SentenceEmbedder`` is a transformer (``fit``/``transform``/``get_params``), so it composes with
:class:`~bertsent.core.models.classifier.SentimentClassifier` in a ``Pipeline`` that ``clone``,
``cross_val_score`` and ``GridSearchCV`` handle like any other. :func:`to_pipeline` turns a saved
bertsent model into such a pipeline, for people's own code (``bertsent export``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
from bertsent.core.encoding.embed import DEFAULT_POOLING, Embedder
from bertsent.core.encoding.encoder import DEFAULT_ENCODER, Encoder
from bertsent.core.encoding.layers import format_layers
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted


class SentenceEmbedder(TransformerMixin, BaseEstimator):
    """Sentences (any iterable of str) to fixed-size vectors with a frozen encoder.

    ``fit`` loads the encoder (it learns nothing from the data); ``cache`` uses bertsent's
    embedding cache, so refitting the same sentences in a search costs little.
    """

    def __init__(
        self,
        encoder: str = DEFAULT_ENCODER,
        pooling: str = DEFAULT_POOLING,
        *,
        layers: str | None = None,
        device: str | None = None,
        precision: str = "auto",
        cache: bool = False,
    ) -> None:
        self.encoder = encoder
        self.pooling = pooling
        self.layers = layers  # as --layers takes it; None: the pooling's default
        self.device = device
        self.precision = precision
        self.cache = cache

    def fit(self, X: Iterable[str], y: object = None) -> SentenceEmbedder:
        encoder = Encoder.load(self.encoder, device=self.device, precision=self.precision)
        self.embedder_ = Embedder(encoder, self.pooling, layers=self.layers, cache=self.cache)
        self.n_features_out_ = self.embedder_.dim
        return self

    def transform(self, X: Iterable[str]) -> np.ndarray:
        check_is_fitted(self, "embedder_")
        if isinstance(X, str | bytes) or (isinstance(X, np.ndarray) and X.dtype.kind not in "UO"):
            raise TypeError(f"SentenceEmbedder takes sentences (a list of str), not {type(X).__name__} of {X!r:.40}")
        return self.embedder_.embed([str(text) for text in X])

    def get_feature_names_out(self, input_features: object = None) -> np.ndarray:
        check_is_fitted(self, "embedder_")
        return np.asarray([f"{self.pooling}{i}" for i in range(self.n_features_out_)], dtype=object)

    @classmethod
    def fitted(cls, embedder: Embedder) -> SentenceEmbedder:
        """A fitted transformer around an already loaded embedder (a saved model's, possibly fine-tuned)."""
        encoder = embedder.encoder
        layers = format_layers(embedder.layers)
        self = cls(encoder.name, embedder.pooling, layers=layers, precision=encoder.precision)
        self.embedder_ = Embedder(encoder, embedder.pooling, layers=layers, cache=False)
        self.n_features_out_ = self.embedder_.dim
        return self

    # Pickled (joblib) as the encoder's standard files, not as torch objects: a torch module
    # does not survive pickling intact in every transformers version, and the files load anywhere.
    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        embedder = state.pop("embedder_", None)
        if embedder is not None:
            state["encoder_files_"] = _encoder_files(embedder.encoder)
            state["max_length_"] = embedder.encoder.max_length
        return state

    def __setstate__(self, state: dict) -> None:
        files = state.pop("encoder_files_", None)
        max_length = state.pop("max_length_", 512)
        state.setdefault("layers", "all" if state.get("pooling") == "layers" else None)  # pickled before layer sets
        self.__dict__.update(state)
        if files is not None:
            with tempfile.TemporaryDirectory(prefix="bertsent-encoder-") as folder:
                for name, data in files.items():
                    (Path(folder) / name).write_bytes(data)
                encoder = Encoder.load(
                    self.encoder, device=self.device, max_length=max_length, precision=self.precision, source=folder
                )
            self.embedder_ = Embedder(encoder, self.pooling, layers=self.layers, cache=False)


def _encoder_files(encoder: Encoder) -> dict[str, bytes]:
    """The encoder's weights (safetensors), config and tokenizer files, by name."""
    with tempfile.TemporaryDirectory(prefix="bertsent-encoder-") as folder:
        encoder.model.save_pretrained(folder, safe_serialization=True)
        encoder.tokenizer.save_pretrained(folder)
        return {path.name: path.read_bytes() for path in Path(folder).iterdir() if path.is_file()}


def to_pipeline(model):
    """A saved model (``core.models.model.SentimentModel``) as a fitted ``Pipeline(embed, classify)``."""
    from bertsent.core.models.classifier import SentimentClassifier
    from sklearn.pipeline import Pipeline  # imported here: it loads Rich, which core itself never needs

    classifier = model.classifier  # a loaded model's predicts without scikit-learn: made an estimator
    if not isinstance(classifier, SentimentClassifier):
        classifier = SentimentClassifier.from_arrays(classifier.to_arrays())
    return Pipeline([("embed", SentenceEmbedder.fitted(model.embedder)), ("classify", classifier)])
