"""APX-4 in sympy: hierarchical softmax.  Reading H2 (tied node scores u = A θ): the bias
depends on the tree.  Reading H1 (free node scores): every tree fits every full-support
target exactly, so the tree-dependence claim fails for that reading."""
from __future__ import annotations

import sympy as sp

from .common import full_grad, hsm_h2_grad, sq, tree_rationals, variance
from ..derivation import Derivation, is_zero

POINT = (sp.Integer(1), sp.Rational(-1, 2), sp.Integer(0))


def _trees3():
    from losses import approx

    return {"((0,1),2)": approx.balanced_tree(3), "(0,(1,2))": approx.Tree(3, ((1, 2), (0, 3)))}


def hsm_tree_dependence() -> Derivation:
    """Reading H2: the bias of tied HSM depends on the tree (n = 3, ((0,1),2) vs (0,(1,2))).

    The estimator is :func:`proofs.apx.common.hsm_h2_grad` (reading H2 by sympy diff), looked
    up here at call time: a planted defect patches it with one that ignores the tree."""
    import torch

    from losses import approx

    def est(tree, theta, y):
        return hsm_h2_grad(tree, theta, y)[0]
    n, y = 3, 0
    theta = sp.symbols(f"theta_0:{n}", real=True)
    trees = _trees3()
    d = Derivation(
        statement=r"HSM reading H2 (tied node scores $u = A\theta$): zero variance, and the estimator $\tilde g$, "
                  "hence its bias, depends on the tree (balanced vs Huffman)",
        summary="HSM reading H2: zero variance, and its bias depends on the tree (balanced vs Huffman)",
        scope=r"$n = 3$, $y = 0$, symbolic $\theta$; trees ((0,1),2) = $\texttt{balanced\_tree}(3)$ and (0,(1,2)) = "
              r"the Huffman tree of $\operatorname{softmax}(\theta)$ at $\theta = (1, -1/2, 0)$, where bias$^2$ is "
              r"compared exactly (one case suffices for 'depends on the tree'); zero variance: $\tilde g$ is a "
              r"function of $\theta$ and the tree (point mass, every $n$)",
        assumptions=["reading H2: node vector = mean of its leaves' item vectors (Tree.tie)"],
    )
    def clusters(tree):  # the leaf sets under the internal nodes (child order is invisible to H2)
        return frozenset(frozenset(torch.nonzero(r).flatten().tolist()) for r in tree.tie)

    huff = approx.huffman_tree(torch.softmax(torch.tensor([float(v) for v in POINT], dtype=torch.float64), 0))
    same_clusters = clusters(huff) == clusters(trees["(0,(1,2))"])
    d.step("At $\\theta = (1, -1/2, 0)$ the Huffman tree of $\\operatorname{softmax}(\\theta)$ clusters the leaves "
           f"as (0,(1,2)): {same_clusters}")
    g = full_grad(theta, y)
    gts = {}
    for name, tree in trees.items():
        gt = est(tree, theta, y)
        gts[name] = gt
        d.step(f"Tree {name}: $\\tilde g$ =", sp.Matrix(gt))
        d.step(f"Tree {name}: variance of its law (point mass) =", variance([gt], [sp.Integer(1)]))
    diff = [sp.simplify(a - b) for a, b in zip(*gts.values())]
    d.step("Difference of the two estimators:", sp.Matrix(diff))
    point = dict(zip(theta, POINT))
    b2 = {name: sp.N(sq([a - b for a, b in zip(gt, g)]).subs(point), 30) for name, gt in gts.items()}
    d.step("bias$^2$ at $\\theta = (1, -1/2, 0)$: " + ", ".join(f"{k_}: {float(v):.10f}" for k_, v in b2.items()))
    gap = abs(b2["((0,1),2)"] - b2["(0,(1,2))"])
    if gap > 1e-12:
        return d.decide(True if same_clusters else None)
    if all(is_zero(e) for e in diff):
        d.counterexample = {"shape": "hsm-trees", "theta": [float(v) for v in POINT], "y": y,
                            "trees": list(trees), "bias2": [float(v) for v in b2.values()]}
        return d.decide(False)
    return d.decide(None)


