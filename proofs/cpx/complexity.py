"""CPX-1 (CLAIMS.md §5) in sympy: the claimed per-epoch costs and their asymptotic orderings.

Symbols (all positive): N training interactions, U users, n items, d dimensions, m samples
per interaction.  The claim, per epoch (:func:`cost`):

==================================  ===============================================
method                              claimed cost
==================================  ===============================================
softmax                             ``N n d``
sparsemax, entmax-1.5, rankmax      ``N n (d + log n)`` sort-based projection;
                                    ``N n d`` with linear-time selection
ssm/uniform, ssm/popularity, nce    ``N m d``
hsm                                 ``N d log n``
rg2/als                             ``N d² + (U + n) d³``
==================================  ===============================================

**Hidden constants.**  An O(·) bound hides one positive constant per term.  The
expressions here set them all to 1 and take ``log`` natural.  Limits of ratios as one
variable → ∞ do not depend on the constants except through a positive factor (a limit of
0 or ∞ stays 0 or ∞; a finite limit is scaled), which each derivation says where it
matters.  The *local log–log exponent* of a cost in one variable between two grid points
x0 < x1, ``log(C(x1)/C(x0)) / log(x1/x0)`` (:func:`local_exponent`), does depend on them
when C has several terms; but for positive constants it always lies between the smallest
and the largest local exponent of the single terms (the ratio C(x1)/C(x0) is a convex
combination of the terms' ratios, with weights ∝ each term's value at x0):
:func:`exponent_band` returns that interval, which is what an O(·) bound with unknown
constants allows.  ``numerics/cpx/complexity.py`` compares counted exponents with the band
(and reports the unit-constant value alongside).

Every public ``*_vs_*`` function returns a :class:`Derivation` decided by sympy limits on
the table :func:`_table` (looked up at call time: a planted wrong entry, reports/cpx/planted.py,
patches it as a typo in it would enter).

These derivations speak about the *claimed* formulas only.  What the suite's
implementation costs is derived from its traced operation counts in
``numerics/cpx/cost_derivation.py`` (for the methods whose count is an exact polynomial) and
counted on grids in ``numerics/cpx/complexity.py``.
"""
from __future__ import annotations

import math
from functools import partial
from typing import Callable, Mapping

import sympy as sp

from ..derivation import Derivation, is_zero

N, U, n, d, m = sp.symbols("N U n d m", positive=True)
SYMBOLS = {"N": N, "U": U, "n": n, "d": d, "m": m}

SPARSE = ("sparsemax", "entmax-1.5", "rankmax")
SAMPLED = ("ssm/uniform", "ssm/popularity", "nce")
METHODS = ("softmax", *SPARSE, *SAMPLED, "hsm", "rg2/als")
SELECTIONS = ("sort", "linear")

_SCOPE = (r"symbolic in $N, U, n, d, m > 0$; the constants of $O(\cdot)$ set to 1 and $\log$ natural (a limit 0 or "
          r"$\infty$ of a ratio does not depend on them; a finite limit is scaled by their ratio)")


def _table(selection: str) -> dict[str, sp.Expr]:
    """The claimed per-epoch costs (module table), unit constants; read by :func:`cost` at call
    time, so a wrong entry (a planted defect: reports/cpx/planted.py) enters every derivation."""
    sparse = N * n * (d + sp.log(n)) if selection == "sort" else N * n * d
    return {"softmax": N * n * d, **{k: sparse for k in SPARSE}, **{k: N * m * d for k in SAMPLED},
            "hsm": N * d * sp.log(n), "rg2/als": N * d ** 2 + (U + n) * d ** 3}


def cost(method: str, selection: str = "sort") -> sp.Expr:
    """The claimed per-epoch cost of ``method`` (module table), unit constants.

    ``selection`` picks the reading of the sparse projections: ``"sort"`` (n (d + log n) per
    interaction) or ``"linear"`` (linear-time selection, n d); ignored by the other methods."""
    if selection not in SELECTIONS:
        raise ValueError(f"selection must be one of {SELECTIONS}, got {selection!r}")
    table = _table(selection)
    if method not in table:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return table[method]


def claimed_string(method: str, selection: str = "sort") -> str:
    """The claim's order as written in CLAIMS.md (plain text)."""
    cost(method, selection)  # validates both
    if method in SPARSE:
        return "N n (d + log n)" if selection == "sort" else "N n d"
    return {"softmax": "N n d", "hsm": "N d log n", "rg2/als": "N d^2 + (U + n) d^3",
            **{k: "N m d" for k in SAMPLED}}[method]


