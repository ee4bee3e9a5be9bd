"""Run history: one record per training run (frozen, fine-tuned or baseline), compared side by side.

Records live in ``runs.jsonl`` under the state folder. Every change rewrites the file atomically
under a lock, so a crash or a second process never leaves a half-written history.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

from bertsent.core.files import atomic_write_text
from bertsent.core.paths import state_dir
from bertsent.core.report import Report

FILE = "runs.jsonl"


@dataclass(frozen=True)
class Run:
    id: str
    created: str
    method: str  # "frozen", "finetune" or "tfidf"
    encoder: str
    pooling: str
    accuracy: float
    macro_f1: float
    n_train: int
    n_test: int
    seconds: float
    data: str
    data_sha256: str = ""
    settings: dict = field(default_factory=dict)
    model: str | None = None  # the model folder, once saved

    @classmethod
    def from_report(cls, report: Report, *, data: str, data_sha256: str = "", model: str | None = None) -> Run:
        settings = dict(report.settings)
        if report.C is not None:
            settings["C"] = report.C
            settings["cv"] = report.cv is not None
        created = time.strftime("%Y-%m-%dT%H:%M:%S")
        return cls(
            id=f"{created.replace('-', '').replace(':', '')}-{os.urandom(2).hex()}",
            created=created,
            method=report.method,
            encoder=report.encoder,
            pooling=report.pooling,
            accuracy=report.accuracy,
            macro_f1=report.macro_f1,
            n_train=report.n_train,
            n_test=report.n_test,
            seconds=round(sum(report.seconds.values()), 1),
            data=data,
            data_sha256=data_sha256,
            settings=settings,
            model=model,
        )

    @property
    def what(self) -> str:
        """What was trained, in a few words: ``minilm fine-tuned, 3 epochs``, ``TF-IDF + LR``."""
        if self.method == "tfidf":
            return "TF-IDF + LR"
        encoder = Path(self.encoder.rstrip("/")).name or self.encoder  # a folder or hub id by its last part
        if self.method == "finetune":
            epochs = self.settings.get("epochs")
            return f"{encoder} fine-tuned" + (f", {epochs} epoch{'s' if epochs != 1 else ''}" if epochs else "")
        return f"{encoder} {self.pooling} + LR"


class RunHistory:
    """The runs recorded in ``folder`` (default: the bertsent state folder)."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.path = Path(folder or state_dir()) / FILE
        self.skipped = 0  # unreadable lines seen by the last read

    def runs(self) -> list[Run]:
        """Every readable run, oldest first; unreadable lines are counted in ``skipped``."""
        try:
            lines = self.path.read_text(encoding="utf-8", errors="replace").splitlines()
        except FileNotFoundError:
            return []
        names = {f.name for f in fields(Run)}
        runs, self.skipped = [], 0
        for line in lines:
            try:
                data = json.loads(line)
                runs.append(Run(**{k: v for k, v in data.items() if k in names}))
            except (ValueError, TypeError, AttributeError):
                self.skipped += 1
        return runs

    def add(self, run: Run) -> Run:
        with self._locked():
            self._write([*self.runs(), run])
        return run

    def set_model(self, run_id: str, folder: str) -> None:
        """Record where a run's model was saved."""
        with self._locked():
            self._write([replace(r, model=folder) if r.id == run_id else r for r in self.runs()])

    def clear(self) -> None:
        with self._locked():
            self._write([])

    def _write(self, runs: list[Run]) -> None:
        atomic_write_text(self.path, "".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in runs))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as handle:
            try:
                import fcntl
            except ImportError:  # no advisory locks on this platform
                yield
                return
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
