"""On-disk embedding cache: append-only shards of (text hash, vector), each written atomically.

Every writer adds its own uniquely named shard, so concurrent processes never clobber each other,
and an interrupted run keeps every shard it finished. Reads skip shards that fail to load.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from core.files import atomic_open

FORMAT = 1
HASH_BYTES = 16


def text_hash(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=HASH_BYTES).digest()


def cache_key(**settings: object) -> str:
    """A stable key for everything that changes an embedding (encoder weights, pooling, ...)."""
    blob = json.dumps({"format": FORMAT, **settings}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:32]


class EmbeddingCache:
    """Vectors for one cache key, stored under ``root/<key>/*.npz``."""

    def __init__(self, root: str | os.PathLike[str], key: str) -> None:
        self.folder = Path(root) / key
        self.key = key

    def shards(self) -> list[Path]:
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob("*.npz"))

    def fill(self, hashes: list[bytes], out: np.ndarray) -> np.ndarray:
        """Copy cached vectors for ``hashes`` into the rows of ``out``; return a mask of rows filled."""
        wanted: dict[bytes, list[int]] = {}
        for row, digest in enumerate(hashes):
            wanted.setdefault(digest, []).append(row)
        found = np.zeros(len(hashes), dtype=bool)
        for shard in self.shards():
            if not wanted:
                break
            loaded = _read_shard(shard, out.shape[1])
            if loaded is None:
                continue
            shard_hashes, vectors = loaded
            for index, digest in enumerate(map(bytes, shard_hashes)):
                rows = wanted.pop(digest, None)
                if rows is not None:
                    out[rows] = vectors[index]
                    found[rows] = True
        return found

    def add(self, hashes: Iterable[bytes], vectors: np.ndarray) -> Path:
        """Write one new shard atomically."""
        digests = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(digests) != len(vectors):
            raise ValueError("hashes and vectors differ in length")
        path = self.folder / f"{uuid.uuid4().hex}.npz"
        with atomic_open(path) as handle:
            np.savez(handle, hashes=digests, vectors=np.ascontiguousarray(vectors, dtype=np.float32))
        return path

    def clear(self) -> None:
        for shard in self.shards():
            shard.unlink(missing_ok=True)


def _read_shard(path: Path, dim: int) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            hashes, vectors = data["hashes"], data["vectors"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None
    if hashes.ndim != 2 or hashes.shape[1] != HASH_BYTES or vectors.shape != (len(hashes), dim):
        return None
    return hashes, vectors