def h1_fit(tree, p):
    """Node scores u_v = log(P(left)/P(right)) and the model probabilities they give."""
    n = tree.n
    ch = tree.children

    def mass(v):
        return p[v] if v < n else mass(ch[v - n][0]) + mass(ch[v - n][1])

    u = [sp.log(mass(lft) / mass(rgt)) for lft, rgt in ch]
    return u, h1_model(tree, u)


def h1_model(tree, u):
    """Leaf probabilities Π σ(±u_v) along each path."""
    _, paths, signs = tree_rationals(tree)
    return [sp.Mul(*[1 / (1 + sp.exp(-s * u[v])) for v, s in zip(paths[j], signs[j])]) for j in range(tree.n)]


def hsm_h1_tree_free() -> Derivation:
    """Reading H1 (free node scores): every tree fits every full-support p exactly, so the
    best fit's bias does not depend on the tree -- the APX-4 tree claim fails for H1.

    The best fit examined is :func:`h1_fit` (``fit(tree, p)`` → (node scores, model
    probabilities)), looked up at call time: a planted defect or truth patches it.  Decides
    False when every tree's fit reproduces p exactly (KL 0), True when the two trees' best
    fits reach different KL at the exact point (their bias then depends on the tree), None
    otherwise."""
    from losses import approx

    fitter = h1_fit
    d = Derivation(
        statement="HSM's bias depends on the tree (reading H1: node scores are free parameters; compare "
                  "best fits)",
        scope=r"symbolic full-support $p$ ($p_j = w_j/\sum_i w_i$, $w_j > 0$) for $n = 3$ (trees ((0,1),2), "
              r"(0,(1,2))) and $n = 4$ (balanced ((0,1),(2,3)) and caterpillar (0,(1,(2,3)))); counterexample "
              r"evaluated exactly at $p = (1/2, 3/10, 1/5)$",
        assumptions=["reading H1: one free score per internal node", "$p$ has full support"],
    )
    trees = {
        3: _trees3(),
        4: {"((0,1),(2,3))": approx.balanced_tree(4),
            "(0,(1,(2,3)))": approx.Tree(4, ((2, 3), (1, 4), (0, 5)))},
    }
    exact = []
    for n, group in trees.items():
        w = sp.symbols(f"w_0:{n}", positive=True)
        p = [wj / sp.Add(*w) for wj in w]
        for name, tree in group.items():
            u, model = fitter(tree, p)
            u = [sp.simplify(e) for e in u]
            res = [sp.simplify(mj - pj) for mj, pj in zip(model, p)]
            exact.append(all(is_zero(r) for r in res))
            d.step(f"$n = {n}$, tree {name}: node scores $u_v$ =", sp.Matrix(u))
            d.step("$\\mathrm{model} - p$ simplifies to", sp.Matrix(res))
    if all(exact):
        d.step("So the best H1 fit reproduces $p$ exactly for every tree ($\\mathrm{KL} = 0$), and the H1 model's "
               "bias at its best fit is the same (zero) for every tree: the bias does not depend on the tree.")
    else:
        d.step("The best fit does not reproduce $p$ identically for every tree.")
    pc = [sp.Rational(1, 2), sp.Rational(3, 10), sp.Rational(1, 5)]
    kls, exprs = [], []
    for name, tree in trees[3].items():
        _, model = fitter(tree, pc)
        kl = sp.simplify(sp.Add(*[pj * sp.log(pj / mj) for pj, mj in zip(pc, model)]))
        kls.append(float(kl))
        exprs.append(kl)
        d.step(f"$p = (1/2, 3/10, 1/5)$, tree {name}: $\\mathrm{{KL}}(p \\,\\Vert\\, \\text{{best fit}})$ =", kl)
    if all(exact) and all(v == 0.0 for v in kls):
        d.counterexample = {"shape": "hsm-h1", "p": [float(v) for v in pc], "trees": list(trees[3]),
                            "kl_best_fit": kls}
        return d.decide(False)
    gap = sp.simplify(exprs[0] - exprs[1])
    if gap != 0 and abs(float(gap)) > 1e-12:
        d.step(f"The two trees' best fits reach different KL at this $p$ (difference {float(gap):.6g}): the best "
               "fit, hence its bias, depends on the tree.")
        return d.decide(True)
    return d.decide(None)
