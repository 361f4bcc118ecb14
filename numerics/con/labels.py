"""Relevance laws and how a relevance vector becomes a weighted label (CON-2, CLAIMS.md §2).

A relevance law D is a finite list of atoms (p, r): probability (or integer weight,
normalized here) and relevance vector r ∈ {0, 1, 2, …}^n.  DCG scores a ranking with the
gains G(r) = 2^r − 1, so E_D[DCG(π)] = Σ_pos E_D[G(r)]_{π(pos)} / log2(1 + pos).

A :class:`LabelMap` turns each atom into a weighted label (c_a, y_a), c_a = p_a·w_a, whose
conditional risk Σ_a c_a L(θ; y_a) the loss minimizes:

| map        | label y                 | weight w   | target mean q = Σ c y / Σ c       |
|------------|-------------------------|------------|------------------------------------|
| ``L1``     | ℓ(r)/Σℓ(r)  (summed)    | Σℓ(r)      | E[ℓ(r)] / E[Σℓ(r)]                 |
| ``L2``     | ℓ(r)/Σℓ(r)  (normalized)| 1          | E[ℓ(r)/Σℓ(r)]                      |
| ``multihot``| ℓ(r) = r (binary, |r| = k) | 1       | E[r]                               |

with the label gain ℓ = G for L1/L2.  The label gain is a field of the map, so a map whose
label gains differ from the metric's (linear gains ℓ(r) = r, the complement 1 − r) is an
input of the same shape.  The CON-2 check reads its map from the table :data:`LABEL_MAPS`
at call time (:func:`label_map`): a wrong entry there -- a bug, or a planted defect of
reports/con/planted.py -- enters the check the way it would.  Everything is exact
(``fractions.Fraction``).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Callable, Sequence


def gain(r: int) -> int:
    """The DCG gain G(r) = 2^r − 1 of a relevance grade r."""
    return 2 ** int(r) - 1


def gains(r: Sequence[int]) -> list[int]:
    """G(r) = 2^r − 1, per item."""
    return [gain(x) for x in r]


def _normalized_law(D: Sequence[tuple]) -> list[tuple[Fraction, list[int]]]:
    if not D:
        raise ValueError("D must have at least one atom")
    total = sum(Fraction(p) for p, _ in D)
    if total <= 0 or any(Fraction(p) < 0 for p, _ in D):
        raise ValueError("D must have non-negative weights with a positive sum")
    n = len(D[0][1])
    if any(len(r) != n for _, r in D):
        raise ValueError("D: every relevance vector must have the same length")
    return [(Fraction(p) / total, [int(x) for x in r]) for p, r in D]


@dataclass(frozen=True)
class LabelMap:
    """How a relevance vector becomes a weighted label (module docstring)."""

    name: str
    weighted: bool  # weight Σℓ(r) per example (L1) or 1
    normalized: bool  # label ℓ(r)/Σℓ(r) (L1, L2) or ℓ(r) itself (multihot)
    label_gain: Callable[[int], int] = gain
    binary: bool = False  # relevance must be binary with the same number of relevant items

    def atoms(self, D: Sequence[tuple]) -> list[tuple[Fraction, list[Fraction]]]:
        """(c_a, y_a) per atom: c_a = p_a·w_a and the label vector y_a (exact)."""
        law = _normalized_law(D)
        if self.binary:
            ks = {sum(r) for _, r in law}
            if len(ks) != 1 or any(x not in (0, 1) for _, r in law for x in r):
                raise ValueError(f"{self.name} needs binary r with the same number k of relevant items in every atom")
        out = []
        for p, r in law:
            ell = [Fraction(self.label_gain(x)) for x in r]
            s = sum(ell)
            if self.normalized and s == 0:
                raise ValueError(f"{self.name} needs Σℓ(r) > 0 for every r in D's support")
            y = [v / s for v in ell] if self.normalized else ell
            out.append((p * (s if self.weighted else 1), y))
        if sum(c for c, _ in out) == 0:
            raise ValueError(f"{self.name} needs E[weight] > 0")
        return out

    def target(self, D: Sequence[tuple]) -> list[Fraction]:
        """q = Σ_a c_a y_a / Σ_a c_a: the target mean of the conditional risk."""
        return target_of(self.atoms(D))


def target_of(atoms: Sequence[tuple]) -> list[Fraction]:
    s = sum(c for c, _ in atoms)
    n = len(atoms[0][1])
    return [sum((c * y[i] for c, y in atoms), Fraction(0)) / s for i in range(n)]


LABEL_MAPS = {
    "L1": LabelMap("L1", weighted=True, normalized=True),
    "L2": LabelMap("L2", weighted=False, normalized=True),
    "multihot": LabelMap("multihot", weighted=False, normalized=False, label_gain=int, binary=True),
}


def label_map(m: str | LabelMap) -> LabelMap:
    if isinstance(m, LabelMap):
        return m
    try:
        return LABEL_MAPS[m]
    except KeyError:
        raise ValueError(f"label_map must be L1, L2 or multihot, got {m!r}") from None


def target_mean(D: Sequence[tuple], m: str | LabelMap) -> list[Fraction]:
    """Target mean q of a ranking label law under a label map (exact)."""
    return label_map(m).target(D)


def expected_gains(D: Sequence[tuple]) -> list[Fraction]:
    """E_D[G(r)] per item (exact): the metric side, whatever the label map."""
    law = _normalized_law(D)
    n = len(law[0][1])
    return [sum((p * gain(r[i]) for p, r in law), Fraction(0)) for i in range(n)]


__all__ = ["gain", "gains", "LabelMap", "LABEL_MAPS", "label_map", "target_mean", "target_of", "expected_gains"]
