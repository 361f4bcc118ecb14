"""Data for the recommendation experiment (issue 5): MovieLens-100K through pip, and a
seeded synthetic generator for the tests and the quick profile.

MovieLens-100K is never committed.  ``softmax-audit data ml-100k`` obtains it through the
package registry: the RecBole 1.2.1 wheel (``pip download --no-deps recbole==1.2.1``)
carries ``recbole/dataset_example/ml-100k/ml-100k.inter`` (100,000 ratings, tab separated,
header ``user_id:token item_id:token rating:float timestamp:float``).  Only that member is
extracted, its sha256 is verified against :data:`INTER_SHA256`, and it is cached under
:func:`cache_dir` (``$SOFTMAX_AUDIT_CACHE``, else ``~/.cache/softmax-audit``).  Failures
raise :class:`DataError` with what to do (offline: fetch the wheel elsewhere and pass
``--wheel``; corrupt cache: ``--force``).
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

WHEEL_REQUIREMENT = "recbole==1.2.1"
MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"
INTER_SHA256 = "4edb74e2a81178c2ba9ff381495f754f996c4aea351b1272ca36b43da0935eff"
FILE_NAME = "ml-100k.inter"
HEADER = "user_id:token\titem_id:token\trating:float\ttimestamp:float"


class DataError(RuntimeError):
    """A data set could not be obtained or verified; the message says what to do."""


def cache_dir() -> Path:
    return Path(os.environ.get("SOFTMAX_AUDIT_CACHE") or Path.home() / ".cache" / "softmax-audit")


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download_wheel(dest: Path, pip: list[str]) -> Path:
    cmd = [*pip, "download", "--no-deps", "--only-binary=:all:", WHEEL_REQUIREMENT, "-d", str(dest)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except (OSError, subprocess.TimeoutExpired) as exc:
        proc = None
        reason = str(exc)
    else:
        reason = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or [f"exit status {proc.returncode}"]
        reason = reason[0]
    wheels = sorted(dest.glob("recbole-1.2.1-*.whl"))
    if proc is None or proc.returncode != 0 or not wheels:
        raise DataError(
            f"could not download {WHEEL_REQUIREMENT} with pip ({reason}). If this machine is offline, run "
            f"'pip download --no-deps {WHEEL_REQUIREMENT}' where the package index is reachable, copy the .whl here and "
            "run 'softmax-audit data ml-100k --wheel PATH'.")
    return wheels[0]


def fetch_ml100k(cache: Path | None = None, *, wheel: Path | None = None, force: bool = False,
                 expected_sha256: str = INTER_SHA256, pip: list[str] | None = None, log=print) -> Path:
    """Path of the verified, cached ``ml-100k.inter``; downloads and extracts it if needed.

    ``wheel``: use this RecBole wheel instead of downloading one.  ``force``: replace a
    cached file that fails its checksum.  ``pip``: the pip command (default: this
    Python's ``-m pip``)."""
    cache = Path(cache) if cache is not None else cache_dir()
    target = cache / FILE_NAME
    if target.exists():
        got = sha256(target)
        if got == expected_sha256:
            log(f"ml-100k: cached and verified at {target}")
            return target
        if not force:
            raise DataError(f"the cached {target} is corrupt (sha256 {got}, expected {expected_sha256}); run "
                            "'softmax-audit data ml-100k --force' to fetch it again, or delete the file")
        log(f"ml-100k: replacing the corrupt cached file {target}")
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        tmp = Path(tmp)
        if wheel is None:
            log(f"ml-100k: downloading {WHEEL_REQUIREMENT} (no dependencies) with pip")
            wheel = _download_wheel(tmp, pip or [sys.executable, "-m", "pip"])
        wheel = Path(wheel)
        try:
            with zipfile.ZipFile(wheel) as z:
                data = z.read(MEMBER)
        except FileNotFoundError:
            raise DataError(f"wheel {wheel} does not exist") from None
        except zipfile.BadZipFile:
            raise DataError(f"{wheel} is not a valid wheel (zip) file; download it again") from None
        except KeyError:
            raise DataError(f"{wheel} does not contain {MEMBER}; it must be the RecBole 1.2.1 wheel") from None
        got = hashlib.sha256(data).hexdigest()
        if got != expected_sha256:
            raise DataError(f"{MEMBER} in {wheel} has sha256 {got}, expected {expected_sha256}: the wheel is not the "
                            "published RecBole 1.2.1 or it is damaged; download it again")
        part = tmp / FILE_NAME
        part.write_bytes(data)
        os.replace(part, target)  # atomic: a crash never leaves a half-written cache file
    log(f"ml-100k: verified (sha256 {expected_sha256[:12]}…) and cached at {target}")
    return target


@dataclass(frozen=True)
class Interactions:
    """Implicit feedback: (user, item) pairs with 0-based contiguous ids."""

    name: str
    users: np.ndarray       # (N,) int64
    items: np.ndarray       # (N,) int64
    n_users: int
    n_items: int


def load_ml100k(path: Path) -> Interactions:
    """Parse ``ml-100k.inter`` (every rating counts as an interaction); ids re-indexed 0…."""
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n")
        if header != HEADER:
            raise DataError(f"{path} does not look like ml-100k.inter (header {header[:60]!r})")
        raw = np.loadtxt(f, dtype=np.int64, usecols=(0, 1), ndmin=2)
    u_ids, users = np.unique(raw[:, 0], return_inverse=True)
    i_ids, items = np.unique(raw[:, 1], return_inverse=True)
    return Interactions("ml-100k", users.astype(np.int64), items.astype(np.int64), len(u_ids), len(i_ids))


def synthetic(n_users: int = 300, n_items: int = 500, per_user: int = 20, d: int = 8, *, zipf: float = 1.0,
              seed: int = 0) -> Interactions:
    """Seeded synthetic implicit feedback: item popularity ∝ (rank + 1)^{−zipf} and latent
    factors; user u picks ``per_user`` distinct items with probability
    ∝ popularity_j · exp(⟨a_u, b_j⟩) (Gumbel top-k, no Python loop over users)."""
    for name, v in (("n_users", n_users), ("n_items", n_items), ("per_user", per_user), ("d", d)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    if per_user >= n_items:
        raise ValueError(f"per_user must be < n_items, got {per_user} ≥ {n_items}")
    if not zipf >= 0:
        raise ValueError(f"zipf must be ≥ 0, got {zipf!r}")
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n_users, d)) / np.sqrt(d)
    b = rng.normal(size=(n_items, d))
    logits = -zipf * np.log(np.arange(1, n_items + 1))[None, :] + a @ b.T
    keys = logits + rng.gumbel(size=logits.shape)
    items = np.argpartition(-keys, per_user - 1, axis=1)[:, :per_user]
    users = np.repeat(np.arange(n_users), per_user)
    return Interactions(f"synthetic(seed={seed})", users.astype(np.int64), items.reshape(-1).astype(np.int64),
                        n_users, n_items)
