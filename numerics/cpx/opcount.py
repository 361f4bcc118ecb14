"""A deterministic arithmetic-operation counter for blocks of torch code (CPX-1).

:class:`OpCounter` is a ``TorchDispatchMode``: every ATen operator that runs inside it
(forward *and* backward -- autograd's backward ops dispatch through the mode too) is
charged by a cost model that depends only on the operator and the **shapes** of its
arguments and results, never on timings, threads or values.  A block of code that runs
the same operators on the same shapes therefore gets the same count on every run and
every machine; data-dependent control flow (a top-K slice widened when a support does
not fit, a rejection sampler that redraws) is deterministic once the seed is.

Cost model (one "flop" = one arithmetic operation; ``numel`` = number of elements)

===========================================  ===============================================
operator family                               charge
===========================================  ===============================================
matmul: ``mm, addmm, bmm, baddbmm`` (and      torch's own formulas
everything with a formula in                  (``torch.utils.flop_counter.flop_registry``):
``torch.utils.flop_counter.flop_registry``;   2 per multiply-add, so ``mm`` of (a, b)·(b, c)
``einsum``/``matmul`` lower to these)         is ``2abc``; the bias add of ``addmm`` is free
``mv, addmv`` / ``dot, vdot``                 ``2·rows·cols`` / ``2·len``
``sort, msort, argsort``                      ``numel · log2(size along dim)`` (comparison
                                              sort; ``round`` to an integer per call)
``topk(k)``                                   ``numel_in + numel_out · log2(k)``: linear-time
                                              selection, then sorting the k selected
                                              (torch returns them sorted); with
                                              ``topk="sort"``: ``numel_in · log2(size)``
``kthvalue, median(dim)``                     ``numel_in`` (linear-time selection)
``searchsorted``                              ``numel(values) · log2(len(sorted))``
``multinomial``                               ``numel(probs) + numel(out) · log2(#classes)``
                                              (cumulative distribution, then binary search)
``linalg`` (per matrix in the batch,          ``_linalg_solve_ex``: ``2d³/3 + 2d²k``;
d × d, k right-hand sides)                    ``linalg_lu_factor_ex``, ``linalg_lu``,
                                              ``_linalg_det``: ``2d³/3``;
                                              ``linalg_lu_solve``/``cholesky_solve``: ``2d²k``;
                                              ``linalg_cholesky_ex``: ``d³/3``;
                                              ``linalg_inv_ex``: ``2d³``;
                                              ``triangular_solve``/``linalg_solve_triangular``:
                                              ``d²k``; ``_linalg_eigh``: ``9d³`` (Golub & Van
                                              Loan, Alg. 8.3.3 with vectors); ``linalg_qr`` of
                                              an a × b matrix, a ≥ b: ``2ab² − 2b³/3``
                                              (Householder; ``4d³/3`` when square).  Any other
                                              ``linalg`` operator (svd, lstsq, …) raises
                                              ``NotImplementedError``: the 1-per-element
                                              default would undercount it by a factor ~d²
accumulating scatters: ``scatter_add,         numel of the source (one add per source element);
index_add, index_put(accumulate=True),        ``embedding_dense_backward``: numel of the
scatter_reduce, put(accumulate=True)``        incoming gradient; ``bincount``: numel of input
random draws (``randint, randn, rand,         numel of the output
uniform_, normal_, bernoulli, randperm``)
pure memory (creation, fills, copies,         0
views, indexing, gathers, concatenation,
non-accumulating scatters, masked fills,
``nonzero``, ``embedding``; see
:data:`MEMORY`)
everything else: elementwise maps,            1 per element: the largest numel among the
reductions, scans (``cumsum``), ``where``,    tensor inputs and outputs (a tensor list counts
``_softmax``, ``logsumexp``, ...              its total numel)
===========================================  ===============================================

The last row is a default: the operators it charged are listed in
:attr:`Count.default_ops` so a reader can audit them.  The model counts arithmetic, not
memory traffic: zero-filling a dense (n, d) gradient buffer costs 0 here although it
moves n·d words (wall time sees it).  ``log2`` terms are exact reals rounded once per
call, never ``⌈log2⌉``, so local log–log slopes are not distorted by steps.
"""
from __future__ import annotations

import math
from collections import Counter
from fractions import Fraction
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils.flop_counter import flop_registry

