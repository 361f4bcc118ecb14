"""Symbolic derivations for the Fenchel–Young claims FY-1 … FY-4 (public API).

Every function takes ``loss`` ∈ {"softmax", "sparsemax", "entmax", "rankmax"} and returns a
:class:`~proofs.derivation.Derivation`; an unknown loss raises ``ValueError``.  The work is
split by topic: :mod:`proofs.kkt` (KKT solutions per support pattern, shared helpers),
:mod:`proofs.conjugates` (FY-1, FY-2), :mod:`proofs.hessians`, :mod:`proofs.margins` (FY-3),
:mod:`proofs.smoothness` (FY-4).  The ``check_*`` helpers are the decision procedures the
derivations use; they accept a candidate so that a wrong candidate can be shown to fail.
"""
from .conjugates import check_conjugate, conjugate, derived_conjugate, loss_properties
from .hessians import check_hessian, hessian, jacobian, stated_hessian
from .kkt import LOSSES
from .margins import check_margin, margin
from .smoothness import check_smoothness, entmax_gt2_counterexample, entmax_lipschitz, smoothness

__all__ = [
    "LOSSES", "conjugate", "loss_properties", "hessian", "margin", "smoothness",
    "check_conjugate", "check_hessian", "check_margin", "check_smoothness",
    "derived_conjugate", "stated_hessian", "jacobian", "entmax_lipschitz", "entmax_gt2_counterexample",
]
