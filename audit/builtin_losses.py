"""The four built-in losses as :class:`~audit.separable.SeparableLoss` values, registered in
the entry-point group ``softmax_audit.losses`` (pyproject.toml) and resolved through the
same path as a user's loss.

Each g is the generator of losses/regularizers.py up to an affine term a + b p, which
changes neither ŷ, the loss, nor any derived fact (on the simplex Σ(a + b pᵢ) is constant):

* softmax: Shannon negentropy, g = p log p (Blondel, Martins & Niculae 2020, Table 1);
* sparsemax: g = p²/2 (Martins & Astudillo 2016);
* 1.5-entmax: Tsallis, g = (p^α − p)/(α(α − 1)) at α = 3/2 (Peters, Niculae & Martins 2019);
* rankmax: g = p²/2 on the capped simplex C_k (Kong et al. 2020).
"""
import sympy as sp

from .separable import SeparableLoss

P = sp.Symbol("p", positive=True)
_ALPHA = sp.Rational(3, 2)

SOFTMAX = SeparableLoss("softmax", P * sp.log(P), P, margin=sp.oo, lipschitz=sp.Rational(1, 2))
SPARSEMAX = SeparableLoss("sparsemax", P**2 / 2, P, margin=1, lipschitz=1)
ENTMAX15 = SeparableLoss("entmax-1.5", (P**_ALPHA - P) / (_ALPHA * (_ALPHA - 1)), P, margin=2)
RANKMAX = SeparableLoss("rankmax", P**2 / 2, P, domain="capped")

BUILTINS = (SOFTMAX, SPARSEMAX, ENTMAX15, RANKMAX)
