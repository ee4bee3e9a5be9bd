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
from bertsent.core.base.errors import BertsentError
from bertsent.core.base.files import atomic_open

FORMAT = 2
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

    def fill(self, hashes: list[bytes], out: np.ndarray, lengths: np.ndarray) -> np.ndarray:
        """Copy cached vectors (and token lengths) for distinct ``hashes`` into ``out``/``lengths``.

        Returns a mask of the rows filled.
        """
        wanted = {digest: row for row, digest in enumerate(hashes)}
        found = np.zeros(len(hashes), dtype=bool)
        for shard in self.shards():
            if not wanted:
                break
            loaded = _read_shard(shard, out.shape[1])
            if loaded is None:
                continue
            shard_hashes, vectors, shard_lengths = loaded
            source, rows = [], []
            for index, digest in enumerate(map(bytes, shard_hashes)):
                row = wanted.pop(digest, None)
                if row is not None:
                    source.append(index)
                    rows.append(row)
            if rows:
                out[rows] = vectors[source]
                lengths[rows] = shard_lengths[source]
                found[rows] = True
        return found

    def add(self, hashes: Iterable[bytes], vectors: np.ndarray, lengths: np.ndarray) -> Path:
        """Write one new shard atomically."""
        digests = np.frombuffer(b"".join(hashes), dtype=np.uint8).reshape(-1, HASH_BYTES)
        if not len(digests) == len(vectors) == len(lengths):
            raise ValueError("hashes, vectors and lengths differ in length")
        path = self.folder / f"{uuid.uuid4().hex}.npz"
        try:
            with atomic_open(path) as handle:
                np.savez(
                    handle,
                    hashes=digests,
                    vectors=np.ascontiguousarray(vectors, dtype=np.float32),
                    lengths=np.asarray(lengths, dtype=np.int32),
                )
        except OSError as exc:
            raise BertsentError(
                f"embedding cache {self.folder}: cannot write: {exc.strerror or exc} "
                f"(set BERTSENT_CACHE to a writable folder, or pass --no-cache)"
            ) from None
        return path

    def compact(self, hashes: list[bytes], vectors: np.ndarray, lengths: np.ndarray, *, max_shards: int = 8) -> None:
        """With more than ``max_shards`` shards, write ``vectors`` as one shard and delete the
        shards it covers whole (only their hashes are read, so memory stays flat)."""
        shards = self.shards()
        if len(shards) <= max_shards:
            return
        keep = self.add(hashes, vectors, lengths)
        covered = set(hashes)
        for shard in shards:
            if not shard.is_file():
                continue
            try:
                with np.load(shard, allow_pickle=False) as data:
                    inside = data["hashes"]
            except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
                continue
            if shard != keep and all(bytes(d) in covered for d in inside):
                shard.unlink(missing_ok=True)

    def clear(self) -> None:
        for shard in self.shards():
            shard.unlink(missing_ok=True)


def _read_shard(path: Path, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    if not path.is_file():  # a FIFO or device put in the cache would block or never end
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            hashes, vectors, lengths = data["hashes"], data["vectors"], data["lengths"]
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, EOFError):
        return None
    n = len(hashes)
    if hashes.shape != (n, HASH_BYTES) or vectors.shape != (n, dim) or lengths.shape != (n,):
        return None
    return hashes, vectors, lengths
