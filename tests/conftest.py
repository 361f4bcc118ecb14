import os

import pytest
import torch

from audit import RunContext


def pytest_addoption(parser):
    parser.addoption("--profile", choices=("quick", "full"), default=os.environ.get("SOFTMAX_AUDIT_PROFILE", "quick"),
                     help="check budgets for the registered claims (default quick)")
    parser.addoption("--seed", type=int, default=0, help="seed of the registered checks (default 0)")


@pytest.fixture(scope="session")
def ctx(request) -> RunContext:
    return RunContext(profile=request.config.getoption("--profile"), seed=request.config.getoption("--seed"))


def pytest_configure(config):
    # under pytest-xdist each worker process takes its share of the cores for torch's
    # intra-op threads, so N workers on N cores do not oversubscribe (results do not
    # depend on the thread count: tests/test_execution.py compares 1-thread workers with
    # an in-process run byte for byte)
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0") or 0)
    if workers > 1:
        torch.set_num_threads(max(1, (os.cpu_count() or 1) // workers))
