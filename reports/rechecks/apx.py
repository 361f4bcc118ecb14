"""Re-checks of APX counterexamples (numpy only; the estimators are re-implemented in
reports/rechecks/apx_estimators.py).  The row's constants (results.json ``constants``,
typed in the registry) name the re-check each check's counterexample gets
(``constants["recheck"][check]``) and the values that define the claim (the canonical θ
and y, the proposal q, the normalizer c, the method, the tree); the re-check recomputes
the property with them, compares every stored figure it prints with its recomputation,
and accepts only a genuine counterexample to the row's statement."""
from __future__ import annotations

import math

import numpy as np

from . import apx_estimators as E

ZERO, POSITIVE = 1e-20, 1e-12   # a bias² at or below ZERO is 0; above POSITIVE it is resolved


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def _near(a: float, b: float, rel: float = 1e-9, floor: float = 1e-24) -> bool:
    """Relative closeness that stays strict for tiny values (a bias² of 1e-13 is not 0)."""
    return abs(a - b) <= rel * max(abs(a), abs(b)) + floor


def _canonical(cx, constants) -> tuple[np.ndarray, int, list[str]]:
    """(θ, y) of the row (its constants), and what the counterexample stores differently."""
    theta, y = np.array(constants["theta"], np.float64), int(constants["y"])
    bad = []
    if [float(v) for v in cx["theta"]] != theta.tolist() or int(cx["y"]) != y:
        bad.append(f"stored (theta, y) = ({cx['theta']}, {cx['y']}) is not the row's ({theta.tolist()}, {y})")
    return theta, y, bad


def _logz(theta: np.ndarray) -> float:
    return float(theta.max() + np.log(np.exp(theta - theta.max()).sum()))


def _proposal(name: str, theta: np.ndarray, y: int) -> np.ndarray:
    """The row's proposal (SSM: over all classes, conditioned on the negatives by the
    estimator; NCE: the noise): 'uniform', or 'ideal' (exp θ on the negatives, 0 at y)."""
    if name == "uniform":
        return np.full(theta.size, 1.0 / theta.size)
    if name == "ideal":
        x = np.exp(theta - theta.max())
        x[y] = 0.0
        return x / x.sum()
    raise ValueError(f"unknown proposal {name!r} in the row's constants")


def _normalizer(c, theta: np.ndarray) -> float:
    """The row's NCE normalizer: 'logZ' (log Σ exp θ) or a number."""
    return _logz(theta) if c == "logZ" else float(c)


def _law(cx, reading, constants):
    V, w, g = (np.array(cx[k], np.float64) for k in ("outcomes", "weights", "g"))
    mean = w @ V
    mse = float(w @ ((V - g) ** 2).sum(1))
    b2, var = float(((mean - g) ** 2).sum()), float(w @ ((V - mean) ** 2).sum(1))
    return (not _close(mse, b2 + var)), f"MSE {mse:.12g} vs bias^2 + variance {b2 + var:.12g}"


def _increase(cx, reading, constants):
    """bias² or variance rising with the sample count, recomputed at the row's (θ, y, q, c)."""
    theta, y, bad = _canonical(cx, constants)
    method, count = constants["method"], constants["count"]
    if cx["method"] != method or cx["count"] != count:
        bad.append(f"stored method/count {cx['method']}/{cx['count']} are not the row's {method}/{count}")
    q = _proposal(constants["q"], theta, y)
    if not np.allclose(np.array(cx["q"], np.float64), q, rtol=1e-10, atol=1e-15):   # stored to 12 digits
        bad.append(f"stored q {cx['q']} is not the row's proposal {constants['q']!r}")
    if cx["quantity"] not in ("bias2", "variance"):
        bad.append(f"unknown quantity {cx['quantity']!r}")
    idx = 0 if cx["quantity"] == "bias2" else 1
    k0, k1 = int(cx["from"]), int(cx["to"])
    if method == "ssm":
        a, b = (E.ssm_moments(theta, y, q, k)[idx] for k in (k0, k1))
    else:
        c = _normalizer(constants["c"], theta)
        if not _near(float(cx["c"]), c, 1e-10, 1e-15):
            bad.append(f"stored c = {cx['c']!r} is not the row's normalizer {constants['c']!r} = {c:.12g}")
        a, b = (E.nce_moments(theta, y, q, k, c)[idx] for k in (k0, k1))
    same = _near(a, float(cx["value_from"])) and _near(b, float(cx["value_to"]))
    ok = not bad and k1 > k0 >= 1 and b > a + 1e-14 and same
    return ok, (f"{cx['quantity']} at {count} = {k0}: {a:.10g} (stored {cx['value_from']:.10g}) -> {count} = {k1}: "
                f"{b:.10g} (stored {cx['value_to']:.10g})" + ("; " + "; ".join(bad) if bad else ""))


