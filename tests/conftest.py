import os

import pytest

from audit import RunContext


def pytest_addoption(parser):
    parser.addoption("--profile", choices=("quick", "full"), default=os.environ.get("SOFTMAX_AUDIT_PROFILE", "quick"),
                     help="check budgets for the registered claims (default quick)")
    parser.addoption("--seed", type=int, default=0, help="seed of the registered checks (default 0)")


@pytest.fixture(scope="session")
def ctx(request) -> RunContext:
    return RunContext(profile=request.config.getoption("--profile"), seed=request.config.getoption("--seed"))
