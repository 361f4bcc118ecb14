"""The FY rows of a user's loss on the capped simplex C_k (issue 23 §1, §4): ``FY-1[user:NAME]`` …
``FY-4[user:NAME]`` for a :class:`~audit.separable.SeparableLoss` with domain "capped", through
the same runner, verdict words and re-checker (reports/rechecks/user.py) as the simplex rows.

**How k enters.**  The loss carries no k; each row quantifies over it: "for every k < n".  The
symbolic routes (proofs/user/capped.py) are symbolic in n and k; the numeric routes
(numerics/user/capped.py) run on the pairs (k, n) of its ``CASES``, k ∈ {1, 2, 3}, listed
in each row's constants as ``k``.  The built-in rankmax (Kong et al. 2020, reading R1) gets the
main registry's verdicts: FY-1 … FY-4[rankmax] are verified (margin 1, constant 1).

The claims: FY-1 and FY-2 are theorems for every admissible g (the suite's map).  FY-1 tests the
author's ``torch_map(theta, k)`` instead where one is given (as on the simplex: the symbolic route
derives the suite's map and does not cover it; a wrong one is refuted at a point of C_k that beats
it, or by its output outside C_k).  FY-3 tests the author's stated margin, else the derived
g′(1⁻) − g′(0⁺) (or none), the same for every k.  FY-4 tests the author's stated constant, else
the derived sup over k, n and θ of λ_max, which is sup_{(0,1)} 1/g″ (attained at k ≥ 2).  A
check that contradicts a claim the suite derived is a disagreement of our routes: a crash.
Counterexamples state their k, and the outside re-checker (reports/rechecks/user.py) re-checks
them on C_k by the KKT conditions: FY-1 at the k where it was found; FY-3 at k = 1 (the margin does
not depend on k, so one only at k ≥ 2 is a crash); FY-4 at k = 1 where a point there exceeds the
constant, else at the k ≥ 2 where one does.

Planted defects enter where a bug would, by a patch of the attribute the real code looks up:
Ω* off by a constant (``proofs.user.fy.conjugate_term``, ``numerics.user.fy.conjugate``),
the cap ignored (``proofs.user.capped.coordinate`` past g′(1⁻); the generic map's
``SeparableMap._at`` clamping below only; an author's map replaced by k·ŷ(θ/k) on the simplex,
its extension to C_k without the cap), the map tempered, reversed or sharpened
(``numerics.user.capped.capped_map``; for FY-1 ``map_under_test``, the author's map where
given), the Jacobian's rank-one term with the wrong sign
(``proofs.user.fy.jacobian_entry``, ``SeparableMap.jvp``), the backward's weight kept on the
capped coordinates, a margin 1 % high or a constant 1 % low.  The cap defects are planted only
where this g has a cap region (g′(1⁻) finite; the map's, where G is in closed form).  Planted
truths: rankmax (margin 1, constant 1; its closed form clip(θ − τ, 0, 1), τ by sorting, stated as the
author's map for FY-1) and the entropy on C_k (no margin: g′(0⁺) = −∞).
"""
from __future__ import annotations

import sympy as sp
import torch

import numerics.user.capped as num_cap
import numerics.user.fy as sep_fy
import proofs.user.capped as sym_cap
import proofs.user.fy as sym_fy
from audit.builtin_losses import RANKMAX, SOFTMAX
from audit.separable import SeparableLoss
from losses.separable import SeparableMap
from proofs.user.facts import derive

from ..claim import Check, Claim, Planted, patched, replacing
from .claims_con import _ours
from .planted import FLUSH, TEMPER, _reversed, _sharpened, _tempered

OFFSET = sp.Rational(1, 100)
KS = list(num_cap.KS)
#: the limits every capped row's evidence shares (Claim.scope)
SCOPE = (r"the capped simplex $C_k$, $\Omega(p) = \sum_i g(p_i)$ with the given $g$; symbolic: every $n$ and "
         r"$k < n$; numeric: $(k, n) \in \{" + ", ".join(f"({k}, {n})" for k, n in num_cap.CASES) + r"\}$")
NOTE = "a user's loss: no registered verdict"
#: the entropy on C_k, a truth for "no margin" (g′(0⁺) = −∞: every ŷⱼ > 0; Blondel, Martins & Niculae 2020)
ENTROPY_CAPPED = SeparableLoss("entropy-capped", SOFTMAX.g, SOFTMAX.x, domain="capped", margin=sp.oo)


