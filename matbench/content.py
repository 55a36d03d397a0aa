"""Identity by content: what a result or a cached file was made from is recorded as the SHA-256 of
its bytes, never trusted from a file's name or stamps alone.

``cp -p``, ``tar x`` and ``rsync -a`` restore a file's modification time while its content changes,
so a stamp may only short-cut re-hashing when size, modification time *and* inode change time (which
no tool can set back) all equal those recorded together with a hash: :func:`same_content`.
"""
from __future__ import annotations

import hashlib
import os
from typing import Sequence

#: a file's record: [absolute real path, size, mtime_ns, ctime_ns, sha256 or None]
Stamp = list


def file_sha256(path: str | os.PathLike) -> str:
    """The SHA-256 of a file's content (about 1.6 GB/s here)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_stamp(path: str | os.PathLike, with_hash: bool = False) -> Stamp:
    """``[real path, size, mtime_ns, ctime_ns, sha256]`` of a file; the hash only when asked
    (``None`` otherwise), everything but the path ``None`` when the file cannot be read."""
    resolved = os.path.realpath(path)
    try:
        st = os.stat(resolved)
        sha = file_sha256(resolved) if with_hash else None
    except OSError:
        return [resolved, None, None, None, None]
    return [resolved, st.st_size, st.st_mtime_ns, st.st_ctime_ns, sha]


def same_content(recorded: Sequence, current: Sequence) -> bool:
    """Whether the file a ``recorded`` stamp (with its hash) describes still has that content,
    ``current`` being its stamp now (hash or not): equal stamps short-cut; otherwise the file is
    hashed (once: the hash is stored into ``current``). A record without a hash never matches."""
    if len(recorded) != 5 or not recorded[4] or recorded[0] != current[0] or current[1] is None:
        return False
    if list(recorded[1:4]) == list(current[1:4]):
        return True
    if current[4] is None:
        try:
            current[4] = file_sha256(current[0])
        except OSError:
            return False
    return current[4] == recorded[4]


def sealed(stamp: Stamp) -> Stamp:
    """``stamp`` with its hash (computed now when missing), for recording."""
    if stamp[4] is None and stamp[1] is not None:
        try:
            stamp[4] = file_sha256(stamp[0])
        except OSError:
            pass
    return stamp
