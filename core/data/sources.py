"""Find SST2: an explicit path, ``$BERTSENT_DATA``, the local cache, or a verified download."""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from importlib import resources
from pathlib import Path

from bertsent.core.base.errors import Cancelled, DataError
from bertsent.core.base.files import atomic_open, sha256_file
from bertsent.core.base.paths import cache_dir

ENV_VAR = "BERTSENT_DATA"
HOW_TO_POINT = (
    f"pass --data PATH (a .tsv/.csv/.jsonl file, or a folder with train.tsv and test.tsv) or set {ENV_VAR}=PATH"
)

DownloadProgress = Callable[[str, int, int | None], None]  # file name, bytes done, bytes total


def manifest() -> dict:
    # Package data, so a wheel installed anywhere finds it as the checkout does.
    return json.loads(resources.files("bertsent.data").joinpath("sst2.json").read_text(encoding="utf-8"))


def sst2_cache() -> Path:
    return cache_dir() / "data" / "sst2"


def find_data(
    path: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    progress: DownloadProgress | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Where to read data from, in order: ``path``, ``$BERTSENT_DATA``, cache, download."""
    if path:
        return _existing(Path(path).expanduser(), "")
    if env := os.environ.get(ENV_VAR):
        return _existing(Path(env).expanduser(), f" (from ${ENV_VAR})")
    cached = sst2_cache()
    if all((cached / name).is_file() for name in manifest()["files"]):
        return cached
    if not download:
        raise DataError(f"no data found: {HOW_TO_POINT}")
    try:
        return download_sst2(cached, progress=progress, cancel=cancel)
    except DataError as exc:
        raise DataError(f"no data found and {exc}: {HOW_TO_POINT}") from None


def download_sst2(
    folder: Path,
    *,
    progress: DownloadProgress | None = None,
    cancel: threading.Event | None = None,
    timeout: float = 20.0,
    files: dict[str, dict] | None = None,
) -> Path:
    """Download each manifest file, verify its sha256, and only then move it into place."""
    for name, entry in (files or manifest()["files"]).items():
        target = folder / name
        if target.is_file() and sha256_file(target) == entry["sha256"]:
            continue
        try:
            _download(name, entry, target, progress, cancel, timeout)
        except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
            reason = getattr(exc, "reason", None) or exc
            raise DataError(f"the download of {name} failed ({reason}); nothing was kept") from None
    return folder


def _download(
    name: str,
    entry: dict,
    target: Path,
    progress: DownloadProgress | None,
    cancel: threading.Event | None,
    timeout: float,
) -> None:
    """Stream one file into a temporary file, verify its sha256, then move it into place."""
    digest = hashlib.sha256()
    with urllib.request.urlopen(entry["url"], timeout=timeout) as response, atomic_open(target) as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        done = 0
        while chunk := response.read(1 << 16):
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"download of {name} cancelled; nothing was kept")
            digest.update(chunk)
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(name, done, total)
        if total is not None and done != total:
            raise DataError(f"the download of {name} broke off after {done:,} of {total:,} bytes; nothing was kept")
        if digest.hexdigest() != entry["sha256"]:
            raise DataError(
                f"downloaded {name} has sha256 {digest.hexdigest()[:12]}…, expected "
                f"{entry['sha256'][:12]}…; nothing was kept"
            )


def _existing(path: Path, origin: str) -> Path:
    if not path.exists():
        raise DataError(f"{path}{origin}: no such file or folder; {HOW_TO_POINT}")
    return path