def _has_cap(loss: SeparableLoss) -> bool:
    return "cap" in sym_cap.regions(loss)


def _map_patch(wrap):
    """The generic map, as numerics/user/capped.py looks it up, with a defect wrapped around it."""
    real = num_cap.capped_map
    return replacing((num_cap, "capped_map", lambda facts: wrap(real(facts))))


def _flushed_to_ends(fmap):
    """Entries within 2⁻²⁴ of 0 or 1 rounded to them (as a low-precision kernel does)."""
    def call(theta, k=1):
        y = fmap(theta, k)
        return torch.where(y < FLUSH, torch.zeros_like(y), torch.where(y > 1 - FLUSH, torch.ones_like(y), y))
    return call


_REAL_COORDINATE = sym_cap.coordinate
_REAL_AT = SeparableMap._at
_REAL_JVP = SeparableMap.jvp


def _uncapped_coordinate(region, u):
    """The stated map without its cap: ŷᵢ = G(θᵢ − τ) past g′(1⁻) as well."""
    return sym_cap.G(u) if region == "cap" else _REAL_COORDINATE(region, u)


def _uncapped_at(self, z, mask):
    """SeparableMap._at clamping below only: the cap at g′(1⁻) forgotten."""
    y = self.inverse(z.clamp(min=self.lo))
    if self.exact_lo:
        y = y.masked_fill(z <= self.lo, 0.0)
    return y if mask is None else y.masked_fill(mask, 0.0)


def _weights(self, y, inside):
    return torch.where(inside, self.weight(torch.where(inside, y, 0.5)), torch.zeros_like(y))


def _rank_one_flipped(self, y, v):
    """SeparableMap.jvp with the rank-one term's sign flipped: diag(s) v + s sᵀv/Σs."""
    return 2 * _weights(self, y, (y > 0) & (y < 1)) * v - _REAL_JVP(self, y, v)


def _cap_kept(self, y, v):
    """SeparableMap.jvp with the support taken as ŷ > 0: the capped coordinates keep their weight."""
    s = _weights(self, y, y > 0)
    total = s.sum(-1, keepdim=True)
    return s * v - s * (s * v).sum(-1, keepdim=True) / torch.where(total > 0, total, 1.0)


def _explicit(loss: SeparableLoss) -> bool:
    """A verified closed-form G: it goes on past g′(1⁻), so a map without its cap exceeds 1 (an implicit
    G, by bisection on (0, 1), stops at 1 and would hide the defect)."""
    return derive(loss)["(g')^(-1)(t)"].value is not None


def _cap_weight_finite(loss: SeparableLoss) -> bool:
    """1/g″ at 1⁻ finite and positive: the weight the cap-kept backward would use is a number."""
    f = derive(loss)
    try:
        v = sp.limit(f.s, loss.x, 1, "-")
    except (NotImplementedError, ValueError, TypeError):
        return False
    return bool(v.is_finite and v.is_positive)


def rankmax_sorted(theta: torch.Tensor, k: int = 1) -> torch.Tensor:
    """rankmax's map written plainly (Kong et al. 2020): clip(θ − τ, 0, 1) with Σ = k.  S(τ) =
    Σᵢ clip(θᵢ − τ, 0, 1) is continuous, piecewise linear and non-increasing with breakpoints θᵢ
    (entry i leaves 0) and θᵢ − 1 (it reaches 1); sorted decreasingly b₁ ≥ … ≥ b₂ₙ, S(b₁) = 0 < k
    < n = S(b₂ₙ), so k lies on one segment S(b_{j−1}) < k ≤ S(b_j), where τ interpolates linearly."""
    b = torch.cat([theta, theta - 1], -1).sort(-1, descending=True).values
    S = (theta[..., None, :] - b[..., :, None]).clamp(0, 1).sum(-1)          # S(b_j), non-decreasing in j
    j = (S < k).sum(-1, keepdim=True).clamp(1, b.shape[-1] - 1)
    s0, s1, b0, b1 = S.gather(-1, j - 1), S.gather(-1, j), b.gather(-1, j - 1), b.gather(-1, j)
    tau = b0 - (k - s0) * (b0 - b1) / (s1 - s0)
    return (theta - tau).clamp(0, 1)


