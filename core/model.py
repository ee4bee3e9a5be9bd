"""A trained sentiment model: a frozen encoder's embeddings fed to a logistic regression."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable, Iterator

import numpy as np
from bertsent.core.classifier import SentimentClassifier
from bertsent.core.data import LABEL_NAMES, text_problem
from bertsent.core.embed import Embedder, ProgressCallback
from bertsent.core.errors import Cancelled, DataError
from bertsent.core.explain import Prediction, occlude


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

    def positive_proba_ids(self, batch_ids: list[list[int]], **kwargs) -> np.ndarray:
        """P(positive) for already tokenized sentences (no cache: used for occlusion)."""
        return self.proba_ids(batch_ids, **kwargs)[:, 1]

    def proba_ids(
        self,
        batch_ids: list[list[int]],
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Class probabilities (columns in ``classifier.classes_`` order) for already tokenized
        sentences, in length-sorted batches and without the cache.

        ``progress(done, total)`` counts sentences; ``cancel`` stops between batches.
        """
        proba = np.empty((len(batch_ids), len(self.classifier.classes_)))
        done = 0
        for batch in self.embedder.batches_of(batch_ids):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"prediction cancelled after {done:,} of {len(batch_ids):,} variants")
            vectors = self.embedder.forward([batch_ids[i] for i in batch])
            proba[batch] = self.classifier.predict_proba(vectors)
            done += len(batch)
            if progress:
                progress(done, len(batch_ids))
        return proba

    def explain(
        self,
        text: str,
        *,
        scores: bool = True,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Prediction:
        """Label, P(positive) and occlusion scores per WordPiece token and per word.

        The scores cost one forward pass per token (and per multi-piece word); ``scores=False``
        costs one. ``progress(done, total)`` counts those passes; ``cancel`` stops between batches.
        """
        result = next(self._explain_block([text], scores, progress, cancel))
        if isinstance(result, DataError):
            raise result
        return result

    def explain_many(
        self, texts: Iterable[str], *, scores: bool = True, chunk: int = 64
    ) -> Iterator[Prediction | DataError]:
        """Stream predictions in input order, ``chunk`` sentences at a time (bounded memory).

        An empty line, or one that is not valid text (bytes that were not UTF-8), yields a
        DataError instead of stopping the stream. ``scores=False`` skips
        the token scores (one forward pass per sentence instead of one per token).
        """
        iterator = iter(texts)
        while block := list(itertools.islice(iterator, chunk)):
            yield from self._explain_block(block, scores)

    def _explain_block(
        self,
        block: list[str],
        scores: bool,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Prediction | DataError]:
        problems = [_problem(text) for text in block]
        good = [text for text, problem in zip(block, problems, strict=True) if problem is None]
        ids, lengths = self.encoder.encode_ids(good)
        occlusions = [
            occlude(seq, self.encoder.tokenizer.convert_ids_to_tokens(seq)) if scores else None for seq in ids
        ]
        variants = [v for o in occlusions for v in o.variants] if scores else ids
        proba = self.positive_proba_ids(variants, progress=progress, cancel=cancel) if variants else np.zeros(0)
        start = 0
        results = iter(range(len(good)))
        for text, problem in zip(block, problems, strict=True):
            if problem is not None:
                yield DataError(problem)
                continue
            row = next(results)
            if scores:
                occlusion = occlusions[row]
                count = len(occlusion.variants)
                probability, token_scores, word_scores = occlusion.scores(proba[start : start + count])
                start += count
            else:
                probability, token_scores, word_scores = float(proba[row]), [], []
            label = int(probability >= 0.5)
            truncated = bool(lengths[row] > len(ids[row]))
            yield Prediction(text, label, LABEL_NAMES[label], probability, token_scores, word_scores, truncated)


def _problem(text: str) -> str | None:
    if not text.strip():
        return "cannot predict an empty sentence"
    return text_problem(text)