def _deterministic(cx, reading, constants):
    """A deterministic method (the row's) at the row's θ: its law is a point mass (variance 0)
    and the claim is a positive bias²; a counterexample is a bias² that is not positive."""
    theta, y, bad = _canonical(cx, constants)
    method = constants["method"]
    if cx["method"] != method:
        bad.append(f"stored method {cx['method']!r} is not the row's {method!r}")
    if method == "hsm":
        if cx.get("tree") != constants["tree"]:
            bad.append(f"stored tree {cx.get('tree')!r} is not the row's {constants['tree']!r}")
        gt = E.hsm_h2_grad(theta, y, E.parse_tree(constants["tree"]))
    else:
        gt = E.rg_grad(theta, y, method)
    b2 = float(((gt - E.softmax_grad(theta, y)) ** 2).sum())
    if not _near(b2, float(cx["bias2"]), 1e-9, 1e-20):
        bad.append(f"stored bias^2 {cx['bias2']!r} differs from the recomputed {b2:.12g}")
    if float(cx["variance"]) != 0.0:
        bad.append(f"stored variance {cx['variance']!r}: a closed-form function of theta has variance 0")
    return (b2 <= POSITIVE and not bad), (f"{method} at the row's theta: bias^2 = {b2:.6g} (a positive bias is "
                                          "claimed)" + ("; " + "; ".join(bad) if bad else ""))


def _ssm_iff(cx, reading, constants):
    theta, q, y, m = np.array(cx["theta"], np.float64), np.array(cx["q"], np.float64), int(cx["y"]), int(cx["m"])
    bad = []
    if "theta" in constants:                 # a row about the canonical configuration
        bad += _canonical(cx, constants)[2]
    if "q" in constants and not np.allclose(q, _proposal(constants["q"], theta, y), rtol=1e-9, atol=1e-15):
        bad.append(f"stored q is not the row's proposal {constants['q']!r}")
    b2, _ = E.ssm_moments(theta, y, q, m)
    neg = [j for j in range(theta.size) if j != y]
    ideal = np.exp(theta[neg] - theta[neg].max())
    ideal /= ideal.sum()
    is_ideal = bool(np.allclose(q[neg] / q[neg].sum(), ideal, rtol=1e-9, atol=0))
    if bad:
        return False, "; ".join(bad)
    if ZERO < b2 <= POSITIVE:
        return False, f"bias^2 = {b2:.3g} at m = {m}: neither resolved zero nor positive"
    unbiased = b2 <= ZERO
    return unbiased != is_ideal, (f"m = {m}: bias^2 = {b2:.3g}, proposal prop. to exp(theta) on the negatives: "
                                  f"{is_ideal} (the claim: unbiased iff ideal)")


def _nce_limit(cx, reading, constants):
    """The k -> infinity limit of NCE's bias², ‖(Z e^{-c} - 1) p‖², at the stored θ and the
    row's normalizer c (constants: 'logZ', the bias vanishes; or a fixed number, it does not
    unless it equals log Z)."""
    theta = np.array(cx["theta"], np.float64)
    c = _normalizer(constants["c"], theta)
    bad = []
    if not _near(float(cx["c"]), c, 1e-10, 1e-15):
        bad.append(f"stored c = {cx['c']!r} is not the row's normalizer {constants['c']!r} = {c:.12g}")
    p = np.exp(theta - theta.max())
    p /= p.sum()
    lim = float(((np.exp(theta - c) - p) ** 2).sum())      # ‖(Z e^{−c} − 1) p‖²
    if not _near(lim, float(cx["limit_bias2"]), 1e-6, 1e-24):
        bad.append(f"stored limit {cx['limit_bias2']!r} differs from the recomputed {lim:.12g}")
    claim_vanishes = constants["c"] == "logZ"
    vanishes = lim <= POSITIVE
    return (vanishes != claim_vanishes and not bad), (f"c = {c:.9g}: k -> infinity limit of bias^2 = {lim:.6g} "
                                                      f"(stored {cx['limit_bias2']!r})"
                                                      + ("; " + "; ".join(bad) if bad else ""))


