"""Content-addressed files: bytes stored once, under `root/ab/cdef...`, named by their SHA-256.

A file appears under its final name only complete. Bytes go to a temporary file in the
same folder (`.tmp-*`), are fsync'd, then `os.replace`d into place, and the folder is
fsync'd so the new name survives a power cut too. A crash at any point leaves at worst a
temporary file, which no name points at and `sweep_temporary` removes. Names are checked
hex digests, so no caller-supplied text ever becomes part of a path.

This module knows nothing of the database: deciding whether a file is still referenced is
the asset store's job. Every method blocks; async callers run them in a thread.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
TEMP_PREFIX = ".tmp-"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _fsync_folder(folder: Path) -> None:
    # Makes the rename itself durable on POSIX; Windows cannot open a folder, and needs no such step.
    if not hasattr(os, "O_DIRECTORY"):
        return
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """Files named by the SHA-256 of their bytes, under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, sha256: str) -> Path:
        """Where the file for `sha256` lives (whether or not it exists). ValueError for anything but
        a lowercase hex digest: a bug, since digests come from our own rows."""
        if not SHA256_RE.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / sha256[2:]

    def exists(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, data: bytes) -> str:
        """Store `data` (once: identical bytes are already there) and answer its SHA-256."""
        sha = sha256_hex(data)
        target = self.path(sha)
        try:
            if target.stat().st_size == len(data):
                os.utime(target)  # fresh again: a sweep spares files younger than its threshold
                return sha
        except FileNotFoundError:
            pass
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, target)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise
        _fsync_folder(target.parent)
        return sha

    def read(self, sha256: str) -> bytes:
        return self.path(sha256).read_bytes()

    def remove(self, sha256: str) -> bool:
        """Delete the file; False when there was none. Shard folders stay (at most 256 of them),
        so a concurrent `put` never finds its folder gone."""
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    def stored(self) -> Iterator[tuple[str, float]]:
        """Every stored file as (sha256, modification time); temporary files and strays are skipped."""
        if not self.root.is_dir():
            return
        for shard in self.root.iterdir():
            if not shard.is_dir() or len(shard.name) != 2:
                continue
            for entry in shard.iterdir():
                sha = shard.name + entry.name
                if SHA256_RE.fullmatch(sha) and entry.is_file():
                    yield sha, entry.stat().st_mtime

    def sweep_temporary(self, *, older_than: float, now: float | None = None) -> int:
        """Remove temporary files older than `older_than` seconds (left by a crash mid-write);
        younger ones may belong to a write in progress. Answers how many went."""
        if not self.root.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - older_than
        removed = 0
        for temp in self.root.glob(f"*/{TEMP_PREFIX}*"):
            try:
                if temp.stat().st_mtime <= cutoff:
                    temp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed
