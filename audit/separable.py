"""The subject of a loss audit (issue 23): a separable regulariser, given as a value.

A :class:`SeparableLoss` is the Fenchel–Young loss of Ω(p) = Σᵢ g(pᵢ) on the simplex
Δ = {p ≥ 0, Σp = 1} or the capped simplex C_k = {0 ≤ p ≤ 1, Σp = k} (Blondel, Martins &
Niculae, JMLR 2020, §4: every such Ω with g strictly convex gives ŷ = ∇Ω* and the loss
L(θ; y) = Ω*(θ) + Ω(y) − ⟨θ, y⟩).  The four built-in losses are instances
(:mod:`audit.builtin_losses`); a user's loss is named ``pkg.mod:attr`` or registered in the
entry-point group ``softmax_audit.losses`` (:func:`resolve`).

g is checked here, at the boundary, before any derivation sees it: a sympy expression in
one positive symbol, built from rationals, +, ×, powers, log and exp.  Floats are refused
(a derivation over floats decides nothing exactly), and so are strings: a user's string is
never parsed or sympified, because sympify evaluates Python.  The analytic conditions
(strict convexity on (0, 1), g(0⁺) finite, the one-sided derivatives) are decided in
:mod:`proofs.user.facts`, which refuses a g that violates them.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Callable

import sympy as sp

#: the entry-point group a package registers its losses in (the built-ins are there too)
GROUP = "softmax_audit.losses"
DOMAINS = ("simplex", "capped")
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.\-]{0,39}")
# the node types g may be built from: numbers that are exact, the symbol, and five operations
_ALLOWED = (sp.Symbol, sp.Rational, sp.Add, sp.Mul, sp.Pow, sp.log, sp.exp, sp.core.numbers.Exp1)


def _exact_number(value: Any, what: str) -> sp.Expr:
    """A stated constant: an exact sympy number (a rational, or an expression of rationals,
    logs and exps without symbols), or ``oo`` where the statement is that none exists."""
    if isinstance(value, str):
        raise ValueError(f"{what} must be a sympy expression, not a string (strings are never parsed)")
    if isinstance(value, bool) or not isinstance(value, (int, sp.Expr)):
        raise ValueError(f"{what} must be an exact sympy number such as sp.Rational(1, 2), got {type(value).__name__}")
    v = sp.sympify(value) if isinstance(value, int) else value   # an int is exact; nothing else is converted
    if v in (sp.oo, -sp.oo):
        return v
    if v.free_symbols:
        raise ValueError(f"{what} must be a number, got an expression in {sorted(map(str, v.free_symbols))}")
    _check_nodes(v, what)
    return v


def _check_nodes(expr: sp.Expr, what: str) -> None:
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Float):
            raise ValueError(f"{what} contains the float {node}: write it as an exact rational (sp.Rational)")
        if not isinstance(node, _ALLOWED):
            raise ValueError(f"{what} may be built from rationals, +, ×, powers, log and exp only; "
                             f"found {type(node).__name__} ({node})")


@dataclass(frozen=True)
class SeparableLoss:
    """A separable regulariser Ω(p) = Σᵢ g(pᵢ) on ``domain`` ("simplex" or "capped", C_k).

    ``g`` is a sympy expression in the positive symbol ``x``.  Optional statements the
    audit checks (never assumes): ``margin`` (the smallest m with L(θ; e_y) = 0 whenever
    θ_y ≥ m + max_{j≠y} θ_j; ``sp.oo`` states that there is none) and ``lipschitz`` (the
    Lipschitz constant of ∇_θ L in the 2-norm, ``sp.oo`` for none).  ``torch_map`` is the
    user's own prediction map (θ (B, n) tensor → ŷ), checked against the suite's;
    ``dcp_omega`` a cvxpy-expressible Ω for the primal solves."""

    name: str
    g: sp.Expr
    x: sp.Symbol
    domain: str = "simplex"
    margin: Any = None
    lipschitz: Any = None
    torch_map: Callable | None = None
    dcp_omega: Callable | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"name must be 1–40 characters, a letter first, then letters, digits, '_', '.' or '-'; "
                             f"got {self.name!r}")
        if isinstance(self.g, str):
            raise ValueError("g must be a sympy expression, not a string (strings are never parsed or sympified)")
        if not isinstance(self.g, sp.Expr):
            raise ValueError(f"g must be a sympy expression in x, got {type(self.g).__name__}")
        if not isinstance(self.x, sp.Symbol) or self.x.is_positive is not True:
            raise ValueError("x must be a sympy Symbol declared positive, e.g. sp.Symbol('p', positive=True)")
        extra = self.g.free_symbols - {self.x}
        if extra:
            raise ValueError(f"g must be an expression in x = {self.x} alone; it also has {sorted(map(str, extra))}")
        if self.x not in self.g.free_symbols:
            raise ValueError(f"g must depend on x = {self.x}: a constant is not strictly convex")
        _check_nodes(self.g, "g")
        if self.domain not in DOMAINS:
            raise ValueError(f"domain must be one of {DOMAINS}, got {self.domain!r}")
        for what in ("margin", "lipschitz"):
            value = getattr(self, what)
            if value is not None:
                object.__setattr__(self, what, _exact_number(value, what))
        for what in ("torch_map", "dcp_omega"):
            if getattr(self, what) is not None and not callable(getattr(self, what)):
                raise ValueError(f"{what} must be callable")

    @property
    def capped(self) -> bool:
        """ŷ lives on C_k (entries may sit at the cap 1, the mass k a parameter), as
        :attr:`audit.members.Member.capped` for the main rows' losses."""
        return self.domain == "capped"

    def tree(self) -> list:
        """g as a JSON tree the outside re-checker evaluates without sympy and without eval
        (reports/rechecks/user.py): ``["x"]``, ``["q", "p/q"]`` (a rational), ``["e"]``,
        ``["+", …]``, ``["*", …]``, ``["^", base, exponent]``, ``["log", a]``, ``["exp", a]``."""
        return _tree(self.g, self.x)

    def expression(self) -> str:
        """g in sympy's canonical string form, with the symbol renamed to ``x`` (the text the
        subject's sha256 is taken of: two specs of the same g hash alike)."""
        return sp.srepr(self.g.subs(self.x, sp.Symbol("x", positive=True)))


