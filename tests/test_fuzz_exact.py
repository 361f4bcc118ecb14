"""Issue 22, "keep the fuzz": the public API of the exact losses (``losses.get`` for
softmax, sparsemax, entmax (α) and rankmax (k); ``predict``, ``conjugate``, ``omega``, the
loss with class indices and with label vectors, its backward) under hostile input.

For every drawn input the outcome is one of
* correct: the input is valid and the result matches an independent reference;
* named error: the input carries one planted defect and the call raises ``ValueError``
  (``TypeError`` for a wrong type) whose message names the offending argument;
* other: anything else (another exception, a valid input refused, an invalid one
  accepted, a wrong value).  There must be none; the counts are printed by the last test.

References (independent of the suite, in tests/fuzz_refs.py): the Euclidean maps (sparsemax: the simplex, rankmax:
C_k = {p ∈ [0,1]ⁿ : Σp = k}) by the exact partition formula in ``fractions.Fraction``
(Duchi et al. 2008 for Δ; for C_k a top set at 1, a free set at θ − τ and the rest at 0);
softmax in mpmath; α-entmax ŷ_i = [(α−1)(θ_i − m) − τ]_+^{1/(α−1)} (Peters et al. 2019)
with τ solved in mpmath at 50 digits; the loss L = ⟨θ − m, ŷ − y⟩ − Ω(ŷ) + Ω(y) and
Ω*(θ) = m·s + ⟨θ − m, ŷ⟩ − Ω(ŷ) (Blondel et al. 2020, s = Σŷ) from those; the ``entmax``
package at moderate magnitudes.

Tolerances, ε the working precision of θ (of p for Ω): ŷ and ∇L = ŷ − y within 16ε per
entry (ŷ has Lipschitz constant ≤ 1 in θ − m, and its entries lie in [0, 1]); ŷ in its
domain (Σŷ = s within √ε·s, 0 ≤ ŷ ≤ 1); values within 16ε·(|value| + Σ_i |θ_i − m|(ŷ_i +
y_i) + Σ_i y_i |∇Ω(y)_i| + 1) -- the rounding of θ − m and of y to θ's dtype, weighted by
the terms they enter.  Ω has two forms that agree on the domain and differ off it by the
labels' rounding (Tsallis: (Σp^α − 1)/(α(α−1)) and Σ p·expm1((α−1) log p)/(α(α−1))); a
value matching either form within its own tolerance is correct.  A value past the dtype's
range is correct as ±inf.  Rankmax with k ≥ 2 adds the documented error of its frame
(``frame_slack``: ε·W, W ≤ losses/regularizers.far(dtype)) to each of these.
"""
from __future__ import annotations

import collections
import math
import re
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fuzz_refs import Ref, close, conjugate_ref, loss_ref
from losses import get
from losses.regularizers import far

# the tally test must run after the whole fuzz, in the same process: under pytest-xdist
# (--dist loadgroup) the module's tests all go to one worker, in file order
pytestmark = pytest.mark.xdist_group("fuzz-exact")
TALLY: collections.Counter = collections.Counter()
DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
FUZZ = dict(derandomize=True, deadline=None, database=None, suppress_health_check=list(HealthCheck))
C = 16  # ulps of the working precision (module docstring)


# ------------------------------------------------------------------ the judge
def frame_slack(row: list[float], ref: Ref, dtype: torch.dtype) -> float:
    """Rankmax with k ≥ 2 solves a row in the frame of its maximum m while θ_[k+1] lies within
    W_max = far(dtype) of m (losses/regularizers.far: 2^15 for float64, 2^10 for float32, 1
    for float16/bfloat16; a documented bound kept for bit-identical float32/float64 results)
    and in the frame of θ_[k] past it: the free entries' θ − m carry an error ε·|θ − m|, so
    ŷ is accurate to ε·(1 + W), W = max |θ_i − m| ≤ W_max (ε·W ≤ 7e-12 for float64, 1.2e-4
    for float32, ε itself for float16/bfloat16)."""
    if ref.name != "rankmax" or ref.k < 2:
        return 0.0
    m = max(t for t in row if t != -math.inf)
    return max([m - t for t in row if t != -math.inf and m - t <= far(dtype)], default=0.0)


COVER: collections.Counter = collections.Counter()


