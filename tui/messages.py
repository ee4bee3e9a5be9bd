"""Every custom message, as a typed dataclass: workers post these (thread-safe), panes react on the
UI thread, and what the whole app needs bubbles up to it.

Progress messages replace a queued one of their kind (``can_replace``): a busy UI thread draws
the latest progress once instead of replaying every update it missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from bertsent.tui.state import ActiveModel, Embedding
from textual.message import Message

if TYPE_CHECKING:
    from bertsent.core.analyses.inside import Attention, SentenceMap
    from bertsent.core.analyses.probe import LayerProbe
    from bertsent.core.data.dataset import Splits
    from bertsent.core.jobs import Progress as JobProgress
    from bertsent.core.models.explain import Prediction
    from bertsent.core.models.runs import Run
    from bertsent.core.models.train import TrainResult


class Progress(Message):
    """A progress update: a newer one of the same kind supersedes a queued one."""

    def can_replace(self, message: Message) -> bool:
        return type(message) is type(self)


@dataclass
class Working(Progress):
    """A worker says what it is doing now (one line for a status bar)."""

    text: str


@dataclass
class Stopped(Message):
    """Long work stopped at a checkpoint after Esc (core's one line says what was kept)."""

    text: str


@dataclass
class DownloadProgressed(Progress):
    name: str
    done: int
    total: int | None


@dataclass
class InstallProgressed(Progress):
    """An encoder install's progress (see ``core.encoding.install.InstallProgress``)."""

    stage: str
    what: str
    done: int
    total: int | None


@dataclass
class EncoderInstalled(Message):
    name: str
    folder: Path


@dataclass
class DataLoaded(Message):
    path: Path
    splits: Splits


@dataclass
class TokenLengths(Message):
    """Token counts of train then test sentences, from the tokenizer of ``encoder``."""

    encoder: str
    lengths: np.ndarray


@dataclass
class LimitChanged(Message):
    """The Embed screen's sentence limit (first N of each split; None: all)."""

    limit: int | None


@dataclass
class EmbedProgressed(Progress):
    progress: JobProgress


@dataclass
class EmbedFinished(Message):
    embedding: Embedding


@dataclass
class Trained(Message):
    result: TrainResult


@dataclass
class FinetuneProgressed(Progress):
    progress: JobProgress  # stage "fine-tuning": done/total steps, detail "loss …"


@dataclass
class RunsChanged(Message):
    """The run history as now on disk (oldest first); ``latest`` is the run just recorded."""

    runs: list[Run]
    latest: Run | None = None
    notes: tuple[str, ...] = ()  # what the job that recorded ``latest`` wants the user to know


@dataclass
class ModelSaved(Message):
    folder: Path
    precision: str  # which precision the model runs in by default, and why ("" when not checked)
    problem: str | None = None  # why the model is not in the folder asked for


@dataclass
class ModelLoaded(Message):
    active: ActiveModel


@dataclass
class Predicted(Message):
    prediction: Prediction
    remember: bool


@dataclass
class ProbeProgressed(Progress):
    progress: JobProgress  # stages "embedding every layer", then "probing layers"


@dataclass
class ProbeFinished(Message):
    probe: LayerProbe


@dataclass
class MapReady(Message):
    sentence_map: SentenceMap


@dataclass
class PointExplained(Message):
    """Token scores of the sentence at map point ``index``."""

    index: int
    prediction: Prediction


@dataclass
class AttentionReady(Message):
    attention: Attention


@dataclass
class PoolOpened(Message):
    """A labelling session is open and its pool embedded (``core.labelling.annotate.Session``)."""

    session: Any
    stack: Any  # the contextlib.ExitStack that closes it (and unlocks its journal)
    opening: int = 0  # which press of Open it answers: a later press makes it stale


@dataclass
class PoolProgressed(Progress):
    progress: JobProgress  # stage "embedding the pool"


@dataclass
class Refitted(Message):
    """The labelling model refitted on ``n`` labels of ``session`` (``core.labelling.active.Fitted``, None:
    too few yet) and its score on the session's test file (``core.labelling.annotate.HeldOutScore``, None: no
    test file)."""

    session: Any
    fitted: Any
    n: int
    scored: Any = None


@dataclass
class Explained(Message):
    """The labelling model's prediction, with token scores, for sentence ``index`` of ``session``'s pool."""

    session: Any
    index: int
    prediction: Prediction
