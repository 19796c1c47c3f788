"""Target nuclei: proton and neutron numbers, masses, natural isotopic compositions.

Atomic masses: AME2020 (M. Wang et al., Chin. Phys. C 45 030003 (2021)); natural abundances:
IUPAC 2013 isotopic compositions (J. Meija et al., Pure Appl. Chem. 88 293 (2016)). The
nuclear mass used in the cross section is the atomic mass minus Z electron masses (electron
binding energies, < 0.01 % for Cs, are neglected). The seed paper's Table 1 gives
M(Cs, I, Na) = 132.91, 126.90, 22.99 u, which these reproduce.
"""

from dataclasses import dataclass

from cevnsfast.constants import AMU_MEV, M_E_MEV


@dataclass(frozen=True)
class Isotope:
    """One nuclide: ``name`` like ``"Cs133"``, Z protons, N neutrons, atomic mass in u."""

    name: str
    element: str
    z: int
    n: int
    atomic_mass_u: float

    @property
    def a(self) -> int:
        """Mass number A = Z + N."""
        return self.z + self.n

    @property
    def mass_mev(self) -> float:
        """Nuclear mass in MeV (atomic mass − Z m_e)."""
        return self.atomic_mass_u * AMU_MEV - self.z * M_E_MEV


ISOTOPES: dict[str, Isotope] = {
    iso.name: iso
    for iso in (
        Isotope("Na23", "Na", 11, 12, 22.98976928),
        Isotope("Cs133", "Cs", 55, 78, 132.90545196),
        Isotope("I127", "I", 53, 74, 126.9044719),
        Isotope("Ar36", "Ar", 18, 18, 35.96754511),
        Isotope("Ar38", "Ar", 18, 20, 37.9627321),
        Isotope("Ar40", "Ar", 18, 22, 39.96238312),
        Isotope("Ge70", "Ge", 32, 38, 69.92424875),
        Isotope("Ge72", "Ge", 32, 40, 71.922075826),
        Isotope("Ge73", "Ge", 32, 41, 72.923458956),
        Isotope("Ge74", "Ge", 32, 42, 73.921177761),
        Isotope("Ge76", "Ge", 32, 44, 75.921402726),
    )
}

NATURAL_ABUNDANCE: dict[str, dict[str, float]] = {
    "Na": {"Na23": 1.0},
    "Cs": {"Cs133": 1.0},
    "I": {"I127": 1.0},
    "Ar": {"Ar36": 0.003336, "Ar38": 0.000629, "Ar40": 0.996035},
    "Ge": {"Ge70": 0.2052, "Ge72": 0.2745, "Ge73": 0.0776, "Ge74": 0.3652, "Ge76": 0.0775},
}


def isotope(name: str) -> Isotope:
    """Look up a nuclide by name (``"Cs133"``); unknown names list the valid ones."""
    try:
        return ISOTOPES[name]
    except KeyError:
        raise ValueError(
            f"unknown nucleus {name!r}; known nuclei: {', '.join(sorted(ISOTOPES))}"
        ) from None


def molar_mass_g(element_abundances: dict[str, float]) -> float:
    """Molar mass in g/mol of one element with the given isotope fractions."""
    return sum(frac * ISOTOPES[iso].atomic_mass_u for iso, frac in element_abundances.items())