def judge(call, expect: tuple[str, type] | None, check=None, show=lambda: ""):
    """Run ``call``; with a planted defect ``expect`` = (argument, error type) it must raise
    that error naming the argument, without one it must return a result ``check`` accepts.
    Any other outcome is tallied as "other" and fails the test at once."""
    TALLY["other"] += 1  # until shown otherwise
    try:
        out = call()
    except (ValueError, TypeError) as e:
        if expect is None:
            raise AssertionError(f"a valid input was refused: {type(e).__name__}: {e}; {show()}") from e
        arg, kind = expect
        if not isinstance(e, kind) or not re.search(rf"(?<![\w.]){re.escape(arg)}(?!\w)", str(e)):
            raise AssertionError(f"expected {kind} naming {arg!r}, got {type(e).__name__}: {e}; {show()}") from e
        TALLY["other"] -= 1
        TALLY["named error"] += 1
        return None
    except Exception as e:  # noqa: BLE001 -- the point of the fuzz
        raise AssertionError(f"not a named error: {type(e).__name__}: {e}; {show()}") from e
    if expect is not None:
        raise AssertionError(f"invalid input ({expect[0]}) accepted, returned {out!r}; {show()}")
    with mpmath.workdps(50):
        check(out)
    TALLY["other"] -= 1
    TALLY["correct"] += 1
    return out


# ------------------------------------------------------------------ strategies
def draw_spec(data, defect_ok: bool) -> tuple[str, dict, Ref, tuple | None]:
    """A loss spec; with ``defect_ok`` sometimes a bad α or k (the planted defect)."""
    name = data.draw(st.sampled_from(["softmax", "sparsemax", "entmax", "rankmax"]))
    bad = defect_ok and data.draw(st.integers(0, 9)) == 0
    if name == "entmax":
        if bad:
            alpha, kind = data.draw(st.sampled_from([
                (0.5, ValueError), (1 - 1e-12, ValueError), (0, ValueError), (-2, ValueError), (math.nan, ValueError),
                (math.inf, ValueError), (True, TypeError), (False, TypeError), ("1.5", TypeError), (None, TypeError),
                (1.5j, TypeError), ([1.5], TypeError), (torch.tensor([1.5, 2.0]), TypeError)]))
            return name, {"alpha": alpha}, None, ("alpha", kind)
        alpha = data.draw(st.sampled_from([1.5, 1.5, 2, 1 + 1e-12, 1 + 1e-9, 1 + 1e-6, 1.001, 1.01, 1.1, 1.25,
                                           1.75, 2.5, 3.0, 1, np.float64(1.3), torch.tensor(1.5)]))
        return name, {"alpha": alpha}, Ref(name, alpha=float(alpha)), None
    if name == "rankmax":
        if bad:
            k, kind = data.draw(st.sampled_from([(0, ValueError), (-1, ValueError), (2.5, TypeError), (True, TypeError),
                                                 ("2", TypeError), (2.0, TypeError), (None, ValueError)]))
            return name, {"k": k}, None, ("k", kind)
        k = data.draw(st.sampled_from([1, 1, 2, 2, 3, 3, np.int64(2), torch.tensor(1)]))
        return name, {"k": k}, Ref(name, k=int(k)), None
    return name, {}, Ref(name), None


def draw_values(data, dtype: torch.dtype, count: int) -> list[float]:
    fi = torch.finfo(dtype)
    big, tiny, sub = fi.max, fi.tiny, fi.tiny * fi.eps
    regime = data.draw(st.sampled_from(["ordinary", "extreme", "mixed", "ties"]))
    ordinary = st.floats(-4, 4, allow_nan=False, width=16) | st.sampled_from([0.0, 1.0, -1.0, 0.5, 2.0])
    extreme = st.sampled_from([big, -big, big / 2, -big / 2, big * (1 - fi.eps), tiny, -tiny, sub, -sub, 0.0,
                               -0.0, min(1e4, big / 4), -min(1e4, big / 4), big ** 0.5, -(big ** 0.5), 1e3, -1e2, 30.0])
    pool = {"ordinary": ordinary, "extreme": extreme, "mixed": ordinary | extreme,
            "ties": st.sampled_from(data.draw(st.lists(ordinary | extreme, min_size=1, max_size=2)))}[regime]
    return data.draw(st.lists(pool, min_size=count, max_size=count)), regime