__all__ = ["OpCounter", "Count", "count", "MEMORY", "LOG_RULES", "NotPolynomial"]

aten = torch.ops.aten

# operators that only create, move, view or select data: charged 0
MEMORY = frozenset({
    "empty", "empty_like", "empty_strided", "new_empty", "new_empty_strided", "zeros", "zeros_like", "new_zeros",
    "ones", "ones_like", "new_ones", "full", "full_like", "new_full", "scalar_tensor", "arange", "eye", "linspace",
    "fill", "fill_", "zero", "zero_", "copy", "copy_", "_to_copy", "clone", "contiguous", "detach", "lift_fresh",
    "lift_fresh_copy", "alias", "view", "_unsafe_view", "reshape", "_reshape_alias", "view_as", "expand", "expand_as",
    "permute", "t", "transpose", "squeeze", "unsqueeze", "slice", "select", "as_strided", "narrow", "split",
    "split_with_sizes", "unbind", "chunk", "flip", "roll", "repeat", "repeat_interleave", "unfold", "diagonal",
    "index", "index_select", "gather", "cat", "stack", "scatter", "scatter_", "index_copy", "index_copy_",
    "index_fill", "index_fill_", "masked_fill", "masked_fill_", "masked_scatter", "masked_select", "nonzero",
    "embedding", "constant_pad_nd", "_local_scalar_dense", "_linalg_check_errors", "set_", "resize_", "tril",
    "triu", "_efficientzerotensor", "resolve_conj", "resolve_neg", "_conj", "conj", "unsafe_split",
    "unsafe_split_with_sizes", "slice_scatter", "select_scatter", "diagonal_scatter", "as_strided_scatter",
    "_unsafe_index", "item", "to", "_has_compatible_shallow_copy_type", "is_same_size", "sym_size", "sym_stride",
    "sym_numel", "sym_storage_offset",
})
RANDOM = frozenset({"randint", "randn", "rand", "uniform", "uniform_", "normal", "normal_", "bernoulli", "bernoulli_",
                    "randperm", "exponential_", "random_", "randn_like", "rand_like", "randint_like"})


#: rules whose charge carries a log2 of a size
LOG_RULES = frozenset({"sort", "topk", "searchsorted", "multinomial"})


class NotPolynomial(ValueError):
    """An exact count met an operator whose charge is not a polynomial in the shapes."""


def _numel(x: Any) -> int:
    if isinstance(x, torch.Tensor):
        return x.numel()
    if isinstance(x, (list, tuple)):
        return sum(_numel(v) for v in x)
    return 0


def _log2(k: int) -> float:
    return math.log2(k) if k > 1 else 0.0


def _dim_size(t: torch.Tensor, dim: int) -> int:
    return t.shape[dim] if t.dim() else 1


def _square(a: torch.Tensor) -> tuple[int, int]:
    """(batch, d) of a stack of d × d matrices."""
    d = a.shape[-1]
    return a.numel() // max(d * d, 1), d


def _sort(args, kwargs, out) -> float:
    x = args[0]
    dim = kwargs.get("dim", args[1] if len(args) > 1 and isinstance(args[1], int) else -1)
    return x.numel() * _log2(_dim_size(x, dim))


def _topk_select(args, kwargs, out) -> float:
    x, k = args[0], int(args[1])
    return x.numel() + _numel(out[0]) * _log2(k)


def _topk_sort(args, kwargs, out) -> float:
    x = args[0]
    dim = kwargs.get("dim", args[2] if len(args) > 2 else -1)
    return x.numel() * _log2(_dim_size(x, dim))


def _solve(args, kwargs, out) -> float:
    a, b = args[0], args[1]
    left = kwargs.get("left", args[2] if len(args) > 2 else True)
    batch, d = _square(a)
    k = 1 if b.dim() == a.dim() - 1 else (b.shape[-1] if left else b.shape[-2])
    rows = b.numel() // max(d * k, 1)  # broadcast batch of the right side
    return max(batch, rows) * (Fraction(2 * d ** 3, 3) + 2 * d * d * k)


def _per_matrix(f: Callable[[int], float]) -> Callable:
    def rule(args, kwargs, out) -> float:
        batch, d = _square(args[0])
        return batch * f(d)

    return rule


