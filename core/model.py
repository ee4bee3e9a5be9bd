"""A trained sentiment model: a frozen encoder's embeddings fed to a logistic regression."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator

import numpy as np

from core.classifier import SentimentClassifier
from core.data import LABEL_NAMES
from core.embed import Embedder, ProgressCallback
from core.errors import DataError
from core.explain import Prediction, occlusion_scores


class SentimentModel:
    """Predict labels, P(positive) and token scores for raw sentences."""

    def __init__(self, embedder: Embedder, classifier: SentimentClassifier) -> None:
        self.embedder = embedder
        self.classifier = classifier

    @property
    def encoder(self):
        return self.embedder.encoder

    def predict_proba(
        self, texts: list[str], progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), 2)``: columns are labels 0 and 1."""
        return self.classifier.predict_proba(self.embedder.embed(texts, progress, cancel))

    def predict(self, texts: list[str]) -> np.ndarray:
        return self.classifier.predict(self.embedder.embed(texts))

    def positive_proba_ids(self, batch_ids: list[list[int]]) -> np.ndarray:
        """P(positive) for already tokenized sentences (no cache: used for occlusion)."""
        proba = np.empty(len(batch_ids))
        for batch in self.embedder.batches_of(batch_ids):
            vectors = self.embedder.forward([batch_ids[i] for i in batch])
            proba[batch] = self.classifier.predict_proba(vectors)[:, 1]
        return proba

    def explain(self, text: str) -> Prediction:
        """Label, P(positive) and occlusion scores per WordPiece token and per word."""
        if not text.strip():
            raise DataError("cannot predict an empty sentence")
        tokens = self.encoder.tokenize(text)
        probability, token_scores, word_scores = occlusion_scores(tokens.ids, tokens.tokens, self.positive_proba_ids)
        label = int(probability >= 0.5)
        return Prediction(text, label, LABEL_NAMES[label], probability, token_scores, word_scores, tokens.truncated)

    def explain_many(self, texts: Iterable[str]) -> Iterator[Prediction | DataError]:
        """Stream predictions; an unusable line yields its DataError instead of stopping the stream."""
        for text in texts:
            try:
                yield self.explain(text)
            except DataError as exc:
                yield exc
