"""Every custom message: workers post these (thread-safe); widgets react on the UI thread."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from bertsent.tui.state import ActiveModel, Embedding
from textual.message import Message


class Working(Message):
    """A worker says what it is doing now (one line for a status bar)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class DownloadProgressed(Message):
    def __init__(self, name: str, done: int, total: int | None) -> None:
        super().__init__()
        self.name, self.done, self.total = name, done, total


class DataLoaded(Message):
    def __init__(self, path: Path, splits: Any) -> None:
        super().__init__()
        self.path, self.splits = path, splits


class TokenLengths(Message):
    """Token counts of train then test sentences, from the tokenizer of ``encoder``."""

    def __init__(self, encoder: str, lengths: np.ndarray) -> None:
        super().__init__()
        self.encoder, self.lengths = encoder, lengths


class EmbedProgressed(Message):
    def __init__(self, progress: Any) -> None:
        super().__init__()
        self.progress = progress  # core.embed.EmbedProgress


class EmbedFinished(Message):
    def __init__(self, embedding: Embedding) -> None:
        super().__init__()
        self.embedding = embedding


class Trained(Message):
    def __init__(self, result: Any, test: Any) -> None:
        super().__init__()
        self.result = result  # core.train.TrainResult
        self.test = test  # core.data.Dataset the report was measured on


class FinetuneProgressed(Message):
    def __init__(self, progress: Any) -> None:
        super().__init__()
        self.progress = progress  # core.finetune.FinetuneProgress


class RunsChanged(Message):
    """The run history as now on disk (oldest first); ``latest`` is the run just recorded."""

    def __init__(self, runs: list, latest: Any = None) -> None:
        super().__init__()
        self.runs, self.latest = runs, latest


class ModelSaved(Message):
    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder


class ModelLoaded(Message):
    def __init__(self, active: ActiveModel) -> None:
        super().__init__()
        self.active = active


class Predicted(Message):
    def __init__(self, prediction: Any, remember: bool) -> None:
        super().__init__()
        self.prediction = prediction  # core.explain.Prediction
        self.remember = remember