def _tree(e: sp.Expr, x: sp.Symbol) -> list:
    if e == x:
        return ["x"]
    if isinstance(e, sp.Rational):
        return ["q", str(e)]
    if isinstance(e, sp.core.numbers.Exp1):
        return ["e"]
    if isinstance(e, sp.exp):   # sympy keeps exp(a) as a power of E; take it as exp either way
        return ["exp", _tree(e.args[0], x)]
    if isinstance(e, sp.log):
        return ["log", _tree(e.args[0], x)]
    if isinstance(e, sp.Pow):
        return ["^", _tree(e.base, x), _tree(e.exp, x)]
    op = {sp.Add: "+", sp.Mul: "*"}[type(e)]
    return [op, *(_tree(a, x) for a in e.args)]


def available() -> dict[str, str]:
    """The losses registered in :data:`GROUP`: name → ``module:attr``."""
    from importlib.metadata import entry_points

    return {ep.name: ep.value for ep in sorted(entry_points(group=GROUP), key=lambda e: e.name)}


def resolve(spec: str) -> SeparableLoss:
    """The loss a spec names: ``pkg.mod:attr`` (resolved by ``pkgutil.resolve_name``; the
    colon is required, so a bare dotted path is never guessed at), or a name registered in
    the entry-point group :data:`GROUP`.  ``ValueError`` naming the spec otherwise."""
    import pkgutil
    from importlib.metadata import entry_points

    if not isinstance(spec, str) or not spec:
        raise ValueError("spec must be 'package.module:attribute' or a registered loss name")
    if ":" in spec:
        try:
            obj = pkgutil.resolve_name(spec)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ValueError(f"spec {spec!r} does not resolve: {exc}") from None
    else:
        found = [ep for ep in entry_points(group=GROUP) if ep.name == spec]
        if not found:
            names = ", ".join(available()) or "none"
            hint = " (a module path needs a colon: 'package.module:attribute')" if "." in spec else ""
            raise ValueError(f"spec {spec!r} is not a registered loss{hint}; registered: {names}")
        try:
            obj = found[0].load()
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"registered loss {spec!r} ({found[0].value}) does not load: {exc}") from None
    if not isinstance(obj, SeparableLoss):
        raise ValueError(f"spec {spec!r} names a {type(obj).__name__}, not an audit.separable.SeparableLoss")
    return obj
