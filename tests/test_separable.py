"""A loss as a value (issue 23 §1–3): the subject's boundary checks, the facts the suite
derives for any separable g, and the generic map by bisection.

Ground truth is independent of the derivation: the literature's constants (sparsemax
margin 1, α-Tsallis margin 1/(α − 1), softmax's Jacobian bound ½; binary entropy's map
σ(θᵢ − τ) and constant ¼), the library's own maps for the built-ins, and finite
differences for the Jacobian."""
import sympy as sp
import pytest
import torch

import losses
from audit.builtin_losses import BUILTINS, ENTMAX15, RANKMAX, SOFTMAX, SPARSEMAX
from audit.separable import SeparableLoss, available, resolve
from numerics.user.map import torch_map
from proofs.user.facts import T, derive

P = sp.Symbol("p", positive=True)
TSALLIS3 = SeparableLoss("tsallis-3", (P**3 - P) / 6, P)
BINENT = SeparableLoss("binent", P * sp.log(P) + (1 - P) * sp.log(1 - P), P)
HALF, OO = sp.Rational(1, 2), sp.oo

# fact: (softmax, sparsemax, 1.5-entmax, tsallis-3, binent); a margin or bound of oo is "none"
KNOWN = {
    "g'(0+)": (-OO, 0, -sp.Rational(4, 3), -sp.Rational(1, 6), -OO),
    "g'(1-)": (1, 1, sp.Rational(2, 3), sp.Rational(1, 3), OO),
    "sparse": (sp.false, sp.true, sp.true, sp.true, sp.false),
    "margin": (OO, 1, 2, HALF, OO),                         # 1/(α − 1) for Tsallis α (Blondel et al. 2020)
    "Lipschitz >= (n >= 3)": (HALF, 1, sp.sqrt(2) / 2, OO, sp.Rational(1, 4)),
    "Lipschitz <=": (1, 1, 1, OO, sp.Rational(1, 4)),
}
SIMPLEX = (SOFTMAX, SPARSEMAX, ENTMAX15, TSALLIS3, BINENT)


@pytest.mark.parametrize("i", range(len(SIMPLEX)), ids=[c.name for c in SIMPLEX])
def test_derived_facts_are_the_known_ones(i):
    f = derive(SIMPLEX[i])
    for name, values in KNOWN.items():
        assert f[name].symbolic, (name, f[name].how)
        got, want = f[name].value, values[i]
        same = got == want if isinstance(want, sp.logic.boolalg.BooleanAtom) or want in (OO, -OO) \
            else sp.simplify(got - want) == 0
        assert same, (SIMPLEX[i].name, name, got, want)
    assert f.sparse == (KNOWN["sparse"][i] == sp.true)
    # the stated constants of the built-ins agree with what is derived
    if SIMPLEX[i].margin is not None:
        assert f["margin"].value == SIMPLEX[i].margin


def test_the_inverse_is_verified_and_known_where_the_literature_has_it():
    assert sp.simplify(derive(BINENT)["(g')^(-1)(t)"].value - 1 / (1 + sp.exp(-T))) == 0       # σ(t)
    assert sp.simplify(derive(SOFTMAX)["(g')^(-1)(t)"].value - sp.exp(T - 1)) == 0
    assert derive(SPARSEMAX)["(g')^(-1)(t)"].value == T
    for loss in SIMPLEX:                                       # g′(G(t)) = t at points inside the clip
        f = derive(loss)
        inv, lo, hi = f["(g')^(-1)(t)"].value, f["g'(0+)"].value, f["g'(1-)"].value
        for q in (sp.Rational(1, 7), HALF, sp.Rational(5, 6)):
            t = f.g1.subs(loss.x, q)
            assert lo <= t <= hi and sp.N(inv.subs(T, t) - q, 30) == pytest.approx(0, abs=1e-25)


def test_an_inverse_sympy_cannot_find_stays_implicit_and_the_map_still_solves():
    g = P * sp.log(P) + P**3                                     # g′ = log p + 1 + 3p²: no closed-form inverse
    f = derive(SeparableLoss("shannon-plus-cubic", g, P))
    assert f["(g')^(-1)(t)"].value is None and f["(g')^(-1)(t)"].how.startswith("beyond sympy")
    fmap = torch_map(f)
    th = torch.tensor([[0.3, -1.0, 2.0, 0.5]], dtype=torch.float64)
    y = fmap(th)
    tau = th - (torch.log(y) + 1 + 3 * y**2)                   # stationarity: g′(ŷᵢ) = θᵢ − τ, one τ
    assert float(y.sum()) == pytest.approx(1, abs=1e-12) and float(tau.max() - tau.min()) < 1e-9


@pytest.mark.parametrize("loss,library,k", [(SOFTMAX, losses.get("softmax"), 1), (SPARSEMAX, losses.get("sparsemax"), 1),
                                            (ENTMAX15, losses.get("entmax", alpha=1.5), 1),
                                            (RANKMAX, losses.get("rankmax", k=3), 3)],
                         ids=["softmax", "sparsemax", "entmax-1.5", "rankmax"])
