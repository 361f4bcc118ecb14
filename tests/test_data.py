"""The data path (numerics/data.py, `softmax-audit data ml-100k`) with synthetic files:
checksum, offline error, corrupt cache, wrong wheel.  No network: a fake wheel is built here."""
from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from numerics import data as D

CONTENT = (D.HEADER + "\n196\t242\t3\t881250949\n186\t302\t3\t891717742\n196\t302\t1\t878887116\n").encode()
SHA = hashlib.sha256(CONTENT).hexdigest()


def _wheel(tmp_path, content=CONTENT, member=D.MEMBER):
    path = tmp_path / "recbole-1.2.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(member, content)
        z.writestr("recbole/__init__.py", "")
    return path


def test_fetch_from_wheel_verifies_and_caches(tmp_path):
    cache = tmp_path / "cache"
    path = D.fetch_ml100k(cache, wheel=_wheel(tmp_path), expected_sha256=SHA, log=lambda m: None)
    assert path == cache / D.FILE_NAME and path.read_bytes() == CONTENT
    # second call: served from the cache, no wheel and no pip needed
    assert D.fetch_ml100k(cache, expected_sha256=SHA, pip=["false"], log=lambda m: None) == path
    data = D.load_ml100k(path)
    assert (data.n_users, data.n_items, len(data.users)) == (2, 2, 3)
    assert data.users.tolist() == [1, 0, 1] and data.items.tolist() == [0, 1, 1]


def test_offline_gives_clear_error(tmp_path):
    with pytest.raises(D.DataError, match="offline.*--wheel"):
        D.fetch_ml100k(tmp_path / "cache", expected_sha256=SHA, pip=["false"], log=lambda m: None)
    with pytest.raises(D.DataError, match="could not download"):
        D.fetch_ml100k(tmp_path / "cache", expected_sha256=SHA, pip=[str(tmp_path / "no-such-pip")], log=lambda m: None)


def test_corrupt_cache_is_refused_then_replaced_with_force(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / D.FILE_NAME).write_bytes(CONTENT[:-5])
    with pytest.raises(D.DataError, match="corrupt.*--force"):
        D.fetch_ml100k(cache, wheel=_wheel(tmp_path), expected_sha256=SHA, log=lambda m: None)
    path = D.fetch_ml100k(cache, wheel=_wheel(tmp_path), expected_sha256=SHA, force=True, log=lambda m: None)
    assert D.sha256(path) == SHA


def test_wrong_or_damaged_wheel(tmp_path):
    with pytest.raises(D.DataError, match="sha256"):
        D.fetch_ml100k(tmp_path / "c1", wheel=_wheel(tmp_path, content=CONTENT + b"x"), expected_sha256=SHA,
                       log=lambda m: None)
    (tmp_path / "w2").mkdir()
    with pytest.raises(D.DataError, match="does not contain"):
        D.fetch_ml100k(tmp_path / "c2", wheel=_wheel(tmp_path / "w2", member="other.inter"), expected_sha256=SHA,
                       log=lambda m: None)
    bad = tmp_path / "bad.whl"
    bad.write_bytes(b"not a zip")
    with pytest.raises(D.DataError, match="not a valid wheel"):
        D.fetch_ml100k(tmp_path / "c3", wheel=bad, expected_sha256=SHA, log=lambda m: None)
    assert not (tmp_path / "c1" / D.FILE_NAME).exists()  # nothing unverified is cached


def test_cli_reports_errors_without_traceback(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / D.FILE_NAME).write_bytes(b"garbage")
    proc = subprocess.run([sys.executable, "-m", "reports.cli", "data", "ml-100k", "--cache", str(cache)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "corrupt" in proc.stderr and "Traceback" not in proc.stderr


def test_load_rejects_other_files(tmp_path):
    p = tmp_path / "x.inter"
    p.write_text("a\tb\n1\t2\n")
    with pytest.raises(D.DataError, match="does not look like"):
        D.load_ml100k(p)


def test_synthetic_is_seeded_power_law_and_distinct_per_user():
    a, b = D.synthetic(seed=3), D.synthetic(seed=3)
    assert np.array_equal(a.items, b.items) and not np.array_equal(a.items, D.synthetic(seed=4).items)
    per = a.items.reshape(a.n_users, -1)
    assert all(len(set(r)) == per.shape[1] for r in per.tolist())
    counts = np.bincount(a.items, minlength=a.n_items)
    assert counts[:50].sum() > 3 * counts[-50:].sum()  # popular head
    with pytest.raises(ValueError, match="per_user"):
        D.synthetic(n_items=10, per_user=10)
