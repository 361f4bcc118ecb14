"""Task functions for tests/test_execution.py: importable by name on a Dask worker (a
spawned worker inherits this process's sys.path, tests/ included)."""
import os
from pathlib import Path


def square(x):
    return x * x


def worker_view():
    """What a task sees on its worker: torch's threads and the GPU it was pinned to."""
    import torch

    return torch.get_num_threads(), os.environ.get("CUDA_VISIBLE_DEVICES")


def die():
    """The worker process dies under the task (no exception to catch)."""
    os._exit(17)


def die_once(marker: str):
    """Dies the first time (leaving ``marker``), returns on the retry."""
    path = Path(marker)
    if not path.exists():
        path.write_text("died once")
        os._exit(17)
    return "survived"
