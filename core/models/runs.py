"""Run history: one record per training run (frozen, fine-tuned or baseline), compared side by side.

Records live in ``runs.jsonl`` under the state folder. Every change rewrites the file atomically
under a lock (``runs.lock``, waited for at most ``LOCK_TIMEOUT`` seconds), so a crash or a second
process never leaves a half-written history. A rewrite
keeps every line it does not change byte for byte, unreadable ones and unknown fields included:
what this version cannot read, a newer one (or a person) may.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from bertsent.core.base import jsonio
from bertsent.core.base.errors import BertsentError
from bertsent.core.base.files import MIB, atomic_write_bytes, read_regular
from bertsent.core.base.paths import state_dir
from bertsent.core.base.schema import Anything, Int, Invalid, Map, Nullable, Num, Obj, Str, optional
from bertsent.core.models.report import Report

FILE = "runs.jsonl"
HISTORY_LIMIT = 256 * MIB  # a run is about 2 KB: over 100,000 runs
LOCK_TIMEOUT = 30.0  # seconds another process may hold the history (a rewrite takes milliseconds)
# A line is a run when it matches this; other fields are kept but not shown.
RUN_SCHEMA = Obj(
    {
        "id": Str(max_len=200),
        "created": Str(max_len=200),
        "method": Str(max_len=200),
        "encoder": Str(),
        "pooling": Str(max_len=200),
        "accuracy": Num(0, 1),
        "macro_f1": Num(0, 1),
        "n_train": Int(0),
        "n_test": Int(0),
        "seconds": Num(0),
        "data": Str(),
        "data_sha256": optional(Str(max_len=200)),
        "settings": optional(Map(Str(max_len=200), Anything())),
        "model": optional(Nullable(Str())),
    },
    extra=True,
)


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
        runs = [run for _, run in self._lines() if run is not None]
        return runs

    def add(self, run: Run) -> Run:
        with self._locked():
            lines = [raw for raw, _ in self._lines()]
            self._write([*lines, _encode(asdict(run))])
        return run

    def set_model(self, run_id: str, folder: str) -> None:
        """Record where a run's model was saved (the line's other fields, known or not, stay)."""
        with self._locked():
            lines = []
            for raw, run in self._lines():
                if run is not None and run.id == run_id:
                    raw = _encode({**jsonio.loads(raw), "model": folder})
                lines.append(raw)
            self._write(lines)

    def clear(self) -> None:
        with self._locked():
            self._write([])

    def _lines(self) -> list[tuple[bytes, Run | None]]:
        """Each non-blank line as stored, with its run, or None where it cannot be read."""
        try:
            raw = read_regular(self.path, HISTORY_LIMIT)
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise BertsentError(f"{self.path}: cannot read the run history: {exc.strerror or exc}") from None
        names = {f.name for f in fields(Run)}
        out, self.skipped = [], 0
        for line in raw.splitlines():
            if not line.strip():
                continue
            try:
                data = jsonio.loads(line)
                RUN_SCHEMA.check(data, "run")
                run = Run(**{k: v for k, v in data.items() if k in names})
            except (ValueError, Invalid):  # also bad UTF-8 (UnicodeDecodeError is a ValueError)
                self.skipped += 1
                run = None
            out.append((line, run))
        return out

    def _write(self, lines: list[bytes]) -> None:
        try:
            atomic_write_bytes(self.path, b"".join(line + b"\n" for line in lines))
        except OSError as exc:
            raise BertsentError(f"{self.path}: cannot write the run history: {exc.strerror or exc}") from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        import filelock

        lock = filelock.FileLock(self.path.with_suffix(".lock"), timeout=LOCK_TIMEOUT)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            lock.acquire()
        except filelock.Timeout:  # before OSError: it is one (a TimeoutError)
            raise BertsentError(
                f"{lock.lock_file}: the run history is locked by another bertsent process "
                f"(waited {LOCK_TIMEOUT:g} s); try again once it has finished"
            ) from None
        except OSError as exc:
            raise BertsentError(
                f"{self.path.parent}: cannot use it for the run history: {exc.strerror or exc}"
            ) from None
        try:
            yield
        finally:
            lock.release()


def _encode(data: dict) -> bytes:
    return jsonio.dumps(data).encode("utf-8")
