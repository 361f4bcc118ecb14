"""Symbolic derivations for the Fenchel–Young claims FY-1 … FY-4 (public API).

Every function takes ``loss`` ∈ {"softmax", "sparsemax", "entmax", "rankmax"} and returns a
:class:`~proofs.derivation.Derivation`; an unknown loss raises ``ValueError``.  The work is
split by topic: :mod:`proofs.kkt` (KKT solutions per support pattern, shared helpers),
:mod:`proofs.generic` and :mod:`proofs.fy.identities` (the identities on KKT regions of
symbolic size: every n at once), :mod:`proofs.fy.conjugates` (FY-1, FY-2),
:mod:`proofs.fy.hessians`, :mod:`proofs.fy.margins` (FY-3), :mod:`proofs.fy.smoothness` (FY-4).

Each derivation decides the stated input the module it lives in reads at call time --
the closed form of Ω* (``proofs.fy.conjugates.closed_form``, in block sums), the stated
Hessian entry form (``proofs.fy.hessians.stated_form``), the stated margins
(``proofs.fy.margins.STATED``), the stated constants (``proofs.fy.smoothness.STATED``,
``GT2_UPPER``) -- so that a slip there (reports/fy/planted.py patches them) is what the
derivation decides.  The ``check_*`` helpers are the decision procedures on concrete KKT
cases.
"""
from .conjugates import check_conjugate, conjugate, derived_conjugate, loss_properties
from .identities import closed_form, stated_form
from .hessians import check_hessian, hessian, jacobian, stated_hessian
from ..kkt import LOSSES
from .margins import check_margin, margin
from .smoothness import check_smoothness, entmax_gt2_counterexample, entmax_lipschitz, smoothness

__all__ = [
    "LOSSES", "conjugate", "loss_properties", "hessian", "margin", "smoothness",
    "check_conjugate", "check_hessian", "check_margin", "check_smoothness",
    "derived_conjugate", "stated_hessian", "jacobian", "entmax_lipschitz", "entmax_gt2_counterexample",
    "closed_form", "stated_form",
]
