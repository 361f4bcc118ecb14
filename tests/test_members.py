"""The main rows' loss values (audit/members.py): each member's stated facts are those of its
g, derived here by sympy, and its Ω (Σ g + offset) is the Ω the torch loss of that name
computes, so a property the derivations branch on cannot drift from the loss it names."""
import pytest
import sympy as sp
import torch

from audit.builtin_losses import BUILTINS
from audit.members import ALPHA, MEMBERS, Member, Regulariser, member
from losses import get

X = sp.Symbol("x", positive=True)
#: α values at which entmax's symbolic facts are evaluated (sympy's limits need a number)
ALPHAS = (sp.Rational(3, 2), sp.Integer(3))


def _at(m: Member, alpha) -> sp.Expr:
    return m.at(X) if alpha is None else m.at(X).subs(ALPHA, alpha)


@pytest.mark.parametrize("m", MEMBERS, ids=str)
def test_each_stated_fact_is_the_fact_of_its_g(m):
    for alpha in (ALPHAS if m.tsallis else (None,)):
        g = _at(m, alpha)
        assert sp.limit(sp.diff(g, X), X, 0, "+") is (sp.S.NegativeInfinity if m.dense else sp.S.Zero), (m, alpha)
        assert (sp.simplify(sp.diff(g, X, 2) - 1) == 0) is m.quadratic
        assert sp.simplify(sp.diff(g, X, 2)).is_positive     # strictly convex on (0, 1)
    assert (ALPHA in m.g.free_symbols) is m.tsallis


@pytest.mark.parametrize("m", MEMBERS, ids=str)
def test_omega_of_a_member_is_the_omega_of_the_torch_loss_it_names(m):
    gen = torch.Generator().manual_seed(0)
    for alpha in (ALPHAS if m.tsallis else (None,)):
        params = {"alpha": float(alpha)} if m.tsallis else {"k": 2} if m.capped else {}
        loss = get(m.name, **params)
        theta = torch.randn(5, 6, generator=gen, dtype=torch.float64)
        p = loss.predict(theta)
        omega = sp.lambdify(X, _at(m, alpha), "math")
        ours = [sum(omega(v) if v > 0 else 0.0 for v in row.tolist()) + float(m.offset if alpha is None else m.offset.subs(ALPHA, alpha))
                for row in p]
        assert torch.allclose(torch.tensor(ours, dtype=torch.float64), loss.omega(p), atol=1e-12), m


def test_a_name_resolves_to_its_member_and_an_unknown_one_is_refused():
    assert [member(m.name) for m in MEMBERS] == list(MEMBERS)
    assert member(MEMBERS[0]) is MEMBERS[0]
    with pytest.raises(ValueError, match="unknown loss 'softmaxx'"):
        member("softmaxx")
    with pytest.raises(ValueError, match="domain"):
        Member("x", X**2, X, sp.S.Zero, domain="cube")


#: the user path's value of each member (audit/builtin_losses.py, registered as entry points)
def _builtin(m: Member):
    from audit.builtin_losses import BUILTINS

    return next(b for b in BUILTINS if b.name == (m.name if not m.tsallis else "entmax-1.5"))


@pytest.mark.parametrize("m", MEMBERS, ids=str)
def test_a_member_and_its_audit_loss_value_are_the_same_loss(m):
    """The main rows' member and the value ``audit-loss`` resolves for the same name agree:
    the same domain, the facts the user path derives from its g (proofs/user/facts.py) are the
    member's, and the two g differ by an affine term (which changes neither ŷ nor the loss)."""
    from proofs.user.facts import derive

    b = _builtin(m)
    assert b.capped is m.capped
    assert derive(b).sparse is m.sparse
    mine = _at(m, sp.Rational(3, 2) if m.tsallis else None).subs(X, b.x)
    assert sp.simplify(sp.diff(mine - b.g, b.x, 2)) == 0


def test_members_and_a_users_losses_are_values_of_one_interface():
    assert all(isinstance(v, Regulariser) for v in (*MEMBERS, *BUILTINS))
