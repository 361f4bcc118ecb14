"""Sympy helpers shared by the APX derivations (proofs/apx/api.py lists them): discrete laws,
the softmax gradient, three-valued logic, and HSM trees as rational matrices."""
from __future__ import annotations

from fractions import Fraction

import sympy as sp

CANONICAL_THETA0 = (sp.Integer(2), sp.Integer(1), sp.Integer(0), sp.Integer(-1), sp.Integer(-2), sp.Rational(1, 2))
CANONICAL_Y = 0


def mean(outcomes, weights):
    dim = len(outcomes[0])
    return [sp.Add(*[w * v[i] for v, w in zip(outcomes, weights)]) for i in range(dim)]


def variance(outcomes, weights, g=None) -> sp.Expr:
    """E‖g̃ − E g̃‖² of a discrete law (outcome vectors with probabilities); ``g`` unused
    (the signature of a candidate variance functional, which may centre elsewhere)."""
    mu = mean(outcomes, weights)
    return sp.Add(*[w * sp.Add(*[(vi - mi) ** 2 for vi, mi in zip(v, mu)]) for v, w in zip(outcomes, weights)])


def softmax(theta):
    e = [sp.exp(t) for t in theta]
    Z = sp.Add(*e)
    return [ei / Z for ei in e]


def full_grad(theta, y: int):
    p = softmax(theta)
    return [pj - (1 if j == y else 0) for j, pj in enumerate(p)]


def rat(v) -> sp.Rational:
    """A float as the exact rational of its shortest decimal representation."""
    return sp.Rational(repr(float(v)))


def and3(*flags):
    """Three-valued AND: False if any is False, None if any is None, else True."""
    if any(f is False for f in flags):
        return False
    if any(f is None for f in flags):
        return None
    return True


def sq(v) -> sp.Expr:
    return sp.Add(*[vi ** 2 for vi in v])


def sig(z):
    return 1 / (1 + sp.exp(-z))


def tree_rationals(tree):
    """(A as sympy rationals, paths, signs) of a losses.approx.Tree."""
    A = sp.Matrix(tree.n - 1, tree.n,
                  lambda i, j: sp.Rational(Fraction(float(tree.tie[i, j])).limit_denominator(10 ** 6)))
    paths, signs = [], []
    for j in range(tree.n):
        depth = int((tree.sign[j] != 0).sum())
        paths.append([int(v) for v in tree.path[j, :depth]])
        signs.append([int(s) for s in tree.sign[j, :depth]])
    return A, paths, signs


def hsm_h2_grad(tree, theta, y: int, simplify: bool = True):
    """(g̃ = Aᵀ ∂(−log p(y))/∂u with u = A θ, the loss, u) by sympy diff (reading H2)."""
    A, paths, signs = tree_rationals(tree)
    u = sp.symbols(f"u_0:{tree.n - 1}", real=True)
    loss = -sp.Add(*[sp.log(1 / (1 + sp.exp(-s * u[v]))) for v, s in zip(paths[y], signs[y])])
    du = sp.Matrix([sp.diff(loss, uv) for uv in u])
    uval = A * sp.Matrix(theta)
    sub = dict(zip(u, uval))
    gt = (A.T * du.subs(sub))
    return [sp.simplify(e) if simplify else e for e in gt], loss.subs(sub), list(uval)


def vanishes(expr: sp.Expr):
    """Is ``expr`` identically 0?  True when sympy simplifies it to 0; False when it is
    nonzero at a sample point (every free symbol set to a positive rational, which the
    positive symbols of these derivations allow); None otherwise."""
    e = sp.simplify(expr)
    if e == 0:
        return True
    free = sorted(e.free_symbols, key=str)
    pt = {s: sp.Rational(3 + 2 * i, 7 + i) for i, s in enumerate(free)}
    try:
        val = complex(sp.N(e.subs(pt), 30))
    except (TypeError, ValueError):
        return None
    return False if abs(val) > 1e-20 else None