#: rankmax with its closed form stated as the author's map: FY-1's planted truth for a stated map on C_k
STATED_RANKMAX = SeparableLoss("rankmax-stated", RANKMAX.g, RANKMAX.x, domain="capped", torch_map=rankmax_sorted)


def _stated_patch(wrap):
    """The map FY-1 tests (the author's, else the suite's), as numerics/user/capped.py looks it up,
    with a defect wrapped around it."""
    real = num_cap.map_under_test
    return replacing((num_cap, "map_under_test", lambda loss, facts: wrap(real(loss, facts))))


def _simplex_scaled(fmap):
    """The cap ignored by an author who extends a simplex map to C_k: k·ŷ(θ/k) on the simplex, summing
    to k but past 1 (for rankmax exactly the projection on kΔ, clip(θ − τ, 0, ∞))."""
    return lambda theta, k=1: k * fmap(theta / k, 1)


def _fy1(loss: SeparableLoss) -> Claim:
    stated = loss.torch_map is not None
    whose = "the author's map" if stated else "the map the suite derives"
    statement = (f"For {loss.name} on $C_k$ and every $k < n$, $\\hat y_i = (g')^{{-1}}(\\operatorname{{clip}}("
                 f"\\theta_i - \\tau, g'(0^+), g'(1^-)))$ with $\\sum_i \\hat y_i = k$ ({whose}) is "
                 f"$\\operatorname{{argmax}}_{{p \\in C_k}} \\langle\\theta, p\\rangle - \\Omega(p)$ by the KKT "
                 f"conditions; "
                 f"$\\Omega^*(\\theta) = \\langle\\theta, \\hat y\\rangle - \\Omega(\\hat y)$ and "
                 f"$\\nabla\\Omega^* = \\hat y$.")
    real_term, real_conj = sym_fy.conjugate_term, sep_fy.conjugate
    cap = _has_cap(loss)
    off_sym = patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                      replacing((sym_fy, "conjugate_term", lambda t, tau: real_term(t, tau) + OFFSET)))
    cap_sym = (patched("the cap ignored: $\\hat y_i = G(\\theta_i - \\tau)$ past $g'(1^-)$",
                       replacing((sym_cap, "coordinate", _uncapped_coordinate))),) if cap else ()
    if stated:      # the author's map with the cap ignored: their simplex map scaled to mass k
        cap_num = (patched("the cap ignored: the map under test is $k\\,\\hat y(\\theta / k)$ on the simplex",
                           _stated_patch(_simplex_scaled)),) if cap else ()
    else:
        cap_num = (patched("the cap ignored: the map clamps $\\theta_i - \\tau$ below only",
                           replacing((SeparableMap, "_at", _uncapped_at))),) if cap and _explicit(loss) else ()
    checks = (
        # it derives the suite's map: an author's map that the numeric route refutes is outside its scope
        Check("conjugate-kkt", "symbolic", lambda ctx: sym_cap.conjugate_derivation(loss).evidence("conjugate-kkt"),
              covers=lambda check, cx: not stated, planted=(off_sym, *cap_sym)),
        Check("certified-argmax", "numeric", lambda ctx: num_cap.argmax_check(loss, ctx),
              planted=(patched("the map tempered by 1.01 (scores divided by 1.01)", _stated_patch(_tempered),
                               resolution=True),
                       patched("the map reversed (scores negated)", _stated_patch(_reversed)), *cap_num,
                       patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                               replacing((sep_fy, "conjugate", lambda fm, l, th: real_conj(fm, l, th)
                                          + float(OFFSET) * th.shape[-1])))),
              truths=(Planted("rankmax, the Euclidean projection on $C_k$ (Kong et al. 2020)", truth=True,
                              run=lambda ctx: num_cap.argmax_check(RANKMAX, ctx)),
                      Planted("rankmax's closed form $\\operatorname{clip}(\\theta - \\tau, 0, 1)$ ($\\tau$ by sorting) "
                              "stated as the author's map", truth=True,
                              run=lambda ctx: num_cap.argmax_check(STATED_RANKMAX, ctx)))),
    )
    return Claim("FY-1", f"user:{loss.name}", statement, checks, expected="verified", note=NOTE,
                 constants={"k": KS, "tree": loss.tree()}, scope=SCOPE)


