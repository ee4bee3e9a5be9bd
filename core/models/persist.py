"""Save and load model folders: JSON metadata plus plain arrays, never pickle.

``model.json`` records the encoder (name and weight fingerprint), pooling and layer set, report, data hash,
library versions and the sha256 of every other file. Loading verifies those hashes before it
reads any array, and arrays are read with ``allow_pickle=False``: a model folder cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from bertsent.core import __version__
from bertsent.core.base import jsonio
from bertsent.core.base.errors import BertsentError, ModelFileError, RecipeError
from bertsent.core.base.files import (
    MIB,
    atomic_write_bytes,
    atomic_write_text,
    follow_umask,
    locked,
    read_regular,
    sha256_file,
)
from bertsent.core.base.paths import writable_folder
from bertsent.core.base.schema import Bool, Int, Invalid, List, Map, Nullable, Num, Obj, Str, editable, optional
from bertsent.core.data.classes import LABELS_SCHEMA, MAX_CLASSES, MAX_NAME, names_of
from bertsent.core.encoding.embed import POOLINGS, Embedder
from bertsent.core.encoding.encoder import (
    PRECISIONS,
    RETIRED_PRECISIONS,
    Encoder,
    pick_device,
    resolve_precision,
    runnable_precision,
)
from bertsent.core.encoding.layers import ALL, LAST
from bertsent.core.models.fastpath import load_precision
from bertsent.core.models.linear import LinearClassifier
from bertsent.core.models.model import SentimentModel
from bertsent.core.models.report import REPORT_SCHEMA, Report

FORMAT = 4  # 4 added "layers"; a format 3 model reads its pooling's default layers (all, for "layers")
READABLE_FORMATS = (3, FORMAT)
META = "model.json"
META_LIMIT = 16 * MIB  # a real one is a few KB (100 classes: about 1 MB of report)
HEX64 = Str(r"[0-9a-f]{64}")

FAST_PATH_SCHEMA = Obj(
    {
        "precision": Str(choices=PRECISIONS),
        "accuracy_fp32": Num(0, 1),
        "accuracy_fast": Num(0, 1),
        "agreement": Num(0, 1),
        "n": Int(0, 10**9),
        "allowed": Bool(),
        "reason": Str(max_len=500),
    }
)

# Every field of model.json. Adding a field is one line here; everything not marked editable is
# covered by "checksum", so an edit that could change predictions is refused, not obeyed.
MODEL_SCHEMA = Obj(
    {
        "format": Int(READABLE_FORMATS[0], FORMAT),
        "bertsent": Str(max_len=100),
        "created": Str(max_len=100),
        "encoder": Obj(
            {
                "name": Str(),
                "fingerprint": HEX64,
                "max_length": Int(2, 100_000),
                "trained_precision": Str(choices=PRECISIONS + RETIRED_PRECISIONS),
                # may be edited (e.g. to fp32 for exactness): obeyed, and reported on load when it differs
                "precision": editable(Str(choices=PRECISIONS + RETIRED_PRECISIONS)),
                "folder": optional(Str(r"encoder-[0-9a-f]{16}")),  # a fine-tuned encoder saved in the folder
            }
        ),
        "pooling": Str(choices=POOLINGS),
        "layers": optional(List(Int(0, 10_000), max_len=10_001)),  # the layers pooled (0 = embeddings); format 4 on
        "classes": LABELS_SCHEMA,  # the labels in class order
        "label_names": List(Str(r".*\S.*", max_len=MAX_NAME), max_len=MAX_CLASSES),  # shown for each class
        "data_sha256": Str(r"([0-9a-f]{64})?"),
        "report": Nullable(REPORT_SCHEMA),
        "fast_path": optional(Nullable(FAST_PATH_SCHEMA)),  # core.models.fastpath's check at save time
        "versions": Map(Str(max_len=100), Str(max_len=100)),
        "classifier": Str(r"classifier-[0-9a-f]{16}\.npz"),
        "files": Map(Str(r"(encoder-[0-9a-f]{16}/)?[^/\\]+", max_len=300), HEX64),
        "checksum": HEX64,  # sha256 of every field above that is not editable
    }
)


@dataclass(frozen=True)
class SavedModel:
    model: SentimentModel
    report: Report | None
    meta: dict
    notes: tuple[str, ...] = field(default=())  # what differs from how the model was trained, to tell the user


def meta_checksum(meta: dict) -> str:
    """sha256 of ``meta``'s locked fields (all but "checksum" and the editable ones), key order free."""
    locked_fields = MODEL_SCHEMA.locked({k: v for k, v in meta.items() if k != "checksum"})
    return hashlib.sha256(jsonio.dumps(locked_fields, sort_keys=True).encode("utf-8")).hexdigest()