def claimed_latex(method: str, selection: str = "sort") -> str:
    """The claim's order as inline LaTeX (no dollars), for marked text: ``N n (d + \\log n)``."""
    cost(method, selection)  # validates both
    if method in SPARSE:
        return r"N n (d + \log n)" if selection == "sort" else "N n d"
    return {"softmax": "N n d", "hsm": r"N d \log n", "rg2/als": "N d^2 + (U + n) d^3",
            **{k: "N m d" for k in SAMPLED}}[method]


def _subs(var: str, fixed: Mapping[str, float], expr: sp.Expr) -> dict:
    if var not in SYMBOLS:
        raise ValueError(f"var must be one of {tuple(SYMBOLS)}, got {var!r}")
    need = {s.name for s in expr.free_symbols} - {var}
    missing = sorted(need - set(fixed))
    if missing:
        raise ValueError(f"fixed must give a value to {missing} (the cost depends on them)")
    for k, v in fixed.items():
        if k not in SYMBOLS or not (isinstance(v, (int, float)) and v > 0 and math.isfinite(v)):
            raise ValueError(f"fixed must map symbol names to positive finite numbers, got {k!r}: {v!r}")
    return {SYMBOLS[k]: sp.nsimplify(v, rational=True) for k, v in fixed.items() if k != var}


def _local(expr: sp.Expr, var: str, x0: float, x1: float, fixed: Mapping[str, float]) -> float:
    if not (x0 > 0 and x1 > x0):
        raise ValueError(f"need 0 < x0 < x1, got x0 = {x0!r}, x1 = {x1!r}")
    e = expr.subs(_subs(var, fixed, expr))
    x = SYMBOLS[var]
    x0r, x1r = sp.nsimplify(x0, rational=True), sp.nsimplify(x1, rational=True)
    ratio = e.subs(x, x1r) / e.subs(x, x0r)
    return float(sp.N(sp.log(ratio) / sp.log(x1r / x0r), 30))


def local_exponent(method: str, var: str, x0: float, x1: float, fixed: Mapping[str, float], *,
                   selection: str = "sort") -> float:
    """Claimed local log–log exponent of ``method``'s cost in ``var`` between x0 < x1:
    ``log(C(x1)/C(x0)) / log(x1/x0)``, the other symbols set by ``fixed`` (unit constants)."""
    return _local(cost(method, selection), var, x0, x1, fixed)


def exponent_band(method: str, var: str, x0: float, x1: float, fixed: Mapping[str, float], *,
                  selection: str = "sort") -> tuple[float, float]:
    """(smallest, largest) local exponent of the single terms of the expanded cost: the
    range of the claim's local exponent over all positive hidden constants (module
    docstring).  For a one-term cost both ends equal :func:`local_exponent`."""
    terms = sp.Add.make_args(sp.expand(cost(method, selection)))
    vals = [_local(t, var, x0, x1, fixed) if SYMBOLS[var] in t.free_symbols else 0.0 for t in terms]
    return min(vals), max(vals)


# --------------------------------------------------------------------------------------
# derivations
# --------------------------------------------------------------------------------------
def _lim(expr: sp.Expr, var: sp.Symbol) -> sp.Expr:
    return sp.limit(expr, var, sp.oo)


def _same(a: sp.Expr, b: sp.Expr) -> bool | None:
    """Decide the identity a ≡ b (as functions of the positive symbols): True when sympy
    simplifies a − b to 0, False when a − b is nonzero at some sample point (a proof of
    non-identity), None otherwise."""
    if a.is_infinite or b.is_infinite:
        return a == b
    z = is_zero(a - b)
    if z is not None:
        return z
    diff = a - b
    for vals in ((2, 3, 5, 7, 11), (13, 17, 19, 23, 29)):
        v = diff.subs(dict(zip((N, U, n, d, m), map(sp.Integer, vals))))
        if v.is_number and v.is_zero is False:
            return False
    return None


def _all(*flags):
    if any(f is False for f in flags):
        return False
    return None if any(f is None for f in flags) else True