def _fy2(loss: SeparableLoss) -> Claim:
    statement = (f"For {loss.name} on $C_k$, every $k < n$ and $y \\in C_k$: $L(\\theta; y) \\ge 0$; $L = 0 \\iff y = "
                 f"\\hat y(\\theta)$; $L$ is convex in $\\theta$; $\\nabla_\\theta L = \\hat y(\\theta) - y$; "
                 f"$L(\\theta + c\\mathbf{{1}}; y) = L(\\theta; y)$.")
    real_entry, real_conj = sym_fy.jacobian_entry, sep_fy.conjugate
    cap = _has_cap(loss)
    cap_sym = (patched("the cap ignored: $\\hat y_i = G(\\theta_i - \\tau)$ past $g'(1^-)$",
                       replacing((sym_cap, "coordinate", _uncapped_coordinate))),) if cap else ()
    cap_num = (patched("the backward's weight kept on the capped coordinates (support $\\hat y > 0$)",
                       replacing((SeparableMap, "jvp", _cap_kept))),) if cap and _cap_weight_finite(loss) else ()
    checks = (
        Check("bregman-hessian", "symbolic", lambda ctx: sym_cap.properties_derivation(loss).evidence("bregman-hessian"),
              planted=(patched("the Jacobian's rank-one term with the wrong sign ($+ss^\\top/\\sum s$)",
                               replacing((sym_fy, "jacobian_entry", lambda si, sj, tot, same:
                                          real_entry(si, sj, tot, same) + 2 * si * sj / tot))), *cap_sym)),
        Check("loss-properties", "numeric", lambda ctx: num_cap.properties_check(loss, ctx),
              planted=(patched("the map's backward with the rank-one term's sign flipped ($+ss^\\top/\\sum s$)",
                               replacing((SeparableMap, "jvp", _rank_one_flipped)), resolution=True),
                       patched("$\\Omega^*$ off by a constant ($10^{-2}$ per coordinate)",
                               replacing((sep_fy, "conjugate", lambda fm, l, th: real_conj(fm, l, th)
                                          + float(OFFSET) * th.shape[-1]))), *cap_num)),
    )
    return Claim("FY-2", f"user:{loss.name}", statement, checks, expected="verified", note=NOTE,
                 constants={"k": KS, "tree": loss.tree()}, scope=SCOPE + r"; $k$-hot and interior labels")


def _margin(loss: SeparableLoss) -> tuple[sp.Expr | None, bool]:
    """(the margin under test, None for "none"; whether the author stated it)."""
    if loss.margin is not None:
        return (None if loss.margin == sp.oo else loss.margin), True
    m = sym_cap.capped_facts(loss)["margin"][0]
    return (None if m == sp.oo else m), False


def _fy3(loss: SeparableLoss) -> Claim:
    margin, stated = _margin(loss)
    whose = "stated by the loss's author" if stated else "derived by the suite as $g'(1^-) - g'(0^+)$"
    if margin is None:
        statement = (f"{loss.name} on $C_k$ has no separation margin ({whose}): for every $k < n$ and $k$-hot $y$, "
                     f"$L(\\theta; y) > 0$ for every finite $\\theta$.")
        wrong, sym_defect = sp.Integer(10), "a finite margin 10 claimed for it"
        num_defect = patched("entries within $2^{-24}$ of 0 or 1 rounded to them in the map (a low-precision kernel)",
                             _map_patch(_flushed_to_ends), resolution=True)
        truth, truth_margin, truth_words = ENTROPY_CAPPED, None, "the entropy on $C_k$ (no margin: $g'(0^+) = -\\infty$)"
    else:
        statement = (f"{loss.name} on $C_k$ has separation margin $m = {sp.latex(margin)}$ ({whose}): for every "
                     f"$k < n$ and $k$-hot $y = \\mathbf 1_Y$, $L(\\theta; y) = 0 \\iff \\min_{{i \\in Y}} \\theta_i \\ge "
                     f"\\max_{{j \\notin Y}} \\theta_j + m$ ($k = 1$: the simplex's).")
        wrong, sym_defect = margin * TEMPER, "the margin 1 % high"
        num_defect = patched("the map tempered by 1.01 (scores divided by 1.01)", _map_patch(_tempered),
                             resolution=True)
        truth, truth_margin, truth_words = RANKMAX, sp.Integer(1), "rankmax's known margin 1 (Kong et al. 2020)"
    checks = (
        Check("margin-derivation", "symbolic",
              lambda ctx: _ours(sym_cap.margin_derivation(loss, margin).evidence("margin-derivation"), stated, "margin"),
              planted=(Planted(sym_defect, run=lambda ctx: sym_cap.margin_derivation(loss, wrong).evidence("planted")),),
              truths=(Planted(truth_words, truth=True,
                              run=lambda ctx: sym_cap.margin_derivation(truth, truth_margin).evidence("planted")),)),
        Check("margin-boundary", "numeric",
              lambda ctx: _ours(num_cap.margin_boundary(loss, margin, ctx), stated, "margin"),
              planted=(num_defect,),
              truths=(Planted(truth_words, truth=True,
                              run=lambda ctx: num_cap.margin_boundary(truth, truth_margin, ctx)),)),
    )
    constants = {"margin": None if margin is None else repr(float(margin)), "k": KS, "tree": loss.tree()}
    return Claim("FY-3", f"user:{loss.name}", statement, checks, expected="verified", note=NOTE,
                 constants=constants, scope=SCOPE + (r"; gaps up to 40" if margin is None else
                                                     r"; gaps $m(1 \pm 10^{-3})$"))