def save_model(
    model: SentimentModel,
    folder: str | Path,
    *,
    report: Report | None = None,
    data_hash: str = "",
    fast_path: dict | None = None,
) -> Path:
    """Write the model folder so that a crash at any moment leaves the old model or the new one.

    Data files are named by their content hash and written first; ``model.json``, which names
    them, is replaced atomically last; files it no longer names are removed afterwards. Writers of
    one folder take turns (a lock on the folder), so one never deletes what another just named.
    """
    folder = check_model_folder(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with locked(folder):
            check_model_folder(folder)  # again, under the lock
            return _save_locked(model, folder, report, data_hash, fast_path)
    except OSError as exc:
        raise ModelFileError(f"{folder}: cannot save the model: {exc.strerror or exc}") from None


def check_model_folder(folder: str | Path) -> Path:
    """Refuse, before any work, a destination that cannot become a model folder."""
    folder = Path(folder)
    try:
        writable_folder(folder, "model folder")
    except BertsentError as exc:
        raise ModelFileError(f"{exc}; choose another --out") from None
    if folder.is_dir() and not (folder / META).is_file() and any(folder.iterdir()):
        raise ModelFileError(f"{folder}: exists and is not a bertsent model folder; choose another --out")
    return folder


def _save_locked(
    model: SentimentModel, folder: Path, report: Report | None, data_hash: str, fast_path: dict | None
) -> Path:
    for leftover in folder.glob(".*.part"):  # from a writer killed mid-write; none is running now
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink(missing_ok=True)
    buffer = io.BytesIO()
    arrays: dict[str, Any] = model.classifier.to_arrays()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    classifier_file = f"classifier-{digest[:16]}.npz"
    atomic_write_bytes(folder / classifier_file, data)
    encoder = model.encoder
    files = {classifier_file: digest}
    encoder_spec = {
        "name": encoder.name,
        "fingerprint": encoder.fingerprint,
        "max_length": encoder.max_length,
        "trained_precision": encoder.precision,
        "precision": encoder.precision,
    }
    if encoder.finetuned:
        encoder_spec["folder"] = _save_encoder(encoder, folder)
        for path in sorted((folder / encoder_spec["folder"]).iterdir()):
            files[f"{encoder_spec['folder']}/{path.name}"] = sha256_file(path)
    meta = {
        "format": FORMAT,
        "bertsent": __version__,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "encoder": encoder_spec,
        "pooling": model.embedder.pooling,
        "layers": list(model.embedder.layers),
        "classes": list(model.classes.labels),
        "label_names": model.classes.names,
        "data_sha256": data_hash,
        "report": report.to_dict() if report else None,
        "fast_path": fast_path,  # core.models.fastpath: bf16 against fp32 on the held-out split, or None
        "versions": _versions(),
        "classifier": classifier_file,
        "files": files,
    }
    meta["checksum"] = meta_checksum(meta)
    MODEL_SCHEMA.check(meta, META)  # never write what loading would refuse
    atomic_write_text(folder / META, jsonio.dumps(meta, indent=2) + "\n")
    for stale in folder.glob("classifier-*.npz"):
        if stale.name != classifier_file:
            stale.unlink(missing_ok=True)
    for stale in folder.glob("encoder-*"):
        if stale.name != encoder_spec.get("folder"):
            shutil.rmtree(stale, ignore_errors=True)
    return folder


def _save_encoder(encoder: Encoder, folder: Path) -> str:
    """Write fine-tuned weights (safetensors) and tokenizer to ``encoder-<fingerprint>/``; return its name.

    The folder is complete before it appears under its final name; one with that name already
    holds the same weights.
    """
    name = f"encoder-{encoder.fingerprint[:16]}"
    if (folder / name).is_dir():
        return name
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}.", suffix=".part", dir=folder))
    try:
        encoder.model.save_pretrained(staging, safe_serialization=True)
        encoder.tokenizer.save_pretrained(staging)
        for path in staging.iterdir():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
        follow_umask(staging, directory=True)
        os.replace(staging, folder / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return name


def read_meta(folder: str | Path) -> dict:
    """Read ``model.json``, check it against the schema and its checksum, and check every file hash
    it lists; load nothing else."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such model folder")
    try:
        meta = jsonio.loads(read_regular(folder / META, META_LIMIT))
    except FileNotFoundError:
        raise ModelFileError(f"{folder}: not a bertsent model folder (no {META})") from None
    except OSError as exc:  # a folder, FIFO or device in its place, too large, unreadable
        raise ModelFileError(f"{folder / META}: cannot be read: {exc.strerror or exc}; refusing to load") from None
    except ValueError as exc:  # not UTF-8, not JSON, nested too deeply
        raise ModelFileError(f"{folder / META}: damaged: {exc}") from None
    if isinstance(meta, dict) and meta.get("format") not in READABLE_FORMATS and isinstance(meta.get("format"), int):
        raise ModelFileError(
            f"{folder}: model format {meta.get('format')!r} (bertsent {str(meta.get('bertsent', '?'))[:20]}) "
            f"cannot be read by bertsent {__version__} (formats {READABLE_FORMATS[0]} to {FORMAT}); train it again"
        )
    try:
        MODEL_SCHEMA.check(meta, META)
        if (meta["format"] >= 4) != ("layers" in meta):
            raise Invalid(f"{META}: format {meta['format']} {'needs' if meta['format'] >= 4 else 'has no'} 'layers'")
    except Invalid as exc:
        raise ModelFileError(f"{folder}: damaged {exc}; refusing to load") from None
    if meta["checksum"] != meta_checksum(meta):
        raise ModelFileError(
            f"{folder / META}: checksum mismatch (edited or damaged since it was saved; only "
            f"encoder.precision may be changed); refusing to load"
        )
    if meta["label_names"] != names_of(meta["classes"]):  # one per class, as the one naming rule gives
        raise ModelFileError(
            f"{folder / META}: damaged: label_names {_short(meta['label_names'])} are not the names of classes "
            f"{_short(meta['classes'])}; refusing to load"
        )
    if meta["classifier"] not in meta["files"]:
        raise ModelFileError(f"{folder / META}: damaged: {meta['classifier']} has no checksum")
    for name, expected in meta["files"].items():
        path = folder / name
        if not path.is_file():
            raise ModelFileError(f"{folder}: missing {name}")
        if sha256_file(path) != expected:
            raise ModelFileError(f"{path}: checksum mismatch (changed or damaged since it was saved); refusing to load")
    return meta


def load_model(folder: str | Path, *, encoder: Encoder | None = None, device: str | None = None) -> SavedModel:
    """Load a model folder, checking integrity first and that the encoder's weights match.

    ``encoder`` is used when it is the one the folder names, at the precision and length it asks
    for; otherwise the right one is loaded. The folder is read under a shared lock, so a save
    into it at the same time waits instead of removing files being read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such model folder")
    try:
        with locked(folder, shared=True):
            return _load_locked(folder, encoder, device)
    except OSError as exc:
        raise ModelFileError(f"{folder}: cannot read the model: {exc.strerror or exc}") from None


def _load_locked(folder: Path, encoder: Encoder | None, device: str | None) -> SavedModel:
    meta = read_meta(folder)
    try:
        with np.load(folder / meta["classifier"], allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        classifier = LinearClassifier.from_arrays(arrays)
        if classifier.classes_.tolist() != meta["classes"]:
            raise ValueError(f"classes {classifier.classes_.tolist()[:10]} are not the classes of {META}")
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise ModelFileError(f"{folder / meta['classifier']}: damaged classifier: {exc}; refusing to load") from None
    report = _read_report(folder, meta)  # before the encoder: a damaged file is refused at once
    spec = meta["encoder"]
    encoder_folder = spec.get("folder")  # set for a fine-tuned encoder saved in the model folder
    if encoder_folder is not None:  # its files were checked above; refuse any added since
        listed = {name for name in meta["files"] if name.startswith(encoder_folder + "/")}
        present = {f"{encoder_folder}/{path.name}" for path in (folder / encoder_folder).iterdir()}
        if present != listed:
            extra = ", ".join(sorted(present - listed))
            raise ModelFileError(f"{folder}: files added to the encoder since it was saved ({extra}); refusing to load")
    device = pick_device(device if encoder is None else device or encoder.device)
    retired = spec["precision"] in RETIRED_PRECISIONS  # an older bertsent's int8: runs as an fp32 model would
    saved = "fp32" if retired else spec["precision"]
    # bf16 where the model was checked against fp32 at save time and this machine runs it faster.
    precision = load_precision(saved, meta.get("fast_path"), device) or runnable_precision(saved, device)
    if (
        encoder_folder is not None
        or encoder is None
        or encoder.max_length != spec["max_length"]
        or encoder.precision != resolve_precision(precision, device)
    ):
        encoder = Encoder.load(
            spec["name"],
            device=device,
            max_length=spec["max_length"],
            precision=precision,
            source=str(folder / encoder_folder) if encoder_folder else None,
            finetuned=encoder_folder is not None,
        )
    if encoder.fingerprint != spec["fingerprint"]:
        raise ModelFileError(
            f"{folder}: trained with encoder {spec['name']!r} whose weights differ from the encoder "
            f"loaded now ({encoder.source}); use the same encoder or train again"
        )
    # format 3 predates layer sets: its poolings read their defaults (every layer for "layers")
    layers = meta.get("layers", ALL if meta["pooling"] == "layers" else LAST)
    try:
        embedder = Embedder(encoder, meta["pooling"], layers=layers)
    except RecipeError as exc:
        raise ModelFileError(f"{folder}: {exc}; refusing to load") from None
    if classifier.n_features_in_ != embedder.dim:
        raise ModelFileError(
            f"{folder}: classifier expects {classifier.n_features_in_} features, encoder gives "
            f"{embedder.dim}; refusing to load"
        )
    notes = _precision_notes(folder, spec, encoder.precision, meta.get("fast_path") or {})
    return SavedModel(SentimentModel(embedder, classifier), report, meta, notes)


def _read_report(folder: Path, meta: dict) -> Report | None:
    """The saved report, read with the model's classes (one re-signed by hand may lack them);
    refused where it does not describe this model: other classes, per-class rows that are not
    its classes' names, a confusion matrix of another size, no C for a fitted classifier, or a
    C curve whose Cs and scores differ in number."""
    if not meta["report"]:
        return None
    classes = meta["classes"]
    if meta["report"].get("classes", classes) != classes:
        raise ModelFileError(f"{folder}: its report's classes differ from its classes; refusing to load")
    report = Report.from_dict({**meta["report"], "classes": classes})
    n = len(classes)
    if (
        list(report.per_class) != report.names
        or len(report.confusion) != n
        or any(len(row) != n for row in report.confusion)
    ):
        raise ModelFileError(f"{folder}: its report does not cover its {n} classes; refusing to load")
    curve = report.cv
    if (report.C is None and report.method != "finetune") or (curve and not 0 < len(curve.Cs) == len(curve.scores)):
        raise ModelFileError(f"{folder}: its report's C or C curve is damaged; refusing to load")
    return report


def _precision_notes(folder: Path, spec: dict, running: str, checked: dict) -> tuple[str, ...]:
    """The note to show when model.json names a precision no longer offered, or when the model runs
    at another precision than it was trained and evaluated at (unless its fast-path check allowed it)."""
    allowed = checked.get("allowed") and checked.get("precision") == running
    trained = spec["trained_precision"]
    differs = running != trained and not allowed
    if spec["precision"] in RETIRED_PRECISIONS:
        return (
            f"{folder}: {spec['precision']} precision is no longer offered (it changed too many labels); runs at "
            f"{running}"
            + (f" (trained and evaluated at {trained}): predictions may differ slightly" if differs else ""),
        )
    if differs:
        return (
            f"{folder}: runs at {running} precision (trained and evaluated at {trained}, as set in {META}); "
            "predictions may differ slightly",
        )
    return ()


def _short(values: list) -> str:
    text = jsonio.dumps(values)
    return text if len(text) <= 60 else text[:60] + "…"


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("torch", "transformers", "scikit-learn", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out
