"""CPX-1: per-epoch costs (CLAIMS.md §5): numeric checks."""
