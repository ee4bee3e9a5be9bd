"""The default inference path, found the way a user gets it: the default recipe (pooling and layer
set) trained by ``jobs.train`` as ``bertsent train`` trains it, saved by ``jobs.save`` (which checks
the fast path on the held-out split) and loaded by ``load_model`` (which picks the precision it
runs at on this machine). The bench measures that model; it decides nothing itself."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DefaultPath:
    trained: object  # core.models.model.SentimentModel as trained (fp32 on a CPU)
    loaded: object  # the same model saved and loaded again: the default path
    report_accuracy: float  # the trained model's accuracy on the held-out split

    @property
    def precision(self) -> str:
        return self.loaded.encoder.precision

    @property
    def recipe(self) -> str:
        embedder = self.loaded.embedder
        return f"{embedder.pooling} pooling, {embedder.layer_note}"

    def embedder(self, encoder=None):
        """An uncached embedder of the default recipe on ``encoder`` (default: the loaded one)."""
        from bertsent.core.encoding.embed import Embedder

        embedder = self.loaded.embedder
        return Embedder(encoder or embedder.encoder, embedder.pooling, layers=embedder.layers, cache=False)

    def model_on(self, encoder):
        """The trained classifier on ``encoder``'s vectors of the same recipe (another precision)."""
        from bertsent.core.models.model import SentimentModel

        return SentimentModel(self.embedder(encoder), self.trained.classifier)


def default_path(splits, device: str | None, *, C: float | None = None, **embedder_options) -> DefaultPath:
    """Train, save and load the default recipe on ``splits`` (``C=None``: chosen by cross-validation,
    as ``bertsent train`` does); ``embedder_options`` (pooling, layers) change the recipe."""
    from bertsent.core import jobs
    from bertsent.core.encoding.embed import Embedder
    from bertsent.core.encoding.encoder import Encoder
    from bertsent.core.models.persist import load_model

    encoder = Encoder.load(device=device)
    trained = jobs.train(splits, embedder=Embedder(encoder, **embedder_options), C=C, record=False)
    folder = Path(tempfile.mkdtemp(prefix="bench-default-")) / "model"
    saved = jobs.save(trained.result, folder)
    if saved.folder is None:
        raise RuntimeError(f"the bench's model could not be saved: {saved.problem}")
    loaded = load_model(saved.folder, device=device).model
    return DefaultPath(trained.model, loaded, trained.report.accuracy)
