"""Coupling names and the quadratic form they define (docs/design.md, "The one idea").

Names follow arXiv:2402.16953: ``eps_<αβ>_<q><X>`` with flavours α, β ∈ {e, mu, tau}, quark
q ∈ {u, d} and structure X ∈ {V, S, T}, e.g. ``eps_ee_uV``, ``eps_emu_dT``. A flavour pair is
stored once (canonical order e < mu < tau; ``mue`` is accepted for ``emu``): the vector matrix
is hermitian (real couplings: symmetric), the scalar matrix symmetric and the tensor matrix
antisymmetric — the paper's Majorana assumption — so diagonal tensor couplings do not exist.

For incoming ν_α on a nucleus, each amplitude of Eq. (6) — the vector charge
Q_V δ_αβ + C_V^{αβ}, and C_S^{αβ}, C_T^{αβ} — is linear in x = (1, c_1, …, c_n):
amplitude = a · x. The rate is Σ_{β,X} R_X (a · x)², so the response tensor is
T_ij = Σ_{nucleus, flux component, X} R[nucleus, component, X] Σ_β a_i a_j.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cevnsfast.nuclei import Isotope
from cevnsfast.physics.cross_sections import (
    FLAVOURS,
    QUARKS,
    STRUCTURES,
    nucleus_coefficient,
    weak_charge_sm,
)
from cevnsfast.physics.flux import FLUX_COMPONENTS

_FLAVOUR_ORDER = {f: i for i, f in enumerate(FLAVOURS)}


@dataclass(frozen=True)
class Coupling:
    """One real Lagrangian coupling ε^{qX}_{αβ} (dimensionless, in units of G_F)."""

    name: str
    structure: str
    quark: str
    alpha: str
    beta: str

    @property
    def unit(self) -> str:
        return "1 (units of G_F)"


def _pairs(structure: str) -> list[tuple[str, str]]:
    pairs = [(a, b) for a in FLAVOURS for b in FLAVOURS if _FLAVOUR_ORDER[a] <= _FLAVOUR_ORDER[b]]
    diagonal = [p for p in pairs if p[0] == p[1]]
    off = [p for p in pairs if p[0] != p[1]]
    return off if structure == "T" else diagonal + off


ALL_COUPLINGS: tuple[Coupling, ...] = tuple(
    Coupling(f"eps_{a}{b}_{q}{s}", s, q, a, b)
    for s in STRUCTURES
    for a, b in _pairs(s)
    for q in QUARKS
)
COUPLING_NAMES: tuple[str, ...] = tuple(c.name for c in ALL_COUPLINGS)
_BY_NAME = {c.name: c for c in ALL_COUPLINGS}


def parse_coupling(name: str) -> Coupling:
    """The coupling called ``name`` (aliases like ``eps_mue_uV`` map to ``eps_emu_uV``)."""
    if name in _BY_NAME:
        return _BY_NAME[name]
    parts = name.split("_")
    if len(parts) == 3 and parts[0] == "eps":
        for a in FLAVOURS:
            for b in FLAVOURS:
                if parts[1] == a + b:
                    canonical = f"eps_{b}{a}_{parts[2]}"
                    if canonical in _BY_NAME:
                        return _BY_NAME[canonical]
        if parts[2].endswith("T") and parts[1] in ("ee", "mumu", "tautau"):
            raise ValueError(
                f"{name!r}: flavour-diagonal tensor couplings vanish for Majorana neutrinos "
                "(arXiv:2402.16953 Sec. II.2)"
            )
    raise ValueError(f"unknown coupling {name!r}; valid names: {', '.join(COUPLING_NAMES)}")


def amplitude_vectors(
    couplings: Sequence[Coupling],
    nucleus: Isotope,
    alpha: str,
    sin2_theta_w: float,
    weak_charge: str,
) -> dict[tuple[str, str], np.ndarray]:
    """Coefficient vectors a (length 1 + n) with amplitude = a · x, keyed by (β, structure);
    a[0] of the diagonal vector amplitude is the SM Q_V (``weak_charge_sm``, ``weak_charge``
    mode)."""
    vectors = {}
    for beta in FLAVOURS:
        for structure in STRUCTURES:
            a = np.zeros(1 + len(couplings))
            if structure == "V" and beta == alpha:
                a[0] = weak_charge_sm(nucleus, sin2_theta_w, weak_charge)
            for i, c in enumerate(couplings, start=1):
                if c.structure != structure or {c.alpha, c.beta} != {alpha, beta}:
                    continue
                # ε_βα = −ε_αβ for the antisymmetric tensor matrix; + for V and S
                sign = -1.0 if structure == "T" and (alpha, beta) != (c.alpha, c.beta) else 1.0
                a[i] = sign * nucleus_coefficient(structure, c.quark, nucleus)
            if np.any(a):
                vectors[(beta, structure)] = a
    return vectors


def response_tensor(
    base: np.ndarray,
    nuclei: Sequence[Isotope],
    couplings: Sequence[Coupling],
    sin2_theta_w: float,
    weak_charge: str,
) -> np.ndarray:
    """T[..., i, j] from base integrals ``base[nucleus, component, structure, ...]``.

    The trailing axes of ``base`` (reconstructed bins, and any nuisance grid) are kept.
    """
    n = 1 + len(couplings)
    out = np.zeros(base.shape[3:] + (n, n))
    for ni, nucleus in enumerate(nuclei):
        for fi, component in enumerate(FLUX_COMPONENTS):
            per_structure = {s: np.zeros((n, n)) for s in STRUCTURES}
            vectors = amplitude_vectors(
                couplings, nucleus, component.flavour, sin2_theta_w, weak_charge
            )
            for (_, structure), a in vectors.items():
                per_structure[structure] += np.outer(a, a)
            for si, structure in enumerate(STRUCTURES):
                out += base[ni, fi, si][..., None, None] * per_structure[structure]
    return out


MAX_ABS_COUPLING = 1e6
"""Largest |coupling| accepted. Bounds of interest are |ε| ≲ 1 (arXiv:2402.16953); beyond 1e6
the quadratic form only tests floating-point overflow (1e308² = inf) and NaN χ², never physics."""


def check_couplings(
    values: np.ndarray, names: Sequence[str], owner: str = "", limit: float = MAX_ABS_COUPLING
) -> None:
    """Refuse NaN, ±inf and |value| > ``limit`` in ``values`` (..., n_couplings)."""
    values = np.asarray(values, dtype=float)
    if values.size <= 16:  # one point's few values: a plain loop costs ~0.5 µs, numpy ~4 µs
        for v in values.ravel().tolist():
            if not -limit <= v <= limit:  # also NaN
                break
        else:
            return
    elif (np.abs(values) <= limit).all():
        return
    bad = ~(np.abs(values) <= limit)  # also catches NaN
    column = int(np.argwhere(bad)[0][-1])
    value = float(values[np.unravel_index(int(np.argmax(bad)), bad.shape)])
    where = f"{owner}: " if owner else ""
    raise ValueError(
        f"{where}{names[column]} = {value!r} is not allowed: values must be "
        f"finite numbers in [-{limit:g}, {limit:g}]"
    )


def parse_assignments(
    items: Sequence[str],
    canonical: Callable[[str], str] | None = None,
    limit: float = MAX_ABS_COUPLING,
) -> dict[str, float]:
    """``NAME=VALUE`` strings (the CLI's ``--set``) → canonical name → value; bad syntax,
    unknown names and non-finite or absurd values (|value| > ``limit``) raise ValueError.
    ``canonical`` maps a name to its canonical form (default: a coupling's)."""
    canonical = canonical or (lambda name: parse_coupling(name).name)
    values = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"{item!r} is not NAME=VALUE")
        key = canonical(name.strip())
        try:
            values[key] = float(raw)
        except ValueError:
            raise ValueError(f"{item!r}: {raw!r} is not a number") from None
    check_couplings(np.array(list(values.values())), list(values), "", limit)
    return values


def x_vector(
    names: Sequence[str],
    values: Mapping[str, float] | Sequence[float] | None,
    canonical: Callable[[str], str] = lambda name: name,
    owner: str = "this predictor",
) -> np.ndarray:
    """x = (1, c_1, …, c_n) of the quadratic form: from a name → value mapping (names passed
    through ``canonical``; missing ones 0) or from a sequence of n values in order."""
    x = np.zeros(1 + len(names))
    x[0] = 1.0
    if values is None:
        return x
    if not isinstance(values, np.ndarray) and isinstance(values, Mapping):
        position = {n: i for i, n in enumerate(names, start=1)}
        for name, value in values.items():
            key = canonical(name)
            if key not in position:
                raise ValueError(
                    f"coupling {name!r} is not among {owner}'s couplings "
                    f"({', '.join(names) or 'none'})"
                )
            x[position[key]] = float(value)
        check_couplings(x[1:], names, owner)
        return x
    values = np.asarray(values, dtype=float)
    if values.shape != (len(names),):
        raise ValueError(f"{owner}: expected {len(names)} coupling values, got {values.shape}")
    check_couplings(values, names, owner)
    x[1:] = values
    return x
