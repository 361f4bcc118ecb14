"""The CON-1 and CON-2 rows of a user's loss (issue 23 §4): ``CON-1[user:NAME]``,
``CON-2[user:NAME/L1]`` and ``CON-2[user:NAME/L2]`` for any :class:`~audit.separable.SeparableLoss`
on the simplex, through the same runner, verdict words and re-checker (reports/rechecks/user.py)
as the built-in rows (reports/con/claims.py).

The claims under test are the suite's derived ones (proofs/user/rank.py), theorems for
every admissible g: top-k calibrated (the half-space gap g(ηᵢ) + g(ηⱼ) − 2g((ηᵢ + ηⱼ)/2) > 0 by
strict convexity), DCG-consistent with the summed label map L1 (the Bayes scores g′(q) sort
q ∝ E[G]), and not with the normalized map L2 (an exact law where q = E[G/ΣG] and E[G] order
two items apart).  So a CON-1 or L1 check that contradicts its claim is a disagreement of our
own routes: the row crashes, never refutes.  The L2 row is a finding (refuted, with its
counterexamples re-checked outside); its checks' planted truths replace the L2 entry of the
label-map tables by the summed map (reports/con/planted.py), under which they hold.

Planted defects are generic and enter where a bug would, by a patch of the attribute the real
code looks up: the half-space minimizer's point moved off the midpoint (both CON-1 routes read
``proofs.user.rank.kkt_point``), the Bayes scores with the sign flipped
(``bayes_score``), labels built from linear gains (the symbolic table) or the L1 risk without
its weights ΣG(r), i.e. the normalized map in its place (the numeric table), and for the
numeric routes the generic map reversed (L1) or, as the resolution, tempered by 1.01
(``numerics.user.rank.torch_map``).  Planted truths: sparsemax on the same numeric routes.
"""
from __future__ import annotations

from dataclasses import replace

import sympy as sp

import numerics.user.rank as num_rank
import proofs.user.rank as sym_rank
from audit.builtin_losses import SPARSEMAX
from audit.separable import SeparableLoss
from numerics.con import labels as lab
from proofs.con import consistency as sym
from proofs.user.con import fy2_premise

from ..con import planted as pc
from ..claim import Check, Claim, Planted, patched, replacing
from .claims_con import SCOPE, _derived
from .planted import _reversed, _tempered

_CON1_SCOPE = SCOPE + r"; numeric: grid $\eta$, $n \in \{4, 5\}$, every pair $\eta_i > \eta_j$, certified Newton solves"
_CON2_SCOPE = SCOPE + r"; numeric: drawn laws, $n \in \{3, 4\}$, 1 to 3 atoms, grades $r \in \{0, 1, 2\}$"
_MAP = {"L1": r"label map L1 (summed: the loss on $G(r)/\sum G(r)$ weighted by $\sum G(r)$, $G(r) = 2^r - 1$)",
        "L2": r"label map L2 (normalized: the loss on $y = G(r)/\sum G(r)$ with unit weight, the ListNet form)"}
_L2_NOTE = ("with the normalized label G(r)/ΣG(r) the Bayes scores g′(q) sort q = E[G(r)/ΣG(r)], not E[G(r)]: "
            "D = {0.4: r = (0,0,1), 0.6: r = (1,2,1)} has E[G] = (0.6, 1.8, 1) but q = (0.12, 0.36, 0.52), so every "
            "Bayes point puts item 3 above item 2 and loses E[DCG] ≈ 0.2953, for every strictly convex g (symbolic "
            "route, exact); the numeric route finds its own law among the drawn ones, re-checked each run")


def _map_patch(wrap):
    """The generic map, as numerics/user/rank.py looks it up, with a defect wrapped around it."""
    real = num_rank.torch_map
    return replacing((num_rank, "torch_map", lambda facts: wrap(real(facts))))


def _moved(a, b):
    """The half-space minimizer's point moved off the midpoint: μ = 0.4(a − b) for 0.5(a − b)."""
    return (a + b) / 2 + (a - b) / 10, (a + b) / 2 - (a - b) / 10


_MOVED = patched(r"the half-space minimizer moved off the midpoint: $(\hat y_i, \hat y_j) = (\bar\eta \pm (\eta_i - "
                 r"\eta_j)/10)$", replacing((sym_rank, "kkt_point", _moved)))


def _tempered_map() -> Planted:
    return patched("the map tempered by 1.01 (scores divided by 1.01)", _map_patch(_tempered), resolution=True)


def _centred(loss: SeparableLoss) -> str:
    """The reading of R where g(1⁻) = +∞: every one-hot label has L ≡ +∞, so R = L(θ; η) + const
    (CLAIMS.md §2) has an infinite constant and is read without it (as DYN-2[user:NAME] does)."""
    if sp.limit(loss.g, loss.x, 1, "-") != sp.oo:
        return ""
    return (r" Here $g(1^-) = +\infty$: $L(\theta; e_y) \equiv +\infty$, so $R$ is read centred, "
            r"$R(\theta) - \mathbb{E}\,\Omega(e_y) + \Omega(\eta) = L(\theta; \eta)$, finite where every "
            r"$\eta_i < 1$.")