def _tri_solve(factor_pos: int, rhs_pos: int, coeff: float) -> Callable:
    """Solves with a given factorization: ``coeff · d² · k`` per matrix, the factor at
    ``args[factor_pos]``, the right side (d × k, or a vector) at ``args[rhs_pos]``
    (``linalg_lu_solve(LU, pivots, B)`` has it third)."""

    def rule(args, kwargs, out) -> float:
        fac, b = args[factor_pos], args[rhs_pos]
        batch, d = _square(fac)
        k = b.shape[-1] if b.dim() >= 2 else 1
        return max(batch, b.numel() // max(d * k, 1)) * coeff * d * d * k

    return rule


def _qr(args, kwargs, out) -> float:
    """Householder QR of each a × b matrix: ``2 a b² − 2 b³/3`` for a ≥ b (Golub & Van
    Loan, Alg. 5.2.1), of its transpose otherwise."""
    a_, b_ = args[0].shape[-2], args[0].shape[-1]
    a_, b_ = max(a_, b_), min(a_, b_)
    batch = args[0].numel() // max(a_ * b_, 1)
    return batch * (2 * a_ * b_ * b_ - Fraction(2 * b_ ** 3, 3))


def _lu(d: int) -> Fraction:
    return Fraction(2 * d ** 3, 3)


def _cholesky(d: int) -> Fraction:
    return Fraction(d ** 3, 3)


def _accumulate(pos: int) -> Callable:
    def rule(args, kwargs, out) -> float:
        return _numel(args[pos])

    return rule


def _index_put(args, kwargs, out) -> float:
    acc = kwargs.get("accumulate", args[3] if len(args) > 3 else False)
    return _numel(args[2]) if acc else 0


def _put(args, kwargs, out) -> float:
    acc = kwargs.get("accumulate", args[3] if len(args) > 3 else False)
    return _numel(args[2]) if acc else 0


def _searchsorted(args, kwargs, out) -> float:
    seq, vals = args[0], args[1]
    return _numel(vals) * _log2(seq.shape[-1]) if isinstance(vals, torch.Tensor) else _log2(seq.shape[-1])


def _multinomial(args, kwargs, out) -> float:
    p = args[0]
    return p.numel() + _numel(out) * _log2(p.shape[-1])


def _mv(args, kwargs, out) -> float:
    a = [x for x in args if isinstance(x, torch.Tensor) and x.dim() == 2][0]
    return 2 * a.shape[0] * a.shape[1]


def _dot(args, kwargs, out) -> float:
    return 2 * args[0].numel()


# The operators that reach a dispatch mode (composites such as ``msort``, ``argsort``,
# ``linalg_solve``, ``inverse`` and ``linalg_eigh`` decompose into these before it sees them);
# tests/test_opcount.py has one hand-counted case per key.
_SPECIAL: dict[str, Callable] = {
    "sort": _sort, "kthvalue": lambda a, k, o: a[0].numel(), "median": lambda a, k, o: a[0].numel(),
    "searchsorted": _searchsorted, "multinomial": _multinomial,
    "mv": _mv, "addmv": _mv, "dot": _dot, "vdot": _dot,
    "_linalg_solve_ex": _solve,
    "linalg_lu_factor_ex": _per_matrix(_lu), "linalg_lu": _per_matrix(_lu), "_linalg_det": _per_matrix(_lu),
    "linalg_lu_solve": _tri_solve(0, 2, 2.0), "cholesky_solve": _tri_solve(1, 0, 2.0),
    "linalg_cholesky_ex": _per_matrix(_cholesky), "cholesky": _per_matrix(_cholesky),
    "linalg_inv_ex": _per_matrix(lambda d: 2 * d ** 3),
    "triangular_solve": _tri_solve(1, 0, 1.0), "linalg_solve_triangular": _tri_solve(0, 1, 1.0),
    "_linalg_eigh": _per_matrix(lambda d: 9 * d ** 3),
    "linalg_qr": _qr,
    "scatter_add": _accumulate(3), "scatter_add_": _accumulate(3), "scatter_reduce": _accumulate(3),
    "scatter_reduce_": _accumulate(3), "index_add": _accumulate(3), "index_add_": _accumulate(3),
    "index_put": _index_put, "index_put_": _index_put, "_index_put_impl_": _index_put, "put": _put, "put_": _put,
    "embedding_dense_backward": _accumulate(0), "bincount": _accumulate(0),
}


def _base(name: str) -> str:
    return name.split(".", 1)[1] if name.startswith("aten.") else name


@dataclass(frozen=True)
class Count:
    """The result of a counted block: ``total`` flops, ``by_op`` flops per operator
    (``"aten.mm"`` …, sorted by name), ``calls`` per operator, and ``default_ops``: the
    operators charged by the 1-per-element default rule.  Integers; exact rationals
    (:class:`~fractions.Fraction`) from an ``exact`` counter."""

    total: int | Fraction
    by_op: Mapping[str, int | Fraction]
    calls: Mapping[str, int]
    default_ops: tuple[str, ...]

    def top(self, k: int = 5) -> list[tuple[str, int]]:
        """The k operators with the largest counts (ties by name)."""
        return sorted(self.by_op.items(), key=lambda kv: (-kv[1], kv[0]))[:k]


class OpCounter(TorchDispatchMode):
    """Count the arithmetic of the torch code run inside ``with OpCounter() as c:``.

    ``topk`` selects the model of ``torch.topk`` (module docstring): ``"select"``
    (default; linear-time selection + sorting the k results) or ``"sort"`` (a full sort
    of the row).  Each call's charge is rounded to an integer once, so totals are exact
    integers and identical across runs.  Read the result with :meth:`result`.

    ``exact=True`` keeps every charge as an exact rational (``2d³/3`` is not rounded) and
    raises :class:`NotPolynomial` at the first operator whose rule carries a ``log2``
    (sorts, top-k, binary searches, sampling): the count of such a block is then a
    polynomial in the shapes, with rational coefficients (numerics/cpx/cost_derivation.py)."""

    def __init__(self, topk: str = "select", exact: bool = False):
        super().__init__()
        if topk not in ("select", "sort"):
            raise ValueError(f"topk must be 'select' or 'sort', got {topk!r}")
        self.topk = topk
        self.exact = bool(exact)
        self.flops: Counter[str] = Counter()
        self.ncalls: Counter[str] = Counter()
        self.defaulted: set[str] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        name = str(packet)
        self.ncalls[name] += 1
        base = _base(name)
        if self.exact and base in LOG_RULES:
            raise NotPolynomial(f"aten.{base} is charged a log2 term: the count is not a polynomial in the shapes")
        charge = self._charge(packet, base, args, kwargs, out)
        self.flops[name] += Fraction(charge) if self.exact else int(round(charge))
        return out

    def _charge(self, packet, base: str, args, kwargs, out) -> float:
        if packet in flop_registry:
            return flop_registry[packet](*args, **kwargs, out_val=out)
        if base == "topk":
            return (_topk_select if self.topk == "select" else _topk_sort)(args, kwargs, out)
        if base in _SPECIAL:
            return _SPECIAL[base](args, kwargs, out)
        if base in MEMORY:
            return 0
        if base in RANDOM:
            return _numel(out)
        if base.startswith(("linalg_", "_linalg_")):
            raise NotImplementedError(f"no cost rule for aten.{base} (numerics/cpx/opcount.py): the 1-per-element "
                                      f"default would undercount a matrix factorization")
        self.defaulted.add(f"aten.{base}")
        # per argument (a tensor list counts its total), then per output
        sizes = [_numel(a) for a in (*args, *kwargs.values())]
        sizes += [_numel(o) for o in (out if isinstance(out, tuple) else (out,))]
        return max(sizes, default=0)

    def result(self) -> Count:
        by_op = {k: (self.flops[k] if self.exact else int(self.flops[k])) for k in sorted(self.flops)}
        calls = {k: int(self.ncalls[k]) for k in sorted(self.ncalls)}
        return Count(total=sum(by_op.values()), by_op=by_op, calls=calls, default_ops=tuple(sorted(self.defaulted)))


def count(fn: Callable[..., Any], *args, topk: str = "select", exact: bool = False, **kwargs) -> tuple[Any, Count]:
    """Run ``fn(*args, **kwargs)`` under an :class:`OpCounter`; returns (its value, the count)."""
    with OpCounter(topk=topk, exact=exact) as c:
        value = fn(*args, **kwargs)
    return value, c.result()