def _nce_population(cx, reading, constants):
    if constants.get("noise_weight") != "k q":
        return False, f"the row's noise weight {constants.get('noise_weight')!r} is not 'k q'"
    p, q, k, th = (np.array(cx[key], np.float64) for key in ("p", "q", "k", "theta"))

    def J(t):
        off = np.log(k * q)
        return float(np.sum(p * np.logaddexp(0, -(t - off)) + k * q * np.logaddexp(0, t - off)))

    gap = J(np.log(p)) - J(th)
    stored = cx.get("J_log_p_minus_J_theta")
    same = stored is None or _near(gap, float(stored), 1e-6, 1e-12)
    return gap > 1e-9 and same, (f"J(log p) - J(theta) = {gap:.3g} (theta beats log p iff > 0)"
                                 + ("" if stored is None else f"; stored {stored:.3g}"))


def _with(bad: list[str]) -> str:
    return "; " + "; ".join(bad) if bad else ""


def _hsm_trees(cx, reading, constants):
    """Two trees that cluster the leaves differently yet give the same H2 bias² (within the
    row's ``equal_bias2_within``) at the stored θ: no tree dependence there."""
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    trees = [E.parse_tree(t) for t in cx["trees"]]
    if len(trees) != 2:
        return False, f"{len(trees)} trees stored: the claim compares two"
    b2 = [float(((E.hsm_h2_grad(theta, y, t) - E.softmax_grad(theta, y)) ** 2).sum()) for t in trees]
    bad = []
    stored = [float(v) for v in cx["bias2"]]
    if len(stored) != 2 or not all(_near(a, s, 1e-9, 1e-24) for a, s in zip(b2, stored)):
        bad.append(f"stored bias^2 {stored} differs from the recomputed {b2}")
    if "abs_difference" in cx and not _near(abs(b2[0] - b2[1]), float(cx["abs_difference"]), 1e-6, 1e-24):
        bad.append(f"stored difference {cx['abs_difference']!r} differs from the recomputed {abs(b2[0] - b2[1]):.6g}")
    distinct = E.clusters(trees[0]) != E.clusters(trees[1])
    ok = distinct and abs(b2[0] - b2[1]) <= float(constants["equal_bias2_within"]) and not bad
    return ok, f"H2 bias^2 per tree {b2} (distinct clusters: {distinct})" + _with(bad)


def _h1(cx, reading, constants):
    """H1's best fit (node scores = log mass ratios) reproduces the stored p on every stored
    tree: KL 0 (within the row's ``kl_zero_within``) whatever the tree."""
    p = np.array(cx["p"], dtype=np.float64)
    p = p / p.sum()  # the stored p is rounded to 12 digits
    trees = [E.parse_tree(t) for t in cx["trees"]]
    kls = [float((p * np.log(p / E.hsm_ratio_fit(t, p))).sum()) for t in trees]
    tol = float(constants["kl_zero_within"])
    bad = []
    stored = [float(v) for v in cx["kl_best_fit"]]
    if len(stored) != len(kls) or not all(abs(a - s) <= tol for a, s in zip(kls, stored)):
        bad.append(f"stored KL of the best fits {stored} differs from the recomputed {kls}")
    distinct = len({E.clusters(t) for t in trees}) == len(trees)
    if not distinct:
        bad.append("the stored trees do not all cluster the leaves differently")
    ok = len(kls) >= 2 and max(abs(v) for v in kls) <= min(tol, 1e-12) and not bad
    return ok, f"p={[round(v, 4) for v in cx['p']]}: KL of the ratio fit per tree {kls}" + _with(bad)


def _rg_coeffs(cx, constants, bad: list[str]) -> tuple[str, tuple[float, float, float]]:
    """The row's RG kind and coefficients (lin, quad, inter); a counterexample stored under
    another kind or other coefficients is noted in ``bad``."""
    kind, co = constants["kind"], tuple(float(v) for v in constants["coeffs"])
    if cx.get("kind", kind) != kind:
        bad.append(f"stored kind {cx.get('kind')!r} is not the row's {kind!r}")
    if "coeffs" in cx and tuple(float(v) for v in cx["coeffs"]) != co:
        bad.append(f"stored coefficients {cx['coeffs']} are not the row's {list(co)}")
    return kind, co


def _rg_bias2(theta, y: int, co) -> float:
    return float(((E.rg_grad_coeffs(theta, y, *co) - E.softmax_grad(theta, y)) ** 2).sum())