def _con1(loss: SeparableLoss) -> Claim:
    def symbolic(ctx):
        return sym_rank.topk_calibration(loss, fy2_premise(loss)).evidence("halfspace-gap")
    checks = (
        Check("halfspace-gap", "symbolic", symbolic, planted=(_MOVED,)),
        Check("topk-certificate", "numeric", lambda ctx: _derived(num_rank.topk_certificate(loss, ctx)),
              planted=(_MOVED, _tempered_map()),
              truths=(Planted("sparsemax's known top-$k$ calibration (Yang and Koyejo 2020)", truth=True,
                              run=lambda ctx: num_rank.topk_certificate(SPARSEMAX, ctx)),)),
    )
    statement = (f"{loss.name} is top-$k$ calibrated for every $k < n$: $\\inf\\{{R(\\theta) : \\theta$ not top-$k$ "
                 "preserving for $\\eta\\} > \\inf R$ for every $\\eta$ (derived by the suite: each half-space "
                 "$\\theta_i \\le \\theta_j$ with $\\eta_i > \\eta_j$ stays $g(\\eta_i) + g(\\eta_j) - "
                 "2g((\\eta_i + \\eta_j)/2) > 0$ above $\\inf R$)." + _centred(loss))
    return Claim("CON-1", f"user:{loss.name}", statement, checks, expected="verified",
                 note="a user's loss: no registered verdict", constants={"tree": loss.tree()}, scope=_CON1_SCOPE)


def _symbolic_map(name: str, **changes):
    return replacing((sym, "LABEL_MAPS", {**sym.LABEL_MAPS, name: replace(sym.LABEL_MAPS[name], **changes)}))


def _numeric_map(name: str, entry: lab.LabelMap):
    return replacing((lab, "LABEL_MAPS", {**lab.LABEL_MAPS, name: entry}))


def _con2(loss: SeparableLoss, m: str) -> Claim:
    def symbolic(ctx):
        return sym_rank.dcg_consistency(loss, m, fy2_premise(loss)).evidence("bayes-order")

    def numeric(ctx):
        ev = num_rank.dcg_enumeration(loss, m, ctx)
        return _derived(ev) if m == "L1" else ev
    if m == "L1":
        sym_opts = {"planted": (
            patched(r"labels built from linear gains $\ell(r) = r$ while DCG uses $2^r - 1$",
                    _symbolic_map("L1", gain=lambda r: r)),
            patched(r"the Bayes scores with the sign flipped ($\theta^*_i - \tau = -g'(q_i)$)",
                    replacing((sym_rank, "bayes_score", lambda l, q: -sp.diff(l.g, l.x).subs(l.x, q)))))}
        num_opts = {"planted": (
            patched(r"the L1 risk without its weights $\sum G(r)$", _numeric_map("L1", pc.L1_UNWEIGHTED)),
            patched("the map reversed (scores negated)", _map_patch(_reversed)), _tempered_map()),
            "truths": (Planted("sparsemax with L1 (the summed map, CLAIMS.md)", truth=True,
                               run=lambda ctx: num_rank.dcg_enumeration(SPARSEMAX, "L1", ctx)),)}
    else:
        sym_opts = {"expect": "fails", "truths": tuple(pc.l2_truths("bayes-order"))}
        num_opts = {"expect": "fails", "truths": tuple(pc.l2_truths("dcg-enumeration"))}
    checks = (Check("bayes-order", "symbolic", symbolic, **sym_opts),
              Check("dcg-enumeration", "numeric", numeric, **num_opts))
    statement = (f"{loss.name} with {_MAP[m]} is DCG-consistent: sorting its Bayes-optimal scores maximizes "
                 r"$\mathbb{E}_D[\mathrm{DCG}]$ for every relevance law $D$ (worst ranking over the minimizer set, "
                 "ties broken every way)." + _centred(loss))
    constants = {"tree": loss.tree(), "label_map": m, "gain_base": 2}
    if m == "L1":
        return Claim("CON-2", f"user:{loss.name}/L1", statement, checks, expected="verified",
                     note="a user's loss: no registered verdict", constants=constants, scope=_CON2_SCOPE)
    return Claim("CON-2", f"user:{loss.name}/L2", statement, checks, expected="refuted", note=_L2_NOTE,
                 constants=constants, scope=_CON2_SCOPE)


def rank_claims(loss: SeparableLoss) -> list[Claim]:
    """CON-1, CON-2 (L1) and CON-2 (L2) of ``loss`` (on the simplex)."""
    return [_con1(loss), _con2(loss, "L1"), _con2(loss, "L2")]