def test_the_generic_map_is_the_librarys_for_the_builtins(loss, library, k):
    fmap = torch_map(derive(loss))
    g = torch.Generator().manual_seed(3)
    th = torch.randn(64, 9, generator=g, dtype=torch.float64) * 3
    th[0] = 0.7                                                  # ties
    th[1, :4] = float("-inf")                                    # masked classes
    th[2] *= 1e3
    want = library.predict(th)
    got = fmap(th, k)
    assert torch.allclose(got, want, atol=1e-10, rtol=0)
    assert torch.equal(got[1, :4], torch.zeros(4, dtype=torch.float64))
    got32 = fmap(th.float(), k)
    assert got32.dtype == torch.float32 and torch.allclose(got32.double(), want, atol=1e-6)


@pytest.mark.parametrize("loss", [SOFTMAX, ENTMAX15, BINENT, TSALLIS3], ids=lambda c: c.name)
def test_the_backward_is_the_jacobian_of_the_map(loss):
    """J = diag(s) − ssᵀ/Σs, applied in the backward, against central differences of the map."""
    fmap = torch_map(derive(loss))
    th = torch.tensor([[0.4, -0.3, 1.1, 0.9, -2.0]], dtype=torch.float64, requires_grad=True)
    v = torch.tensor([[0.3, -1.0, 0.5, 2.0, 0.1]], dtype=torch.float64)
    (grad,) = torch.autograd.grad((fmap(th) * v).sum(), th)
    h, fd = 1e-6, torch.zeros(5, dtype=torch.float64)
    for i in range(5):
        e = torch.zeros(1, 5, dtype=torch.float64)
        e[0, i] = h
        fd[i] = float(((fmap(th.detach() + e) - fmap(th.detach() - e)) * v).sum() / (2 * h))
    assert torch.allclose(grad[0], fd, atol=1e-7)
    # a Jacobian with its rank-one term's sign flipped (a realistic slip) is caught by the same comparison
    y = fmap(th.detach())
    inside = (y > 0) & (y < 1)
    w = torch.where(inside, fmap.weight(torch.where(inside, y, 0.5)), torch.zeros_like(y))
    flipped = w * v + w * (w * v).sum() / w.sum()
    assert not torch.allclose(flipped[0], fd, atol=1e-3)


def test_extreme_scores_give_finite_maps():
    fmap = torch_map(derive(BINENT))
    th = torch.tensor([[1e4, -1e4, 0.0], [5.0, 5.0, 5.0], [1e4, 1e4 - 1, -1e4]], dtype=torch.float32)
    y = fmap(th)
    assert bool(torch.isfinite(y).all()) and torch.allclose(y.sum(-1), torch.ones(3), atol=1e-6)
    assert torch.allclose(y[1], torch.full((3,), 1 / 3))


@pytest.mark.parametrize("kw,match", [
    (dict(g="p*log(p)"), "string"),
    (dict(g=0.5 * P**2), "float"),
    (dict(g=P**2 + sp.Symbol("q", positive=True)), "alone"),
    (dict(g=sp.sin(P) + P**2), "log and exp only"),
    (dict(g=sp.Integer(3)), "depend on x"),
    (dict(x=sp.Symbol("p")), "positive"),
    (dict(domain="cube"), "domain"),
    (dict(name="bad name!"), "name"),
    (dict(margin="1/2"), "string"),
    (dict(margin=0.5), "exact"),
    (dict(lipschitz=sp.Float(0.25)), "float"),
])
def test_the_subject_is_refused_at_the_boundary(kw, match):
    args = dict(name="ok", g=P**2 / 2, x=P) | kw
    with pytest.raises(ValueError, match=match):
        SeparableLoss(args.pop("name"), args.pop("g"), args.pop("x"), **args)


@pytest.mark.parametrize("g,match", [
    (-P * sp.log(P), "strictly convex"),                         # concave
    (P * sp.log(P) - 2 * P**2, "strictly convex"),               # g″ = 1/p − 4 < 0 on (1/4, 1)
    (-sp.log(P), r"g\(0\+\) must be finite"),                    # convex, but Ω is infinite on the boundary
])
def test_a_g_outside_the_conditions_is_refused_naming_the_condition(g, match):
    with pytest.raises(ValueError, match=match):
        derive(SeparableLoss("bad", g, P))


def test_specs_resolve_through_one_path():
    assert set(available()) == {"softmax", "sparsemax", "entmax-1.5", "rankmax"}
    assert resolve("entmax-1.5") is ENTMAX15 and resolve("audit.builtin_losses:RANKMAX") is RANKMAX
    assert [resolve(name) for name in available()] == sorted(BUILTINS, key=lambda c: c.name)
    for spec, match in [("audit.builtin_losses.SOFTMAX", "colon"), ("nosuch", "registered: entmax-1.5"),
                        ("audit.builtin_losses:NOPE", "does not resolve"), ("audit.builtin_losses:BUILTINS", "tuple"),
                        ("", "spec")]:
        with pytest.raises(ValueError, match=match):
            resolve(spec)
