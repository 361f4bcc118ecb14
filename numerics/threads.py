"""Thread settings for checks that run long Python loops over small tensors."""
from __future__ import annotations

import torch


class one_thread:
    """Context manager: one intra-op thread inside (fastest for small tensors in a long
    loop, and it does not fight other work for the cores; on a loaded 2-core machine two
    threads were measured 10–100× slower), the previous setting restored on exit."""

    def __enter__(self):
        self.prev = torch.get_num_threads()
        torch.set_num_threads(1)

    def __exit__(self, *exc):
        torch.set_num_threads(self.prev)
        return False
