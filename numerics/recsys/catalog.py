"""The training methods by name: :func:`make`.  Apart from ``methods.py`` because one of them,
the authors' RG²-ALS (``rg2_authors.py``), subclasses its :class:`~.methods.Method`; both are
imported here, so neither imports the other."""
from __future__ import annotations

from losses import get

from .methods import ExactFY, HSM, METHODS, NCE, RG2, SSM, Method, Popularity, Rankmax
from .rg2_authors import RG2Authors


def make(name: str, m: int = 64, lam: float = 1.0, alpha: float = 0.0) -> Method:
    """The method by name (one of :data:`METHODS`); ``m`` samples per interaction for
    SSM/NCE, ``lam`` the ridge of RG²-ALS, ``alpha`` the positive weight of the authors'
    form (``rg2_authors.py``)."""
    exact = {"softmax": lambda: get("softmax"), "sparsemax": lambda: get("sparsemax"),
             "entmax-1.5": lambda: get("entmax", alpha=1.5)}
    if name in exact:
        return ExactFY(name, exact[name](), m=m, lam=lam)
    if name == "rg2/als-authors":
        return RG2Authors(m=m, lam=lam, alpha=alpha)
    table = {"rankmax": lambda: Rankmax(m=m, lam=lam), "ssm/uniform": lambda: SSM("uniform", m=m, lam=lam),
             "ssm/popularity": lambda: SSM("popularity", m=m, lam=lam), "nce": lambda: NCE(m=m, lam=lam),
             "hsm": lambda: HSM(m=m, lam=lam), "rg2/als": lambda: RG2("als", m=m, lam=lam),
             "rg2/sgd": lambda: RG2("sgd", m=m, lam=lam), "popularity": lambda: Popularity(m=m, lam=lam)}
    if name not in table:
        raise ValueError(f"name must be one of {METHODS}, got {name!r}")
    if m < 1:
        raise ValueError(f"m must be ≥ 1, got {m}")
    return table[name]()
