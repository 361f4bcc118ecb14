"""DYN-1, DYN-2: gradient dynamics (CLAIMS.md §3): in sympy."""