def hsm_vs_softmax() -> Derivation:
    """lim_{n→∞} HSM/Softmax = 0 (d, N fixed): HSM's per-epoch cost is o(softmax's)."""
    D = Derivation(
        statement=r"HSM's claimed per-epoch cost $N d \log n$ is $o(N n d)$: "
                  r"$\lim_{n \to \infty} C_{\mathrm{HSM}}/C_{\mathrm{Softmax}} = 0$, and the ratio $\log(n)/n$ is "
                  r"below 1 for every $n \ge 1$ (unit constants).",
        summary=r"HSM's claimed $N d \log n$ is $o(N n d)$: the ratio to softmax, $\log(n)/n$, is below 1 and "
                r"tends to 0",
        scope=_SCOPE, assumptions=[r"balanced or Huffman tree of depth $\Theta(\log n)$", r"$N, d$ fixed as $n$ grows"])
    r = sp.simplify(cost("hsm") / cost("softmax"))
    D.step("Ratio of the claimed costs:", sp.Eq(sp.Symbol(r"\frac{C_{HSM}}{C_{Softmax}}"), r))
    L = _lim(r, n)
    D.step("Limit as $n\\to\\infty$:", sp.Eq(sp.Limit(r, n, sp.oo), L))
    below = sp.simplify(sp.log(n) - n).subs(n, 1) < 0 and sp.diff(n - sp.log(n), n).subs(n, 1) >= 0
    D.step("$n - \\log n$ is increasing for $n \\ge 1$ and equals 1 at $n = 1$, so $\\log n < n$: "
           f"{bool(below)}")
    return D.decide(_all(_same(L, sp.Integer(0)), bool(below)))


def sampled_vs_softmax(method: str = "ssm/uniform") -> Derivation:
    """SSM/NCE vs softmax: ratio m/n → 0 as n → ∞ at fixed m; = 1 when m = n (no saving when
    m grows like n), = c when m = c n."""
    if method not in SAMPLED:
        raise ValueError(f"method must be one of {SAMPLED}, got {method!r}")
    c = sp.Symbol("c", positive=True)
    D = Derivation(
        statement=f"{method}: claimed $N m d$ vs softmax $N n d$. At fixed $m$ the ratio tends to 0 as "
                  r"$n \to \infty$ (sampling is asymptotically cheaper); with $m = n$ the ratio is exactly 1 and with "
                  r"$m = c n$ it is $c$: no saving when $m$ grows like $n$.",
        summary=f"{method}: " + r"the ratio to softmax, $m/n$, tends to 0 at fixed $m$; it is 1 at $m = n$ and $c$ at "
                r"$m = c n$",
        scope=_SCOPE, assumptions=[r"$N, d$ fixed",
                                   r"$m$ samples per interaction, each scored with one dot product of length $d$"])
    r = sp.simplify(cost(method) / cost("softmax"))
    D.step("Ratio of the claimed costs:", sp.Eq(sp.Symbol(r"\frac{C_{sampled}}{C_{Softmax}}"), r))
    L = _lim(r, n)
    D.step("At fixed $m$:", sp.Eq(sp.Limit(r, n, sp.oo), L))
    at_n = sp.simplify(r.subs(m, n))
    at_cn = sp.simplify(r.subs(m, c * n))
    D.step("With $m = n$:", sp.Eq(sp.Symbol(r"\left.\frac{C_{sampled}}{C_{Softmax}}\right|_{m=n}"), at_n))
    D.step("With $m = c n$:", sp.Eq(sp.Symbol(r"\left.\frac{C_{sampled}}{C_{Softmax}}\right|_{m=cn}"), at_cn))
    return D.decide(_all(_same(L, sp.Integer(0)), _same(at_n, sp.Integer(1)), _same(at_cn, c)))


