"""The outside re-checker's routines, one module per claim group, plain numpy and fractions:
nothing here imports ``losses/``, ``proofs/``, ``numerics/`` or the rest of ``reports/``."""
