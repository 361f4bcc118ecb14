"""EXP-1, DYN-3, CPX-2: the recommendation experiment (CLAIMS.md §6); its training code is numerics/recsys: numeric checks."""
