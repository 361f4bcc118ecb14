"""The libraries whose versions key the committed records (numerics/code_identity.versions()) are pinned
exactly, so a fresh clone installs the versions the records were made with: an unpinned one let a new release
on PyPI (hypothesis 6.170.29) make every fresh clone's final-runs record stale."""
import re
import tomllib
from pathlib import Path

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
