"""File helpers: atomic writes (readers see the old file or the complete new one), the one bounded
reader for files a user can point bertsent at, and checksums."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Open a temporary file beside ``path``; on success fsync it and rename it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        os.chmod(fd, 0o666 & ~umask())  # mkstemp makes it 0600; a plain open() would follow the umask
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path) as handle:
        handle.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def umask() -> int:
    """The process umask (read from /proc where it can be, so no thread sees it changed)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def follow_umask(path: str | os.PathLike[str], *, directory: bool = False) -> None:
    """Give a file or folder made by ``tempfile`` (mode 0600/0700) the mode ``open``/``mkdir`` would."""
    os.chmod(path, (0o777 if directory else 0o666) & ~umask())


@contextlib.contextmanager
def locked(folder: str | os.PathLike[str], *, shared: bool = False, wait: bool = True) -> Iterator[None]:
    """Hold an advisory lock on ``folder`` itself (exclusive for writers, shared for readers).

    The lock is on the folder, not a file in it, so it adds nothing to the folder; it is released
    when the process dies, so a killed writer never leaves it held. ``wait=False``: raise
    :class:`BlockingIOError` at once when another process holds it.
    """
    try:
        import fcntl
    except ImportError:  # no advisory locks on this platform
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if wait else fcntl.LOCK_NB))
        yield
    finally:
        os.close(fd)


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


MIB = 1 << 20


def read_regular(path: str | os.PathLike[str], limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes; else ``OSError``.

    Every file bertsent reads back whole (model.json, the run history, settings, caches) and that a
    user can point elsewhere goes through here: a link to ``/dev/zero`` or a huge file is refused
    instead of filling memory, a FIFO or socket instead of blocking, a folder with one line. It is
    opened without blocking and checked on the open descriptor, so a swap after a check changes
    nothing. A missing file is ``FileNotFoundError``, as from ``open``.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not stat.S_ISREG(os.stat(path).st_mode):  # before opening: opening a socket fails obscurely
        raise _not_regular(path)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _not_regular(path)
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while chunk := os.read(fd, min(MIB, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # checked on what is read, not on st_size: a file can grow meanwhile
                raise OSError(errno.EFBIG, f"larger than {limit:,} bytes, too large to be this file", str(path))
        return b"".join(chunks)
    finally:
        os.close(fd)


def _not_regular(path: str | os.PathLike[str]) -> OSError:
    return OSError(errno.EINVAL, "not a regular file", str(path))


def sha256_file(path: str | os.PathLike[str]) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