def draw_theta(data, k: int, dtype: torch.dtype, allow_defect: bool) -> dict:
    """θ with the classes along axis ``pos`` (passed as ``dim`` = pos or pos − ndim), −inf
    masks keeping ≥ k finite scores per row, and maybe one planted defect."""
    n = max(data.draw(st.sampled_from([1, 2, 2, 3, 4, 5, 7])), k)
    batch = data.draw(st.sampled_from([(), (1,), (3,), (2, 2)]))
    rows = int(np.prod(batch)) if batch else 1
    values, regime = draw_values(data, dtype, rows * n)
    vals = torch.tensor(values, dtype=torch.float64).reshape(rows, n)
    if data.draw(st.booleans()):  # masks
        for r in range(rows):
            keep = data.draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=n, unique=True))
            for j in data.draw(st.lists(st.integers(0, n - 1), max_size=n, unique=True)):
                if j not in keep:
                    vals[r, j] = -math.inf
    kind = data.draw(st.sampled_from(["none"] * 24 + ["nan", "posinf", "fullmask", "fewmask", "dim", "dimtype",
                                                     "int", "list"])) if allow_defect else "none"
    defect = None
    r, j = data.draw(st.integers(0, rows - 1)), data.draw(st.integers(0, n - 1))
    if kind in ("nan", "posinf"):
        vals[r, j] = math.nan if kind == "nan" else math.inf
        defect = ("theta", ValueError)
    elif kind == "fullmask" or (kind == "fewmask" and k > 1):
        vals[r, : n if kind == "fullmask" else n - k + 1] = -math.inf
        defect = ("theta", ValueError)
    nd = len(batch) + 1
    pos = data.draw(st.integers(0, nd - 1))
    theta = vals.to(dtype).reshape(*batch, n).movedim(-1, pos).contiguous()
    dim = pos if data.draw(st.booleans()) else pos - nd
    if kind == "dim":
        dim, defect = data.draw(st.sampled_from([nd, -nd - 1, nd + 3, -nd - 5])), ("dim", ValueError)
    elif kind == "dimtype":
        dim, defect = data.draw(st.sampled_from([float(pos), True, str(pos), None])), ("dim", TypeError)
    elif kind == "int":
        theta, defect = theta.nan_to_num(0.0, 0.0, 0.0).clamp(-100, 100).long(), ("theta", ValueError)
    elif kind == "list":
        theta, defect = theta.tolist(), ("theta", (ValueError, TypeError))
    return dict(theta=theta, dim=dim, pos=pos, batch=batch, n=n, defect=defect, regime=regime, dtype=dtype,
                flat=vals.to(dtype).double().tolist())


def cover(case: dict, ref: Ref, what: str) -> None:
    """What the valid inputs of the fuzz reached (printed with the counts)."""
    tags = [what, str(case["dtype"]).replace("torch.", ""), case["regime"]]
    tags += ["n = 1"] * (case["n"] == 1) + ["masks"] * any(-math.inf in r for r in case["flat"])
    tags += ["class axis not last"] * (case["pos"] != len(case["batch"]))
    tags += [f"{ref.name} k = {ref.k}" if ref.name == "rankmax" else ref.name]
    tags += ["alpha - 1 < 1e-3"] * (ref.name == "entmax" and 1 < ref.alpha < 1.001)
    COVER.update(tags)


def rows_of(t: torch.Tensor, dim: int, n: int) -> torch.Tensor:
    return t.movedim(dim, -1).reshape(-1, n).double()


def check_map(p: torch.Tensor, case: dict, ref: Ref):
    n, dtype, eps = case["n"], case["dtype"], torch.finfo(case["dtype"]).eps
    assert p.dtype == dtype and p.shape == case["theta"].shape
    got = rows_of(p, case["pos"], n)
    for row, g in zip(case["flat"], got):
        want = ref.map(row)
        err = max(abs(mpmath.mpf(float(g[i])) - want[i]) for i in range(n))
        assert err <= C * eps * (1 + frame_slack(row, ref, dtype)), (row, g.tolist(), want)
    assert bool(((got >= 0) & (got <= 1)).all()), got
    assert bool(((got.sum(-1) - ref.mass).abs() <= eps ** 0.5 * ref.mass).all()), got.sum(-1)


# ------------------------------------------------------------------ fuzz: predict and conjugate
def check_conjugate(c: torch.Tensor, case: dict, ref: Ref, dtype: torch.dtype):
    assert c.dtype == dtype and tuple(c.shape) == tuple(case["batch"])
    eps = torch.finfo(dtype).eps
    got = c.reshape(-1).double().tolist()
    for b, row in enumerate(case["flat"]):
        forms = conjugate_ref(row, ref.map(row), ref)
        w = frame_slack(row, ref, dtype)
        if not any(close(got[b], v, C * eps * (s + len(row) * w * (1 + w)), dtype) for v, s in forms):
            raise AssertionError((row, got[b], [float(v) for v, _ in forms]))


