"""APX (CLAIMS.md §4) in sympy: bias–variance of the approximate Softmax estimators.

Every public function returns a :class:`Derivation` (some with a numeric by-product in a
tuple).  What it derives a property of -- the estimator's law, the variance formula, the
normalizer, the RG coefficient table, the H1 fit -- it reads from a module attribute at
call time, so a planted defect (reports/apx/planted.py) enters as a bug would, by
replacing that attribute for one run, never through a keyword only planting sets.  The
estimators are those of ``losses/approx.py``; ``g = softmax(θ) − e_y`` throughout.  One
module per claim:

* proofs/apx/decomposition.py (APX-1): :func:`decomposition` (MSE = bias² + variance) and
  :func:`deterministic_variance` (HSM H2, RG², RG×: variance 0, positive bias);
* proofs/apx/ssm.py (APX-2): :func:`ssm_delta_method` (b1/m and v1/m),
  :func:`ssm_ideal_moments` (ideal proposal: bias 0, variance ∝ 1/m, every n and m),
  :func:`ssm_ideal_unbiased` and :func:`ssm_only_if`;
* proofs/apx/nce.py (APX-3): :func:`nce_limit`, :func:`nce_population`;
* proofs/apx/hsm.py (APX-4): :func:`hsm_tree_dependence` (H2), :func:`hsm_h1_tree_free` (H1);
* proofs/apx/rg.py (APX-5): :func:`rg_scale`, :func:`rg_spread`, :func:`rg2_weighted_squared`;
* proofs/apx/sgd.py (APX-6): :func:`sgd_neighbourhood` (proofs/apx/sgd_bound.py).
"""
from __future__ import annotations

from .common import CANONICAL_THETA0, CANONICAL_Y  # noqa: F401
from .decomposition import decomposition, deterministic_variance, estimator_expr  # noqa: F401
from .hsm import h1_fit, h1_model, hsm_h1_tree_free, hsm_tree_dependence  # noqa: F401
from .nce import nce_limit, nce_population  # noqa: F401
from .rg import RG_COEFFS, rg2_weighted_squared, rg_grad_expr, rg_loss_expr, rg_scale, rg_spread  # noqa: F401
from .sgd import sgd_neighbourhood  # noqa: F401
from .ssm import (
    ssm_delta_method,
    ssm_ideal_bias_symbolic,
    ssm_ideal_moments,
    ssm_ideal_unbiased,
    ssm_only_if,
    typed_sigma1,
)