def _rg_scale(cx, reading, constants):
    """bias² along θ = s θ0 (the row's coefficients): a counterexample does not vanish at
    s = 0 or does not increase with s."""
    bad: list[str] = []
    kind, co = _rg_coeffs(cx, constants, bad)
    theta0, y = np.array(cx["theta0"], np.float64), int(cx["y"])
    ss = [float(v) for v in cx.get("s", [10 ** (-3 + 0.25 * i) for i in range(13)])]
    b2 = [_rg_bias2(s * theta0, y, co) for s in [0.0] + ss]
    if not _near(b2[0], float(cx["bias2_at_0"]), 1e-9, 1e-24):
        bad.append(f"stored bias^2 at s = 0 {cx['bias2_at_0']!r} differs from the recomputed {b2[0]:.6g}")
    if "bias2" in cx and (len(cx["bias2"]) != len(ss)
                          or not all(_near(a, float(s), 1e-9, 1e-24) for a, s in zip(b2[1:], cx["bias2"]))):
        bad.append("stored bias^2 along s differs from the recomputed")
    vanishes = b2[0] <= ZERO
    increasing = all(b2[i + 1] > b2[i] for i in range(1, len(b2) - 1))
    ok = len(ss) >= 2 and not (vanishes and increasing) and not bad
    return ok, f"{kind}: bias^2 at s = 0 is {b2[0]:.3g}, increasing on the grid: {increasing}" + _with(bad)


def _rg_spread(cx, reading, constants):
    """A θ of spread at most the row's ``spread_at_most`` where bias² (the row's coefficients)
    is at least ``bias2_at_least``: the bias does not vanish with the spread."""
    bad: list[str] = []
    kind, co = _rg_coeffs(cx, constants, bad)
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    b2 = _rg_bias2(theta, y, co)
    spread = float(theta.max() - theta.min())
    if not _near(b2, float(cx["bias2"]), 1e-9, 1e-24):
        bad.append(f"stored bias^2 {cx['bias2']!r} differs from the recomputed {b2:.12g}")
    if not _near(spread, float(cx["spread"]), 1e-6, 1e-15):
        bad.append(f"stored spread {cx['spread']!r} differs from the recomputed {spread:.6g}")
    ok = spread <= float(constants["spread_at_most"]) and b2 >= float(constants["bias2_at_least"]) and not bad
    return ok, f"theta spread {spread:.3g}: {kind} bias^2 = {b2:.6g} (stored {cx['bias2']})" + _with(bad)


def _rg2_squared(cx, reading, constants):
    """RG² (the row's coefficients) against the row's squared form r = a n e_y + b 1,
    const = c log n + d (n − 1), at the stored (θ, y)."""
    bad: list[str] = []
    _, co = _rg_coeffs(cx, constants, bad)
    form = constants["squared_form"]
    theta, y = np.array(cx["theta"], np.float64), int(cx["y"])
    n = theta.size
    r = np.full(n, float(form["ones"]))
    r[y] += float(form["n_e_y"]) * n
    const = float(form["log_n"]) * math.log(n) + float(form["n_minus_1"]) * (n - 1)
    sq = float(((theta - r) ** 2).sum() / (2 * n) + const)
    loss = E.rg_loss_coeffs(theta, y, *co)
    for key, val in (("loss", loss), ("squared", sq)):
        if not _close(float(cx[key]), val):
            bad.append(f"stored {key} {cx[key]!r} differs from the recomputed {val:.12g}")
    return not _close(loss, sq) and not bad, f"RG^2 loss {loss:.12g} vs weighted squared form {sq:.12g}" + _with(bad)