def draw_scores(data) -> tuple[str, dict, Ref, tuple | None, torch.dtype, dict]:
    """A loss (maybe with a planted defect of its parameters), a dtype and scores for it
    (a planted defect of the scores only where the parameters carry none), in that order."""
    name, params, ref, defect = draw_spec(data, defect_ok=True)
    dtype = data.draw(st.sampled_from(DTYPES))
    return name, params, ref, defect, dtype, draw_theta(data, ref.k if ref else 1, dtype, allow_defect=defect is None)


@settings(max_examples=800, **FUZZ)
@given(st.data())
def test_fuzz_predict_and_conjugate(data):
    name, params, ref, defect, dtype, case = draw_scores(data)
    if defect is None and case["defect"] is None and name == "rankmax" and data.draw(st.integers(0, 5)) == 0:
        params, defect = {"k": case["n"] + 1}, ("k", ValueError)  # k > n: refused once n is known
    defect = defect or case["defect"]
    theta, dim, n = case["theta"], case["dim"], case["n"]
    if judge(lambda: get(name, **params).predict(theta, dim=dim), defect,
             lambda p: check_map(p, case, ref)) is not None:
        cover(case, ref, "predict")
    judge(lambda: get(name, **params).conjugate(theta, dim=dim), defect,
          lambda c: check_conjugate(c, case, ref, dtype))


# ------------------------------------------------------------------ fuzz: the loss and its gradient
def draw_labels(data, flat, ref: Ref, n: int, dtype: torch.dtype) -> list[list[float]]:
    """Valid label rows (B, n), exact floats of ``dtype``, on unmasked classes only: one-hot
    / multi-hot, dyadic (counts summing to 2^j: exact mass), uniform k/|live| and
    normalized in the labels' dtype (v / Σv: mass to rounding)."""
    ys = []
    for row in flat:
        live = [i for i, t in enumerate(row) if t != -math.inf] or list(range(n))
        form = data.draw(st.sampled_from(["hot", "dyadic", "uniform", "normalized"]))
        y = torch.zeros(n, dtype=torch.float64)
        if form == "hot" or len(live) == 1:
            y[data.draw(st.permutations(live))[: ref.k]] = 1.0
        elif form == "dyadic" and ref.k == 1:
            j = data.draw(st.integers(0, 4))
            for i in data.draw(st.lists(st.sampled_from(live), min_size=2 ** j, max_size=2 ** j)):
                y[i] += 2.0 ** -j
        elif form == "normalized" and ref.k == 1:
            v = torch.tensor(data.draw(st.lists(st.floats(0.0625, 1.0, width=16), min_size=len(live),
                                                max_size=len(live))), dtype=dtype)
            y[live] = (v / v.sum()).double()
        else:
            y[live] = torch.tensor(ref.k / len(live), dtype=dtype).double()
        ys.append(y.to(dtype).double().tolist())
    return ys


