"""Numeric checks of the APX claims (CLAIMS.md §4), each returning an :class:`Evidence`;
one module per claim, listed here for the registry (reports/claims_apx.py).

Ground truth is exact (numerics/apx_exact.py: multiset enumeration through the library's
estimators, the NCE closed form by linearity, deterministic estimators evaluated; and
numerics/apx_plain.py: a plain numpy enumeration that shares no code with the library);
the Monte Carlo (numerics/montecarlo.py) must agree with it and carries the large-n rates.
Every input whose property a check checks (the estimator, the sampler, the bias² estimator,
the proposal, the noise, the normalizer, the canonical θ, ...) is read at call time from the
module that defines it, so a planted defect or truth (reports/planted_apx.py) enters by
patching that attribute, as a bug would; no check takes it as a keyword.

* numerics/apx_decomp.py (APX-1): :func:`decomposition`;
* numerics/apx_ssm.py (APX-2): :func:`ssm_rate_exact`, :func:`ssm_ideal_exact`;
* numerics/apx_mc.py (APX-2/3, statistical): :func:`mc_agreement`, :func:`mc_rate_large`;
* numerics/apx_nce.py (APX-3): :func:`nce_rate`, :func:`nce_population`;
* numerics/apx_hsm.py (APX-4): :func:`hsm_trees`, :func:`hsm_h1_fit`;
* numerics/apx_rg.py (APX-5): :func:`rg_scale`, :func:`rg_spread`, :func:`rg2_squared`;
* numerics/apx_sgd.py (APX-6, statistical): ``sgd_convergence``.
"""
from __future__ import annotations

from .apx_common import EQ_TOL, N, THETA, Y  # noqa: F401
from .apx_decomp import decomposition  # noqa: F401
from .apx_hsm import _clusters, _trees, hsm_h1_fit, hsm_trees  # noqa: F401
from .apx_mc import mc_agreement, mc_rate_large  # noqa: F401
from .apx_nce import nce_population, nce_rate  # noqa: F401
from .apx_rg import rg2_squared, rg_scale, rg_spread, squared_form  # noqa: F401
from .apx_ssm import ssm_ideal_exact, ssm_rate_exact  # noqa: F401