def _fy4(loss: SeparableLoss) -> Claim:
    stated = loss.lipschitz is not None
    if stated:
        constant, whose = loss.lipschitz, "stated by the loss's author"
    else:
        constant, whose = sym_cap.capped_facts(loss)["Lipschitz (sup over k, n)"][0], \
            "derived by the suite as $\\sup_{(0,1)} 1/g''$"
    sup = r"$\sup_{k, n, \theta} \lambda_{\max}(J_{\hat y}(\theta))$"
    if constant is None:
        statement = f"$\\nabla_\\theta L$ of {loss.name} on $C_k$ is Lipschitz (the constant {sup} not derived)."
        wrong, bound = sp.Integer(0), None
    elif constant == sp.oo:
        statement = f"$\\nabla_\\theta L$ of {loss.name} on $C_k$ is not Lipschitz: {sup} $= \\infty$ ({whose})."
        wrong, bound = sp.Integer(10), sp.oo
    else:
        statement = (f"$\\nabla_\\theta L$ of {loss.name} on $C_k$ is Lipschitz with constant {sup} $= "
                     f"{sp.latex(constant)}$ ({whose}; attained at $k \\ge 2$).")
        wrong, bound = constant * sp.Rational(99, 100), constant
    checks = (
        Check("lipschitz-bracket", "symbolic",
              lambda ctx: _ours(sym_cap.smoothness_derivation(loss, constant).evidence("lipschitz-bracket"), stated,
                                "constant"),
              planted=(Planted(f"the constant claimed as ${sp.latex(wrong)}$",
                               run=lambda ctx: sym_cap.smoothness_derivation(loss, wrong).evidence("planted")),),
              truths=(Planted("rankmax's known constant 1", truth=True,
                              run=lambda ctx: sym_cap.smoothness_derivation(RANKMAX, sp.Integer(1))
                              .evidence("planted")),)),
        Check("jacobian-search", "numeric",
              lambda ctx: _ours(num_cap.jacobian_search(loss, constant, ctx), stated, "constant"),
              planted=(patched("the map sharpened by 1.01 (scores times 1.01)", _map_patch(_sharpened),
                               resolution=True),),
              truths=(Planted("rankmax's known constant 1", truth=True,
                              run=lambda ctx: num_cap.jacobian_search(RANKMAX, sp.Integer(1), ctx)),)),
    )
    constants = {"bound": "inf" if bound in (None, sp.oo) else repr(float(bound)), "k": KS, "tree": loss.tree()}
    return Claim("FY-4", f"user:{loss.name}", statement, checks, expected="verified", note=NOTE,
                 constants=constants, scope=SCOPE + r"; random $\theta$ and two equal entries at $k = 1, 2$")


def capped_fy_claims(loss: SeparableLoss) -> list[Claim]:
    """FY-1 … FY-4 of a loss on C_k (the dispatcher ``reports.user.claims.capped_claims`` adds the others)."""
    if not loss.capped:
        raise ValueError(f"loss must have domain 'capped', got {loss.domain!r}")
    return [_fy1(loss), _fy2(loss), _fy3(loss), _fy4(loss)]