def draw_target(data, case: dict, ref: Ref | None, ydt: torch.dtype, may_plant: bool = True):
    """(target: class indices or label vectors, its label rows as exact floats, planted defect or None)."""
    n, pos, batch, flat = case["n"], case["pos"], case["batch"], case["flat"]
    k = ref.k if ref is not None else 1
    masked0 = [i for i, t in enumerate(flat[0]) if t == -math.inf][:1]  # a masked class of row 0, if any
    how = data.draw(st.sampled_from(["neg", "big", "shape", "bool", "float", "masked", "list", "mass", "cap"])) \
        if may_plant and data.draw(st.integers(0, 4)) == 0 else ""
    how = "" if how == "masked" and not masked0 else how
    if data.draw(st.booleans()):  # class indices
        idx = torch.tensor([data.draw(st.sampled_from([i for i, t in enumerate(r) if t != -math.inf] or [0])) for r in flat])
        ys = [[float(i == j) for i in range(n)] for j in idx.tolist()]
        idt = data.draw(st.sampled_from([torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8]))
        bad = idx.clone()
        bad[0] = masked0[0] if how == "masked" else bad[0]
        target = {"neg": lambda: (idx - n - 1).reshape(batch), "big": lambda: torch.full_like(idx, n).reshape(batch),
                  "mass": lambda: torch.full_like(idx, 200).to(idt).reshape(batch), "cap": lambda: idx[:0],
                  "shape": lambda: torch.zeros(len(flat) + 1, dtype=torch.long), "bool": lambda: idx.bool().reshape(batch),
                  "float": lambda: idx.double().reshape(batch), "list": lambda: idx.reshape(batch).tolist(),
                  }.get(how, lambda: bad.to(idt).reshape(batch))()
        kind = {"bool": TypeError, "list": (ValueError, TypeError)}.get(how, ValueError)
        return target, ys, ("target", kind) if how else (("target", ValueError) if k != 1 else None)
    as_vectors = lambda y: torch.tensor(y, dtype=torch.float64).to(ydt).reshape(*batch, n).movedim(-1, pos)  # noqa: E731
    ys = draw_labels(data, flat, ref, n, ydt) if ref is not None else [[1.0] + [0.0] * (n - 1) for _ in flat]
    y = [list(r) for r in ys]
    if how in ("neg", "big"):
        y[0][0] = -0.25 if how == "neg" else math.nan
    elif how == "mass":
        scale = 1.125 if data.draw(st.booleans()) else 0.875  # one for the row: the mass moves by 1/8
        y[0] = [v * scale for v in y[0]]
    elif how == "cap":
        y[0] = [k + 0.5] + [-0.5] + [0.0] * (n - 2) if n > 1 else [k + 0.5]
    elif how == "masked":
        live = [i for i in range(n) if i != masked0[0]]
        y[0] = [float(i == masked0[0] or i in live[: k - 1]) for i in range(n)]
    target = {"shape": lambda: torch.cat([as_vectors(ys), as_vectors(ys)], pos), "float": lambda: as_vectors(ys).long(),
              "bool": lambda: as_vectors(ys) > 0, "list": lambda: as_vectors(ys).tolist()}.get(how, lambda: as_vectors(y))()
    kind = (ValueError, TypeError) if how in ("bool", "list") else ValueError
    return target, [torch.tensor(r, dtype=torch.float64).to(ydt).double().tolist() for r in ys], \
        ("target", kind) if how else None


def check_loss(out, th, target, case: dict, ys, ref: Ref, dtype: torch.dtype, loss_fn):
    eps = torch.finfo(dtype).eps
    n, pos, flat = case["n"], case["pos"], case["flat"]
    assert out.dtype == dtype and tuple(out.shape) == tuple(case["batch"])
    got = out.detach().reshape(-1).double().tolist()
    maps = [ref.map(row) for row in flat]
    for b, row in enumerate(flat):
        forms = loss_ref(row, maps[b], [Fraction(v) for v in ys[b]], ref)
        w = frame_slack(row, ref, dtype)  # ŷ's error ε(1 + w) times |θ_i − m| ≤ w on n entries
        if not any(close(got[b], v, C * eps * (s + n * w * (1 + w)), dtype) for v, s in forms):
            raise AssertionError((row, ys[b], got[b], [float(v) for v, _ in forms]))
    (g1,) = torch.autograd.grad(out, th, torch.ones_like(out))
    # the differentiable backward (create_graph=True) must give the same first derivative
    (g2,) = torch.autograd.grad(loss_fn(), th, torch.ones_like(out), create_graph=True)
    for grad in (g1, g2):
        assert grad.dtype == dtype
        gr = rows_of(grad.detach(), pos, n)
        for b, row in enumerate(flat):
            for i in range(n):
                want = maps[b][i] - mpmath.mpf(ys[b][i]) if row[i] != -math.inf else 0
                if abs(mpmath.mpf(float(gr[b, i])) - want) > C * eps * (1 + abs(ys[b][i]) + frame_slack(row, ref, dtype)):
                    raise AssertionError((row, ys[b], gr[b].tolist()))


@settings(max_examples=1200, **FUZZ)
@given(st.data())
def test_fuzz_loss_and_backward(data):
    name, params, ref, defect, dtype, case = draw_scores(data)
    ydt = data.draw(st.sampled_from([dtype, dtype, torch.float64, torch.float32, torch.float16]))
    target, ys, tdefect = draw_target(data, case, ref, ydt, may_plant=not (defect or case["defect"]))
    expect = defect or case["defect"] or tdefect
    theta, dim = case["theta"], case["dim"]
    th = theta.clone().requires_grad_(True) if isinstance(theta, torch.Tensor) and theta.is_floating_point() else theta
    loss_fn = lambda: get(name, **params)(th, target, dim=dim)  # noqa: E731
    show = lambda: f"theta = {theta!r}, target = {target!r}, dim = {dim!r}"  # noqa: E731
    if judge(loss_fn, expect, lambda out: check_loss(out, th, target, case, ys, ref, dtype, loss_fn), show) is not None:
        cover(case, ref, "loss")


