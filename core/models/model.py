"""A trained sentence classifier: an encoder's embeddings fed to a linear classifier, 2 to N classes."""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
from bertsent.core.base.decision import decide
from bertsent.core.base.errors import Cancelled, DataError
from bertsent.core.base.text import sentence_problem
from bertsent.core.data.classes import ClassSet
from bertsent.core.encoding.embed import Embedder, ProgressCallback
from bertsent.core.models.explain import Prediction, occlude

if TYPE_CHECKING:
    from bertsent.core.models.linear import LinearClassifier


RECENT_VARIANTS = 4096  # token-score passes remembered (a few KB each): the app's typing and Enter


class SentimentModel:
    """Predict labels, class probabilities and token scores for raw sentences."""

    def __init__(self, embedder: Embedder, classifier: LinearClassifier) -> None:
        self.embedder = embedder
        self.classifier = classifier
        # explain's passes by token ids: a sentence scored again (Enter after the typing preview,
        # a space typed) or a variant seen before (the previous sentence, once a word is added)
        # is not computed again
        self._recent: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._recent_lock = threading.Lock()

    @property
    def encoder(self):
        return self.embedder.encoder

    @property
    def classes(self) -> ClassSet:
        """The classes in the classifier's order: the order of every probability column."""
        return ClassSet(tuple(self.classifier.classes_.tolist()))

    def predict_proba(
        self, texts: list[str], progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> np.ndarray:
        """Class probabilities, shape ``(len(texts), len(classes))``, columns in ``classes`` order."""
        return self.classifier.predict_proba(self.embedder.embed(texts, progress, cancel))

    def predict(
        self, texts: list[str], progress: ProgressCallback | None = None, cancel: threading.Event | None = None
    ) -> np.ndarray:
        return self.classes.array[decide(self.predict_proba(texts, progress, cancel))]

    def proba_ids(
        self,
        batch_ids: list[list[int]],
        *,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> np.ndarray:
        """Class probabilities (columns in ``classes`` order) for already tokenized sentences, in
        length-sorted batches and without the cache.

        ``progress(done, total)`` counts sentences; ``cancel`` stops between batches.
        """
        proba = np.empty((len(batch_ids), len(self.classes)))
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
        scored: int | str | None = None,
        reuse: bool = True,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Prediction:
        """Label, probabilities and occlusion scores per WordPiece token and per word.

        Token scores refer to the predicted class, or to ``scored`` (a class label) when given.
        They cost one forward pass per token (and per multi-piece word); ``scores=False`` costs
        one. Passes already made for a recent call are reused (``reuse=False`` computes all).
        ``progress(done, total)`` counts the passes computed; ``cancel`` stops between batches.
        """
        column = None if scored is None else self.classes.index(scored)
        result = next(self._explain_block([text], scores, column, progress, cancel, reuse=reuse))
        if isinstance(result, DataError):
            raise result
        return result

    def explain_many(
        self,
        texts: Iterable[str],
        *,
        scores: bool = True,
        chunk: int = 64,
        scored: int | str | None = None,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> Iterator[Prediction | DataError]:
        """Stream predictions in input order, ``chunk`` sentences at a time (bounded memory).

        A text that is not a sentence (``core.base.text.sentence_problem``: empty, not valid UTF-8)
        yields a DataError instead of stopping the stream. ``scores=False`` skips the token scores
        (one forward pass per sentence instead of one per token). ``progress(done, total)`` counts
        the forward passes of the current chunk; ``cancel`` stops between batches.
        """
        column = None if scored is None else self.classes.index(scored)
        iterator = iter(texts)
        while block := list(itertools.islice(iterator, chunk)):
            yield from self._explain_block(block, scores, column, progress, cancel)

    def _explain_block(
        self,
        block: list[str],
        scores: bool,
        column: int | None,
        progress: Callable[[int, int], None] | None = None,
        cancel: threading.Event | None = None,
        *,
        reuse: bool = False,
    ) -> Iterator[Prediction | DataError]:
        classes, names = self.classes.labels, tuple(self.classes.names)
        problems = [sentence_problem(text) for text in block]
        good = [text for text, problem in zip(block, problems, strict=True) if problem is None]
        ids, lengths = self.encoder.encode_ids(good)
        occlusions = [occlude(seq, self.encoder.tokenizer.convert_ids_to_tokens(seq)) for seq in ids] if scores else []
        variants = [v for o in occlusions for v in o.variants] if scores else ids
        if not variants:
            proba = np.zeros((0, len(classes)))
        elif reuse:
            proba = self._proba_recent(variants, progress, cancel)
        else:
            proba = self.proba_ids(variants, progress=progress, cancel=cancel)
        start = 0
        results = iter(range(len(good)))
        for text, problem in zip(block, problems, strict=True):
            if problem is not None:
                yield DataError(problem)
                continue
            row = next(results)
            if scores:  # the sentence and its occluded variants
                count = len(occlusions[row].variants)
                variants_proba, start = proba[start : start + count], start + count
            else:
                variants_proba = proba[row : row + 1]
            chosen = int(decide(variants_proba[0]))
            target = chosen if column is None else column
            token_scores, word_scores = occlusions[row].scores(variants_proba[:, target]) if scores else ([], [])
            yield Prediction(
                text,
                classes[chosen],
                names[chosen],
                float(variants_proba[0, chosen]),
                token_scores,
                word_scores,
                truncated=bool(lengths[row] > len(ids[row])),
                classes=classes,
                names=names,
                probabilities=tuple(variants_proba[0].tolist()),
                scored=classes[target] if scores else None,
            )

    def _proba_recent(
        self,
        variants: list[list[int]],
        progress: Callable[[int, int], None] | None,
        cancel: threading.Event | None,
    ) -> np.ndarray:
        """:meth:`proba_ids` of ``variants``, computing only those not among the recent passes."""
        keys = [tuple(v) for v in variants]
        with self._recent_lock:
            known = {key: self._recent[key] for key in keys if key in self._recent}
            for key in known:
                self._recent.move_to_end(key)
        missing = list(dict.fromkeys(key for key in keys if key not in known))
        if missing:
            computed = self.proba_ids([list(key) for key in missing], progress=progress, cancel=cancel)
            known.update(zip(missing, computed, strict=True))
            with self._recent_lock:
                self._recent.update(zip(missing, computed, strict=True))
                while len(self._recent) > RECENT_VARIANTS:
                    self._recent.popitem(last=False)
        return np.stack([known[key] for key in keys])
