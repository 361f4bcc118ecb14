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

One writer per folder: :func:`out_lock` holds ``OUT/.lock`` (an exclusive ``flock``, the
holder's pid and host written inside) for as long as a report writes there; a second
report into the same folder is refused (:class:`FolderBusy`).  The kernel drops the lock of
a process that dies, so a lock file left by a dead report is taken over; where the file
system has no ``flock``, the pid in the file decides (a live process on this host holds it).
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import socket
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from audit import RunContext

from .provenance import code_version

RESUME_DIR = ".resume"
LOCK_NAME = ".lock"


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


class FolderUnusable(ValueError):
    """An output folder that cannot be written (a file, a read-only directory, ...)."""


class FolderBusy(ValueError):
    """Another live report holds the folder's lock."""


def writable_folder(folder: Path) -> Path:
    """``folder``, created if needed and shown writable by writing (and removing) a file
    there; :class:`FolderUnusable` saying why not."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise FolderUnusable(f"{folder} is not a directory")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".write-test.", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise FolderUnusable(f"cannot write into {folder}: {exc.strerror or exc}") from None
    return folder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:     # someone else's process: alive
        return True
    return True


def _holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        got = json.loads(os.read(fd, 4096).decode("utf-8"))
        return got if isinstance(got, dict) else {}
    except (OSError, ValueError):
        return {}


def _locked_by_pid(holder: dict[str, Any]) -> bool:
    """Without ``flock``: the lock is held when it names a live process on this host."""
    pid = holder.get("pid")
    return (isinstance(pid, int) and pid > 0 and pid != os.getpid() and holder.get("host") == socket.gethostname()
            and _alive(pid))


@contextmanager
def out_lock(folder: Path) -> Iterator[Path]:
    """Hold ``folder/.lock`` while the body writes into ``folder`` (module docstring):
    :class:`FolderBusy` when a live report holds it, :class:`FolderUnusable` when the folder
    cannot be written."""
    import fcntl

    folder = writable_folder(folder)
    path = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, _MODE)
        except OSError as exc:
            raise FolderUnusable(f"cannot write into {folder}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            busy = False
        except BlockingIOError:
            busy = True
        except OSError as exc:  # no flock on this file system: the pid decides
            if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL):
                os.close(fd)
                raise
            busy = _locked_by_pid(_holder(fd))
        if busy:
            holder = _holder(fd)
            os.close(fd)
            who = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')}"
            raise FolderBusy(f"{folder} is in use by another report ({who}); wait for it to finish or choose another "
                             f"--out (if no report is running, remove {path})")
        # the holder may have finished (and removed its file) between our open and our lock
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        # a lock file left by a process that died is taken over: it is ours now
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": socket.gethostname()}).encode())
        yield folder
    finally:
        path.unlink(missing_ok=True)   # removed while held: the next report locks a new file
        os.close(fd)