def sparse_vs_softmax(method: str = "sparsemax") -> Derivation:
    """Sort-based sparse / softmax = (d + log n)/d: → ∞ as n → ∞ at fixed d, → 1 as d → ∞ at
    fixed n; with linear-time selection the ratio is 1."""
    if method not in SPARSE:
        raise ValueError(f"method must be one of {SPARSE}, got {method!r}")
    D = Derivation(
        statement=f"{method}: " + r"with a sort-based projection the claimed $N n (d + \log n)$ exceeds softmax's "
                  r"$N n d$ by the factor $1 + \log(n)/d$, which tends to $\infty$ as $n \to \infty$ at fixed $d$ and "
                  r"to 1 as $d \to \infty$ at fixed $n$ (the sort overhead is below the score computation iff "
                  r"$n < e^d$); with linear-time selection the costs have the same order (ratio 1).",
        summary=f"{method}: " + r"sort-based cost over softmax's is $1 + \log(n)/d$ (to $\infty$ in $n$, to 1 in $d$); "
                r"1 with linear-time selection",
        scope=_SCOPE + r"; with unequal constants the sort-based limit as $d \to \infty$ is the ratio of the two "
                       r"constants of $n d$",
        assumptions=[r"a projection sorts (or selects on) the $n$ scores of each interaction's row",
                     r"$N$ fixed; the score row costs $n d$"])
    soft = cost("softmax")
    r = sp.simplify(cost(method, "sort") / soft)
    D.step("Sort-based ratio:", sp.Eq(sp.Symbol(r"\frac{C_{sort}}{C_{Softmax}}"), sp.expand(r)))
    Ln, Ld = _lim(r, n), _lim(r, d)
    D.step("At fixed $d$:", sp.Eq(sp.Limit(r, n, sp.oo), Ln))
    D.step("At fixed $n$:", sp.Eq(sp.Limit(r, d, sp.oo), Ld))
    cross = sp.solve(sp.Eq(sp.expand(r) - 1, 1), n)
    D.step("The sort term equals the score term (ratio 2) at", sp.Eq(n, cross[0]) if cross else r"\text{no } n")
    rl = sp.simplify(cost(method, "linear") / soft)
    D.step("Linear-time selection:", sp.Eq(sp.Symbol(r"\frac{C_{linear}}{C_{Softmax}}"), rl))
    return D.decide(_all(_same(Ln, sp.oo), _same(Ld, sp.Integer(1)), _same(rl, sp.Integer(1)),
                         bool(cross) and _same(cross[0], sp.exp(d))))


def als_vs_softmax() -> Derivation:
    """RG-ALS / softmax → d²/N as n → ∞ at fixed N, U, d; < 1 iff d < √N."""
    D = Derivation(
        statement=r"RG$^2$ by ALS, claimed $N d^2 + (U + n) d^3$, vs softmax $N n d$: as $n \to \infty$ at fixed "
                  r"$N, U, d$ the ratio tends to $d^2/N$, which is $< 1$ iff $d < \sqrt{N}$ (one ALS sweep is "
                  r"asymptotically cheaper than a softmax epoch iff $d^2 < N$); as $N \to \infty$ at fixed $n, U, d$ "
                  r"it tends to $d/n$.",
        summary=r"RG$^2$-ALS over softmax tends to $d^2/N$ as $n \to \infty$ (below 1 iff $d < \sqrt{N}$) and to $d/n$ "
                r"as $N \to \infty$",
        scope=_SCOPE + r"; the threshold $d^2 < N$ moves by the ratio of the two constants",
        assumptions=[r"one ALS sweep: $d \times d$ systems for every user and item, $(U + n) d^3$, their right sides "
                     r"and Gram matrices, $N d^2$", r"$N, U, d$ fixed as $n$ grows"])
    r = cost("rg2/als") / cost("softmax")
    D.step("Ratio of the claimed costs:", sp.Eq(sp.Symbol(r"\frac{C_{ALS}}{C_{Softmax}}"), sp.expand(sp.simplify(r))))
    Ln = sp.simplify(_lim(r, n))
    D.step("At fixed $N, U, d$:", sp.Eq(sp.Limit(r, n, sp.oo), Ln))
    root, slope = _crossing(D, Ln, d, "The limit", "L", "so it is below 1 iff")
    LN = sp.simplify(_lim(r, N))
    D.step("At fixed $n, U, d$:", sp.Eq(sp.Limit(r, N, sp.oo), LN))
    return D.decide(_all(_same(Ln, d ** 2 / N), len(root) == 1 and _same(root[0], sp.sqrt(N)), slope.is_positive,
                         _same(LN, d / n)))


def _crossing(D: Derivation, ratio: sp.Expr, var: sp.Symbol, what: str, name: str, below: str):
    """Record where ``ratio`` crosses 1 in ``var`` and its slope there; returns (roots, slope)."""
    root = sp.solve(sp.Eq(ratio, 1), var)
    slope = sp.simplify(sp.diff(ratio, var))
    D.step(f"{what} equals 1 at", sp.Eq(var, root[0]) if len(root) == 1 else f"{root}")
    D.step(f"and increases with ${var}$:", f"\\frac{{\\partial {name}}}{{\\partial {var}}} = " + sp.latex(slope))
    if len(root) == 1:
        D.step(below, sp.StrictLessThan(var, root[0]))
    return root, slope


