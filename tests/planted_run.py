"""The user-path tests' one way to run a single planted defect through the runner (reports/runner.py):
the caches the planted run patches around are cleared before and after, so no derivation of the real
loss is served to the planted run or back."""
from audit import RunContext
from reports.runner import clear_caches, run_planted


def planted_result(claim, check, words: str):
    """The runner's result of the one planted defect of ``check`` whose text holds ``words``."""
    clear_caches()
    try:
        (res,) = [r for r in run_planted(claim, check, RunContext(), which="defects") if words in r.defect]
    finally:
        clear_caches()
    return res