def _sgd_bound(cx, reading, constants):
    """A deterministic estimator's full-batch run, re-run here in numpy from the stored data
    (X, y, W*, T) with the row's ridge λ = μ and step η = 1/L, L = λ + ½ λ_max(XᵀX/N): its
    bias b measured along this run and at W*, the start s_0 = ‖W*‖ + ‖∇F(W*)‖/μ and slack
    ‖∇F(W*)‖/μ + fp_slack (1 + ‖W*‖) recomputed, the bound from b (σ² = 0), against
    ‖W_T − W*‖²."""
    if constants.get("step") != "1/L" or constants.get("mu") != "lambda":
        return False, f"unknown step or strong-convexity rule in the row's constants ({constants})"
    lam = mu = float(constants["lambda"])
    X, y = np.array(cx["X"], np.float64), np.array(cx["y"], np.int64)
    W_star = np.array(cx["W_star"], np.float64)
    eta = 1.0 / (lam + 0.5 * float(np.linalg.eigvalsh(X.T @ X / X.shape[0])[-1]))
    bad = [f"stored {k} = {cx[k]!r} is not the row's {v:.12g}" for k, v in (("lam", lam), ("mu", mu), ("eta", eta))
           if not _near(float(cx[k]), v, 1e-9, 0.0)]
    run = E.sgd_run(cx, eta, lam)
    if run is None:
        return False, f"{cx.get('estimator')}: not a deterministic estimator; its run cannot be re-run from stored data"
    s2_T, b = run
    w, eps = float(np.linalg.norm(W_star)), E.sgd_grad_norm(X, y, W_star, lam) / mu
    s0, slack = w + eps, eps + float(constants["fp_slack"]) * (1.0 + w)
    bound2 = (E.radius_after(int(cx["T"]), s0, b, 0.0, eta, mu) + slack) ** 2
    for key, val, rel, floor in (("s0", s0, 1e-9, 1e-12), ("slack", slack, 1e-2, 1e-13), ("b", b, 1e-6, 1e-12),
                                 ("sigma2", 0.0, 0.0, 0.0), ("s2_T", s2_T, 1e-6, 1e-24),
                                 ("s2_T_lcb", s2_T, 1e-6, 1e-24), ("bound2", bound2, 1e-6, 1e-24)):
        if not _near(float(cx[key]), val, rel, floor):
            bad.append(f"stored {key} {cx[key]!r} differs from the recomputed {val:.6g}")
    ok = s2_T > bound2 and not bad
    return ok, (f"{cx['estimator']}: re-run ||W_T - W*||^2 = {s2_T:.6g} (stored {cx['s2_T']:.6g}), bias along the run "
                f"b = {b:.6g} (stored {cx['b']:.6g}), bound {bound2:.6g} (stored {cx['bound2']:.6g})" + _with(bad))


def _sgd_radius(cx, reading, constants):
    """The fixed-point radius s*(b, σ²) at a stored (η, μ) with 0 < ημ < 1 and two increasing
    values of b and of σ²: a counterexample is a radius that does not grow."""
    eta, mu = float(cx["eta"]), float(cx["mu"])
    (b1, b2), (s1, s2) = [float(v) for v in cx["b"]], [float(v) for v in cx["sigma2"]]
    if not (eta > 0 and mu > 0 and eta * mu < 1 and 0 <= b1 < b2 and 0 <= s1 < s2):
        return False, (f"outside the claim's domain or not increasing: eta = {eta}, mu = {mu}, b = {cx['b']}, "
                       f"sigma2 = {cx['sigma2']}")

    def rad(b, s2):
        rho = 1 - eta * mu
        den = 1 - rho * rho
        return (rho * eta * b + math.sqrt((rho * eta * b) ** 2 + den * eta * eta * (b * b + s2))) / den

    grows = rad(b2, s1) > rad(b1, s1) and rad(b1, s2) > rad(b1, s1)
    return not grows, f"the fixed-point radius grows with b and sigma^2: {grows}"


SHAPES = {"law-decomposition": _law, "sampling-increase": _increase, "deterministic": _deterministic,
          "ssm-iff": _ssm_iff, "nce-limit": _nce_limit, "nce-population": _nce_population,
          "hsm-trees": _hsm_trees, "hsm-h1": _h1, "rg-scale": _rg_scale, "rg-spread": _rg_spread,
          "rg2-squared": _rg2_squared, "sgd-bound": _sgd_bound, "sgd-radius": _sgd_radius}


def recheck_apx(cx: dict, reading: str = "", constants: dict | None = None, check: str = "") -> tuple[bool, str]:
    """Dispatch on the row's constants: ``constants["recheck"][check]`` names the re-check
    the counterexample of ``check`` gets (never the counterexample's own ``shape``, which
    must agree with it where stored); the re-check then recomputes with the row's constants."""
    constants = dict(constants or {})
    table = constants.get("recheck")
    if not isinstance(table, dict) or check not in table:
        return False, f"the row's constants name no re-check for check {check!r} (recheck: {table!r})"
    shape = table[check]
    fn = SHAPES.get(shape)
    if fn is None:
        return False, f"the row's constants name an unknown re-check {shape!r} for check {check!r}"
    stored = cx.get("shape")
    if stored is not None and stored != shape:
        return False, (f"a counterexample of shape {stored!r} stored under check {check!r}, whose row's constants "
                       f"name the re-check {shape!r}")
    return fn(cx, reading, constants)


#: claim id -> re-check(counterexample, reading, row constants, check) -> (re-checked?, message)
RECHECKERS = {f"APX-{i}": recheck_apx for i in range(1, 7)}
