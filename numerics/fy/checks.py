"""Numeric checks of the Fenchel–Young claims FY-1 … FY-4 (CLAIMS.md §1): the public names,
one module per claim (numerics/fy/fy1_conjugate.py, fy2_properties.py, fy3_margin.py,
fy4_smoothness.py; shared parts in fy_common.py; the differential test against the
``entmax`` package in fy_differential.py)."""
from .fy1_conjugate import cvx_agreement
from .fy2_properties import loss_properties
from .fy3_margin import MARGINS, margin_check
from .fy4_smoothness import claimed_constant, gt2_upper, smoothness_check
from .common import ENTMAX_ALPHAS, RANKMAX_KS, SMOOTH_ALPHAS
from .differential import entmax_differential

__all__ = ["cvx_agreement", "loss_properties", "margin_check", "smoothness_check", "entmax_differential",
           "claimed_constant", "gt2_upper", "MARGINS", "ENTMAX_ALPHAS", "RANKMAX_KS", "SMOOTH_ALPHAS"]
