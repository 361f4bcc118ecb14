"""The APX numeric checks can fail: planted defects in their ground truth must flip them."""
from __future__ import annotations

from losses import approx as A
from numerics import apx_checks as N
from numerics import apx_exact as X
from audit import RunContext


def test_decomposition_fails_when_mse_is_not_bias2_plus_variance(monkeypatch):
    real = X.canonical

    def planted(method, reading):
        out = real(method, reading)
        return out | {"mse": [v + 1e-6 for v in out["mse"]]}

    monkeypatch.setattr(X, "canonical", planted)
    ev = N.decomposition("rg", "rg2", RunContext())
    assert ev.outcome == "fails" and ev.counterexample is not None


def test_mc_agreement_fails_against_a_shifted_exact_value(monkeypatch):
    real = X.ssm_exact

    def planted(*args, **kw):
        out = real(*args, **kw)
        return out | {"mse": out["mse"] * 1.05}

    monkeypatch.setattr(X, "ssm_exact", planted)
    ev = N.mc_agreement("ssm", "uniform", RunContext())
    assert ev.outcome == "fails" and any(k == "mse" for _, k in ev.counterexample["misses"])


def test_tree_clusters_ignore_child_order():
    a = A.Tree(3, ((0, 1), (3, 2)))
    b = A.Tree(3, ((1, 0), (2, 3)))
    c = A.Tree(3, ((1, 2), (0, 3)))
    assert N._clusters(a) == N._clusters(b) != N._clusters(c)
    assert N.nested(a) == "((0,1),2)" and N.nested(b) == "(2,(1,0))"
