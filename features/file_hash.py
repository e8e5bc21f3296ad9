"""Content checksums of media, model and vector files (cache keys, provenance records)."""
import hashlib
import os
from functools import lru_cache


def file_sha256(path: str) -> str:
    """sha256 of the file's bytes; remembered per (path, size, mtime) so a rewritten file is re-read."""
    stat = os.stat(path)
    return _sha256(str(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=256)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
