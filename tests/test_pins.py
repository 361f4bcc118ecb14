"""The libraries the suite reports (numerics/code_identity.versions(), results.json meta.versions) are pinned
exactly, so a fresh clone installs the versions the records and reports were made with: an unpinned one let a
new release on PyPI (hypothesis 6.170.29) make every fresh clone's final-runs record stale.  Since then only the
libraries a training run calls key the records."""
import re
import tomllib
from pathlib import Path

import pytest

from numerics import code_identity as C
from numerics.code_identity import _VERSIONED, versions

ROOT = Path(__file__).resolve().parent.parent


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    out = {}
    for spec in specs:
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)", spec.strip())
        out.setdefault(m.group(1).lower(), []).append(m.group(3))
    return out


def test_every_library_that_keys_the_records_is_pinned_exactly_and_installed_as_pinned():
    pins = _pins()
    installed = versions()
    for pkg in _VERSIONED:
        assert pkg in pins, f"{pkg} keys the records but is not a dependency"
        for spec in pins[pkg]:
            assert spec.startswith("==") and "," not in spec, f"{pkg} must be pinned exactly, got {spec!r}"
            assert installed[pkg].split("+")[0] == spec[2:], f"{pkg}: installed {installed[pkg]}, pinned {spec}"


@pytest.mark.parametrize("pkg, keys", [("torch", True), ("numpy", True), ("hypothesis", False), ("sympy", False),
                                       ("cvxpy", False), ("clarabel", False), ("scipy", False)])
def test_only_the_libraries_a_training_run_calls_key_the_scoring_code(monkeypatch, pkg, keys):
    def key(vs):
        monkeypatch.setattr(C, "versions", lambda: vs)
        C.scoring_version.cache_clear()
        return C.scoring_version()

    try:
        today = versions()
        assert (key(today) != key({**today, pkg: today[pkg] + ".post1"})) is keys
    finally:
        C.scoring_version.cache_clear()
