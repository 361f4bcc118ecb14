"""What survives an interrupted run: atomic files, and the rows already finished.

A report (25 minutes in the full profile) or a sweep (hours) that is killed, loses its
machine or meets Ctrl-C resumes instead of restarting: every finished row is written,
atomically, under ``OUT/.resume/``, named by a hash of everything the row is a function
of -- its key, the profile, the seed, the device, whether planted defects ran, and the
code version (every source file of our packages and the versions of the libraries the
checks call).  A row from other code is therefore never reused: a new file name, not a
stale hit.  Rows that crashed are not kept (a crash is re-run, never resumed).

Atomic means written to a temporary file in the same folder, then ``os.replace``d onto
its name: a reader sees the old file or the new one, never a truncated one.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from audit import RunContext

from .provenance import code_version

RESUME_DIR = ".resume"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates 0600 files; a report is as readable as any file the user writes
_MODE = 0o666 & ~_umask()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that no reader ever sees a partial file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _MODE)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


class ResultStore:
    """Finished task results, one JSON file each under ``folder``, named by a hash of the
    task key and ``identity`` (everything besides the key that the result depends on; the
    code version is added here)."""

    def __init__(self, folder: Path, identity: Any, version: str | None = None):
        self.dir = Path(folder)
        self.version = version or code_version()
        self._salt = json.dumps([identity, self.version], sort_keys=True, default=repr)

    def path(self, key: str) -> Path:
        digest = hashlib.sha256(f"{key}\0{self._salt}".encode()).hexdigest()[:32]
        return self.dir / f"{digest}.json"

    def get(self, key: str) -> Any | None:
        """The stored result of ``key``, or None (absent, or unreadable: then re-run)."""
        try:
            stored = json.loads(self.path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return stored.get("result") if isinstance(stored, dict) and stored.get("key") == key else None

    def put(self, key: str, result: Any) -> None:
        atomic_write_text(self.path(key), json.dumps({"key": key, "version": self.version, "result": result},
                                                     ensure_ascii=False))

    def clear(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def prune(self) -> int:
        """Remove results of other code versions (never reusable) and unreadable files;
        returns how many.  Results of this version under other identities (another seed,
        say) are kept."""
        removed = 0
        for f in self.dir.glob("*.json"):
            try:
                keep = json.loads(f.read_text(encoding="utf-8")).get("version") == self.version
            except (OSError, ValueError, AttributeError):
                keep = False
            if not keep:
                f.unlink(missing_ok=True)
                removed += 1
        return removed


def row_store(out: Path, ctx: RunContext, planted: bool, version: str | None = None) -> ResultStore:
    """The report's finished rows: ``out/.resume/``, keyed by row key, profile, seed,
    device, planted defects on or off, the context's extras and the code version."""
    identity = {"profile": ctx.profile, "seed": ctx.seed, "device": str(ctx.device), "planted": bool(planted),
                "extra": sorted((str(k), repr(v)) for k, v in dict(ctx.extra).items())}
    return ResultStore(Path(out) / RESUME_DIR, identity, version)
