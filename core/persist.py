"""Save and load model folders: JSON metadata plus plain arrays, never pickle.

``model.json`` records the encoder (name and weight fingerprint), pooling, report, data hash,
library versions and the sha256 of every other file. Loading verifies those hashes before it
reads any array, and arrays are read with ``allow_pickle=False``: a model folder cannot run code.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from bertsent.core import __version__
from bertsent.core.classifier import SentimentClassifier
from bertsent.core.data import label_names
from bertsent.core.embed import Embedder
from bertsent.core.encoder import Encoder, pick_device, runnable_precision
from bertsent.core.errors import ModelFileError
from bertsent.core.fastpath import load_precision
from bertsent.core.files import atomic_write_bytes, atomic_write_text, sha256_file
from bertsent.core.model import SentimentModel
from bertsent.core.report import Report

FORMAT = 3
# Format 2 (before labels were data) had two classes, 0 and 1, stored the same way: it still loads.
READABLE_FORMATS = (2, 3)
META = "model.json"


@dataclass(frozen=True)
class SavedModel:
    model: SentimentModel
    report: Report | None
    meta: dict


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
    them, is replaced atomically last; files it no longer names are removed afterwards.
    """
    folder = Path(folder)
    if folder.is_dir() and not (folder / META).is_file() and any(folder.iterdir()):
        raise ModelFileError(f"{folder}: exists and is not a bertsent model folder; choose another --out")
    buffer = io.BytesIO()
    np.savez(buffer, **model.classifier.to_arrays())
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
        "classes": model.classes.tolist(),
        "label_names": label_names(model.classes),
        "data_sha256": data_hash,
        "report": report.to_dict() if report else None,
        "fast_path": fast_path,  # core.fastpath: bf16 against fp32 on the held-out split, or None
        "versions": _versions(),
        "classifier": classifier_file,
        "files": files,
    }
    atomic_write_text(folder / META, json.dumps(meta, indent=2) + "\n")
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
        os.replace(staging, folder / name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return name


def read_meta(folder: str | Path) -> dict:
    """Read and check ``model.json`` and every file hash it lists; load nothing else."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFileError(f"{folder}: no such model folder")
    try:
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelFileError(f"{folder}: not a bertsent model folder (no {META})") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{folder / META}: damaged: {exc}") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("files"), dict):
        raise ModelFileError(f"{folder / META}: damaged: not a bertsent model description")
    if meta.get("format") not in READABLE_FORMATS:
        raise ModelFileError(
            f"{folder}: model format {meta.get('format')!r} (bertsent {meta.get('bertsent', '?')}) "
            f"cannot be read by bertsent {__version__} (format {FORMAT}); train it again"
        )
    for name, expected in meta["files"].items():
        path = folder / name
        parts = Path(name).parts
        if not (len(parts) == 1 or (len(parts) == 2 and parts[0].startswith("encoder-"))) or ".." in parts:
            raise ModelFileError(f"{folder / META}: damaged: bad file name {name!r}")
        if not path.is_file():
            raise ModelFileError(f"{folder}: missing {name}")
        if sha256_file(path) != expected:
            raise ModelFileError(f"{path}: checksum mismatch (changed or damaged since it was saved); refusing to load")
    return meta


def load_model(folder: str | Path, *, encoder: Encoder | None = None, device: str | None = None) -> SavedModel:
    """Load a model folder, checking integrity first and that the encoder's weights match."""
    folder = Path(folder)
    meta = read_meta(folder)
    try:
        classifier_file = meta["classifier"]
        if classifier_file not in meta["files"]:
            raise KeyError(f"{classifier_file} has no checksum")
        with np.load(folder / classifier_file, allow_pickle=False) as data:
            arrays = {key: data[key] for key in data.files}
        classifier = SentimentClassifier.from_arrays(arrays)
        saved_classes = meta.get("classes", [0, 1])  # format 2 had no list: its classes were 0 and 1
        if classifier.classes_.tolist() != saved_classes:
            raise ValueError(f"classes {classifier.classes_.tolist()} differ from model.json's {saved_classes}")
        spec = meta["encoder"]
        pooling = meta["pooling"]
        encoder_folder = spec.get("folder")  # set for a fine-tuned encoder saved in the model folder
        if encoder_folder is not None and not re.fullmatch(r"encoder-[0-9a-f]{16}", str(encoder_folder)):
            raise ValueError(f"bad encoder folder {encoder_folder!r}")
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise ModelFileError(f"{folder}: damaged model: {exc}") from None
    if encoder_folder is not None:  # its files were checked above; refuse any added since
        listed = {name for name in meta["files"] if name.startswith(encoder_folder + "/")}
        present = {f"{encoder_folder}/{path.name}" for path in (folder / encoder_folder).iterdir()}
        if present != listed:
            extra = ", ".join(sorted(present - listed))
            raise ModelFileError(f"{folder}: files added to the encoder since it was saved ({extra}); refusing to load")
    if encoder_folder is not None or encoder is None:
        device = pick_device(device)
        encoder = Encoder.load(
            str(folder / encoder_folder) if encoder_folder else spec["name"],
            device=device,
            max_length=int(spec["max_length"]),
            precision=load_precision(meta, device) or runnable_precision(spec.get("precision", "auto"), device),
        )
        encoder.name, encoder.finetuned = spec["name"], encoder_folder is not None
    if encoder.fingerprint != spec["fingerprint"]:
        raise ModelFileError(
            f"{folder}: trained with encoder {spec['name']!r} whose weights differ from the encoder "
            f"loaded now ({encoder.source}); use the same encoder or train again"
        )
    embedder = Embedder(encoder, pooling)
    if classifier.scaler_.n_features_in_ != embedder.dim:
        raise ModelFileError(
            f"{folder}: classifier expects {classifier.scaler_.n_features_in_} features, encoder gives {embedder.dim}"
        )
    report = Report.from_dict(meta["report"]) if meta.get("report") else None
    return SavedModel(SentimentModel(embedder, classifier), report, meta)


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for package in ("torch", "transformers", "scikit-learn", "numpy"):
        try:
            out[package] = version(package)
        except PackageNotFoundError:
            pass
    return out
