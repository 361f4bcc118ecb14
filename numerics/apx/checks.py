"""Numeric checks of the APX claims (CLAIMS.md §4), each returning an :class:`Evidence`;
one module per claim, listed here for the registry (reports/apx/claims.py).

Ground truth is exact (numerics/apx/exact.py: multiset enumeration through the library's
estimators, the NCE closed form by linearity, deterministic estimators evaluated; and
numerics/apx/plain.py: a plain numpy enumeration that shares no code with the library);
the Monte Carlo (numerics/apx/montecarlo.py) must agree with it and carries the large-n rates.
Every input whose property a check checks (the estimator, the sampler, the bias² estimator,
the proposal, the noise, the normalizer, the canonical θ, ...) is read at call time from the
module that defines it, so a planted defect or truth (reports/apx/planted.py) enters by
patching that attribute, as a bug would; no check takes it as a keyword.

* numerics/apx/decomp.py (APX-1): :func:`decomposition`;
* numerics/apx/ssm.py (APX-2): :func:`ssm_rate_exact`, :func:`ssm_ideal_exact`;
* numerics/apx/mc.py (APX-2/3, statistical): :func:`mc_agreement`, :func:`mc_rate_large`;
* numerics/apx/nce.py (APX-3): :func:`nce_rate`, :func:`nce_population`;
* numerics/apx/hsm.py (APX-4): :func:`hsm_trees`, :func:`hsm_h1_fit`;
* numerics/apx/rg.py (APX-5): :func:`rg_scale`, :func:`rg_spread`, :func:`rg2_squared`;
* numerics/apx/sgd.py (APX-6, statistical): ``sgd_convergence``.
"""
from __future__ import annotations

from .common import EQ_TOL, N, THETA, Y  # noqa: F401
from .decomp import decomposition  # noqa: F401
from .hsm import _clusters, _trees, hsm_h1_fit, hsm_trees  # noqa: F401
from .mc import mc_agreement, mc_rate_large  # noqa: F401
from .nce import nce_population, nce_rate  # noqa: F401
from .rg import rg2_squared, rg_scale, rg_spread, squared_form  # noqa: F401
from .ssm import ssm_ideal_exact, ssm_rate_exact  # noqa: F401
