"""The outside re-checker loaded the way users run it, as the standalone script
``python reports/recheck.py`` (not as ``reports.recheck``), for the tests of its re-checks."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load(name: str = "recheck_script"):
    spec = importlib.util.spec_from_file_location(name, ROOT / "reports" / "recheck.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


RECHECK = load()