def hsm_vs_sampled() -> Derivation:
    """HSM vs SSM/NCE: ratio log(n)/m → ∞ as n → ∞ at fixed m (the sampled methods do not
    depend on n); HSM is the cheaper one iff log n < m, i.e. n < e^m."""
    D = Derivation(
        statement=r"HSM ($N d \log n$) vs SSM/NCE ($N m d$): $\lim_{n \to \infty} C_{\mathrm{HSM}}/C_{\mathrm{SSM}} "
                  r"= \infty$ at fixed $m$ (the sampled cost does not grow with $n$), and HSM is cheaper exactly when "
                  r"$\log n < m$, i.e. $n < e^m$ (unit constants).",
        summary=r"HSM over SSM/NCE is $\log(n)/m$: it tends to $\infty$ in $n$ at fixed $m$; HSM is cheaper iff "
                r"$n < e^m$",
        scope=_SCOPE, assumptions=[r"$N, d, m$ fixed as $n$ grows"])
    r = sp.simplify(cost("hsm") / cost("ssm/uniform"))
    D.step("Ratio of the claimed costs:", sp.Eq(sp.Symbol(r"\frac{C_{HSM}}{C_{SSM}}"), r))
    L = _lim(r, n)
    D.step("At fixed $m$:", sp.Eq(sp.Limit(r, n, sp.oo), L))
    root, slope = _crossing(D, r, n, "The ratio", "r", "so HSM is the cheaper one iff")
    return D.decide(_all(_same(L, sp.oo), len(root) == 1 and _same(root[0], sp.exp(m)), slope.is_positive))


def ordering() -> Derivation:
    """The chain as n → ∞ with N, U, d, m fixed:
    SSM ≍ NCE ≺ HSM ≺ Softmax ≍ sparse (linear) ≍ RG-ALS ≺ sparse (sort)."""
    D = Derivation(
        statement=r"As $n \to \infty$ with $N, U, d, m$ fixed, the claimed per-epoch costs order as SSM $\asymp$ NCE "
                  r"$\prec$ HSM $\prec$ Softmax $\asymp$ sparse (linear-time selection) $\asymp$ RG-ALS $\prec$ sparse "
                  r"(sort-based), where $A \prec B$ means $\lim A/B = 0$ and $A \asymp B$ means a finite positive "
                  r"limit.",
        summary=r"as $n \to \infty$: SSM $\asymp$ NCE $\prec$ HSM $\prec$ softmax $\asymp$ sparse (linear) $\asymp$ "
                r"RG-ALS $\prec$ sparse (sort)",
        scope=_SCOPE, assumptions=[r"$N, U, d, m$ fixed"])
    chain = [("ssm/uniform", "nce", "same"), ("nce", "hsm", "less"), ("hsm", "softmax", "less"),
             ("softmax", "sparsemax/linear", "same"), ("softmax", "rg2/als", "same"),
             ("softmax", "sparsemax", "less")]

    def c(name: str) -> sp.Expr:  # "sparsemax/linear": the linear-time selection reading
        if name.endswith("/linear"):
            return cost(name.removesuffix("/linear"), "linear")
        return cost(name, "sort")

    flags = []
    for a, b, rel in chain:
        L = _lim(sp.simplify(c(a) / c(b)), n)
        ok = _same(L, sp.Integer(0)) if rel == "less" else (bool(L.is_positive) and bool(L.is_finite))
        D.step(f"{a} vs {b}:", sp.Eq(sp.Limit(sp.Symbol(r"C_{\mathrm{" + a.replace("/", "-") + r"}}")
                                              / sp.Symbol(r"C_{\mathrm{" + b.replace("/", "-") + r"}}"), n, sp.oo), L))
        flags.append(ok)
    return D.decide(_all(*flags))


# the symbolic check of each CPX-1 row (reports/cpx/claims.py)
def row_derivations(method: str) -> tuple[tuple[str, Callable[..., Derivation]], ...]:
    """(check name, derivation) pairs for a method's CPX-1 row; each derivation reads the
    claimed table :func:`_table`."""
    if method == "softmax":
        return (("ordering-in-n", ordering),)
    if method in SPARSE:
        return (("sparse-vs-softmax", partial(sparse_vs_softmax, method)),)
    if method in SAMPLED:
        return (("sampled-vs-softmax", partial(sampled_vs_softmax, method)),)
    if method == "hsm":
        return (("hsm-vs-softmax", hsm_vs_softmax), ("hsm-vs-sampled", hsm_vs_sampled))
    if method == "rg2/als":
        return (("als-vs-softmax", als_vs_softmax),)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")
