"""Planted defects shared by several claim groups: exact losses whose prediction map is
deliberately wrong.

Each returns a :class:`~reports.claim.Planted` that patches one regularizer class of
``losses/`` for the duration of a check's run, so every route of the check that goes
through ``losses.get(name)`` -- prediction, conjugate, loss value, backward -- sees the
wrong map, while the check's independent references (cvxpy, mpmath, sympy, numpy) do
not.  Subclasses are left alone (patching sparsemax does not patch entmax or rankmax).
The runner clears the functools caches of ``losses/``, ``proofs/`` and ``numerics/``
before and after a patched run, so results neither leak into the planted run nor out of
it.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator

from torch import Tensor

from losses import regularizers as regs

from .claim import Planted, patched

REGULARIZER: dict[str, type[regs.Regularizer]] = {
    "softmax": regs.Shannon, "sparsemax": regs.SquaredNorm, "entmax": regs.Tsallis, "rankmax": regs.CappedSquare,
}


def solve_patch(loss: str, wrap: Callable[[Callable[[Tensor], regs.Solution], Tensor], regs.Solution]
                ) -> Callable[[], object]:
    """A context-manager factory replacing ``solve`` of ``loss``'s regularizer class by
    ``wrap(original_solve_of_self, theta)``."""
    cls = REGULARIZER[loss]

    @contextmanager
    def patch() -> Iterator[None]:
        orig = cls.solve
        had_own = "solve" in vars(cls)

        def solve(self, theta: Tensor) -> regs.Solution:
            if type(self) is not cls:  # a subclass (entmax, rankmax under sparsemax's patch)
                return orig(self, theta)
            return wrap(lambda t: orig(self, t), theta)

        cls.solve = solve  # type: ignore[method-assign]
        try:
            yield
        finally:
            if had_own:
                cls.solve = orig  # type: ignore[method-assign]
            else:
                del cls.solve

    return patch


def tempered(loss: str, t: float = 1.01) -> Planted:
    """ŷ(θ/t) (and Ω*, the loss and its gradient with it): in the domain, but not the
    argmax of the loss's problem; margins scale by t, the Jacobian by 1/t."""
    return patched(f"{loss} map at temperature {t}: $\\hat y(\\theta/{t})$ in place of $\\hat y(\\theta)$",
                   solve_patch(loss, lambda solve, theta: solve(theta / t)))


def reversed_map(loss: str) -> Planted:
    """ŷ(−θ): the order of the scores reversed."""
    return patched(rf"{loss} map with the scores reversed: $\hat y(-\theta)$",
                   solve_patch(loss, lambda solve, theta: solve(-theta)))


def smeared(loss: str, eps: float = 1e-3) -> Planted:
    """(1 − ε)ŷ(θ) + ε·(mass/n): still in the domain, never exactly 0 (a sparse map made
    dense)."""
    def wrap(solve, theta: Tensor) -> regs.Solution:
        sol = solve(theta)
        n = sol.n
        dense = sol.dense(sol.values.dtype)
        mass = dense.sum(-1, keepdim=True)
        sol.values = (1 - eps) * dense + eps * mass / n
        sol.index = None
        return sol

    return patched(rf"{loss} map smeared: $(1 - {eps:g})\,\hat y + {eps:g}\,\mathrm{{mass}}/n$ on every class",
                   solve_patch(loss, wrap))


__all__ = ["REGULARIZER", "solve_patch", "tempered", "reversed_map", "smeared"]