# ------------------------------------------------------------------ fuzz: Ω
@settings(max_examples=300, **FUZZ)
@given(st.data())
def test_fuzz_omega(data):
    name, params, ref, defect = draw_spec(data, defect_ok=True)
    dtype = data.draw(st.sampled_from(DTYPES))
    n = max(data.draw(st.sampled_from([1, 2, 3, 5])), ref.k if ref else 1)
    r = ref or Ref("softmax")
    ys = draw_labels(data, [[0.0] * n] * 2, r, n, dtype)
    p = torch.tensor(ys, dtype=torch.float64).to(dtype)
    how = data.draw(st.sampled_from(["ok"] * 4 + ["neg", "mass", "nan", "inf", "list", "int"])) if defect is None else "ok"
    if how in ("neg", "mass", "nan", "inf"):
        p = p.clone()
        p[0, 0] = {"neg": -0.5, "mass": p[0, 0] + 0.5, "nan": math.nan, "inf": math.inf}[how]
        defect = ("p", ValueError)
    elif how == "list":
        p, defect = p.tolist(), ("p", (ValueError, TypeError))
    elif how == "int":
        p, defect = p.long(), ("p", (ValueError, TypeError))
    eps = torch.finfo(dtype).eps

    def ok(out):
        assert out.shape == (2,)
        for b in range(2):
            assert any(close(float(out[b]), v, C * eps * (abs(v) + g + 1), dtype)
                       for v, g in ref.omegas([Fraction(x) for x in p[b].double().tolist()])), (p[b], out[b])
    judge(lambda: get(name, **params).omega(p), defect, ok)


# ------------------------------------------------------------------ fuzz: the entmax package
@settings(max_examples=200, **FUZZ)
@given(st.data())
def test_fuzz_against_the_entmax_package(data):
    """sparsemax and 1.5-entmax (exact sort algorithms of the ``entmax`` package) and
    α-entmax (its bisection, 50 halvings: within 1e-10) at moderate magnitudes, float64."""
    import entmax

    alpha = data.draw(st.sampled_from([2.0, 1.5, 1.2, 1.3, 1.75, 2.5]))
    B, n = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 9))
    scale = data.draw(st.sampled_from([0.1, 1.0, 5.0, 100.0]))
    theta = torch.tensor(data.draw(st.lists(st.floats(-1, 1, width=32), min_size=B * n, max_size=B * n)),
                         dtype=torch.float64).reshape(B, n) * scale
    y = torch.tensor(data.draw(st.lists(st.integers(0, n - 1), min_size=B, max_size=B)))
    loss = get("sparsemax") if alpha == 2 else get("entmax", alpha=alpha)
    pkg, pkg_loss, tol = {2.0: (entmax.sparsemax, entmax.SparsemaxLoss(reduction="none"), 1e-12),
                          1.5: (entmax.entmax15, entmax.Entmax15Loss(reduction="none"), 1e-12)}.get(
        alpha, (lambda t, dim: entmax.entmax_bisect(t, alpha, dim), entmax.EntmaxBisectLoss(alpha, reduction="none"), 1e-10))
    judge(lambda: loss.predict(theta), None, lambda p: (p - pkg(theta, dim=-1)).abs().max() <= tol or _fail(p))
    judge(lambda: loss(theta, y), None, lambda out: (out - pkg_loss(theta, y)).abs().max() <= tol * (1 + scale) or _fail(out))


def _fail(x):
    raise AssertionError(f"differs from the entmax package: {x}")


def test_zz_outcome_counts():
    """The tally of the fuzz above (run after it, in file order): no other outcome."""
    print(f"\nfuzz outcomes (exact losses): correct {TALLY['correct']}, named error {TALLY['named error']}, "
          f"other {TALLY['other']}"
          + "\nvalid inputs checked (predict, loss) by tag: " + ", ".join(f"{k}: {v}" for k, v in sorted(COVER.items())))
    # an empty tally would pass vacuously: the fuzz ran in another process, or not at all
    assert TALLY["correct"] and TALLY["named error"], "the fuzz above did not run in this process"
    assert TALLY["other"] == 0, dict(TALLY)
