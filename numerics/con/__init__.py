"""CON-1 … CON-3: calibration, DCG consistency and order preservation (CLAIMS.md §2): numeric checks."""
