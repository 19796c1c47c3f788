"""The talk's scans as scenarios: physical parameters (units, ranges, log or linear) mapped to
a model's table axis and couplings, plus the eight vector-NSI pairs (docs/models.md).

``scenario_for(name)`` gives a scenario of ``SCENARIOS`` or, for a bare model, one whose
parameters are the model's axis and table couplings. Pure definitions: no tables, no fits.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from cevnsfast.constants import SIN2_THETA_W_DEFAULT
from cevnsfast.likelihood.registry import NSI_MODEL  # the pairs use the detector NSI tables
from cevnsfast.models.electroweak import proton_radius_floor_fm
from cevnsfast.models.scenarios import get_model
from cevnsfast.models.terms import Model


@dataclass(frozen=True)
class ScanParameter:
    """One physical parameter of a scenario, with its summary-scan range."""

    name: str
    unit: str
    lo: float
    hi: float
    scale: str = "linear"
    label: str = ""
    physical_lo: bool = False
    physical_hi: bool = False
    range_by_experiment: tuple[tuple[str, float, float], ...] = ()
    """(experiment, lo, hi) replacing (lo, hi) for that experiment (e.g. R_n ≥ R_p of its
    nuclei; a millicharge range set by ν–e scattering on CsI, by CEvNS alone on LAr)."""

    def for_experiment(self, experiment: str) -> "ScanParameter":
        """This parameter with the range ``range_by_experiment`` gives ``experiment``."""
        for name, lo, hi in self.range_by_experiment:
            if name == experiment:
                return replace(self, lo=lo, hi=hi)
        return self

    def edge_tolerance(self, n: int) -> float:
        """Half a summary-grid step (in the scan coordinate: log for log parameters)."""
        span = np.log(self.hi / self.lo) if self.scale == "log" else self.hi - self.lo
        return 0.5 * span / max(n - 1, 1)

    def edge(self, value: float, n: int) -> str | None:
        """ "lo"/"hi" when ``value`` lies within half a grid step of that end, else None."""
        x, lo, hi = (
            (np.log(value), np.log(self.lo), np.log(self.hi))
            if self.scale == "log"
            else (value, self.lo, self.hi)
        )
        tol = self.edge_tolerance(n)
        if x - lo <= tol:
            return "lo"
        if hi - x <= tol:
            return "hi"
        return None

    def grid(self, n: int) -> np.ndarray:
        if self.scale == "log":
            return np.geomspace(self.lo, self.hi, n)
        return np.linspace(self.lo, self.hi, n)

    @property
    def axis_label(self) -> str:
        text = self.label or self.name
        return f"{text} [{self.unit}]" if self.unit not in ("", "1") else text


Mapping_ = Callable[[Model, np.ndarray], tuple[np.ndarray | None, np.ndarray]]


@dataclass(frozen=True)
class Scenario:
    """A scan of the talk: physical parameters → (axis value, table couplings) of a model.

    ``mapping(model, points)`` takes points (n, len(parameters)) and returns the axis values
    (n,) (None for a model without axis) and the table couplings (n, len(couplings)).
    ``sm`` is a parameter point reproducing the SM (None if the model has none, e.g. R_n).
    """

    name: str
    model: str
    title: str
    parameters: tuple[ScanParameter, ...]
    couplings: tuple[str, ...]
    mapping: Mapping_
    sm: tuple[float, ...] | None
    n_points: tuple[int, ...]
    combine: bool = True
    note: str = ""
    flat_beyond: tuple[str, ...] = ()
    """"name=lo|hi" range ends beyond which χ² no longer depends on that parameter (an
    asymptotic limit: massless or contact mediator, Δm² → 0 or averaged oscillation, a
    degenerate NSI valley). A best fit there is still flagged, marked "(flat beyond)"."""

    def parameters_for(self, experiment: str) -> tuple[ScanParameter, ...]:
        """The scan parameters with the ranges of ``experiment`` (``range_by_experiment``)."""
        return tuple(p.for_experiment(experiment) for p in self.parameters)


def _identity(model: Model, points: np.ndarray):
    return None, points


def _axis_only(model: Model, points: np.ndarray):
    return points[:, 0], np.zeros((points.shape[0], 0))


def _weak_mixing(model: Model, points: np.ndarray):
    return None, points - SIN2_THETA_W_DEFAULT


def _mediator(model: Model, points: np.ndarray):
    return points[:, 0], model.coupling_from_physical(points[:, 0], points[:, 1])[:, None]


def _universal_mixing(model: Model, points: np.ndarray):
    """(axis, one coupling) → the same coupling for ν_e and ν_μ (μ_e4 = μ_μ4, θ_ee = θ_μμ)."""
    return points[:, 0], np.repeat(points[:, 1:2], 2, axis=1)


def _gni_pair(a: str, b: str) -> "Scenario":
    params = {
        "C_V": ScanParameter("C_V", "1", -0.15, 0.35, label="C_V"),
        "C_S": ScanParameter("C_S", "1", -0.03, 0.03, label="C_S"),
        "C_T": ScanParameter("C_T", "1", -0.3, 0.3, label="C_T"),  # LAr V–T: |C_T| ≈ 0.15
    }
    names = (a,) if a == b else (a, b)
    return Scenario(
        f"gni_{''.join(n[-1] for n in names).lower()}",
        "gni",
        "GNI " + (f"C_{a[-1]}" if a == b else f"(C_{a[-1]}, C_{b[-1]})"),
        tuple(params[n] for n in names),
        names,
        _identity,
        (0.0,) * len(names),
        (241,) if a == b else (81, 81),
    )


NSI_PAIRS = (
    ("eps_ee_dV", "eps_ee_uV"),
    ("eps_mumu_dV", "eps_mumu_uV"),
    ("eps_ee_dV", "eps_mumu_dV"),
    ("eps_ee_uV", "eps_mumu_uV"),
    ("eps_ee_dV", "eps_emu_dV"),
    ("eps_mumu_uV", "eps_emu_uV"),
    ("eps_ee_dV", "eps_etau_dV"),
    ("eps_mumu_dV", "eps_mutau_dV"),
)
"""The talk's eight vector-NSI pairs (after arXiv:2211.11905 §5): four flavour-universal
(flavour-diagonal) pairs, then four with one flavour-changing coupling."""
NSI_RANGE = (-1.0, 1.0)
"""ε range of every NSI pair: holds both CsI/LAr degenerate solutions (the second at
ε ≈ 2|Q_W|/(2Z + N) ≈ 0.4 for u, Q_W the SM weak charge) and the flavour-changing allowed
band (|ε_αβ| ≲ 0.5 on CsI, arXiv:2211.11905 Fig. 6)."""


def _nsi_label(coupling: str) -> str:
    _, flavours, qx = coupling.split("_")
    greek = flavours.replace("mu", "μ").replace("tau", "τ")
    return f"ε_{greek}^{qx}"


def _nsi_pair(a: str, b: str) -> "Scenario":
    params = tuple(ScanParameter(c, "1", *NSI_RANGE, label=_nsi_label(c)) for c in (a, b))
    return Scenario(
        f"nsi_{a[4:]}__{b[4:]}",
        NSI_MODEL,
        f"vector NSI ({_nsi_label(a)}, {_nsi_label(b)})",
        params,
        (a, b),
        _identity,
        (0.0, 0.0),
        (31, 31),
        note="detector NSI tables; SM at the origin",
        flat_beyond=_valley_edges(a, b),
    )


def _valley_edges(a: str, b: str) -> tuple[str, ...]:
    """ε^u and ε^d of one flavour: χ² is flat along ε^u(2Z+N) + ε^d(Z+2N) = const (exactly
    for one nucleus, Ar; nearly for Cs and I), a valley that leaves the square."""
    same_flavour = a.split("_")[1] == b.split("_")[1] and a[-2] != b[-2]
    return tuple(f"{c}={e}" for c in (a, b) for e in ("lo", "hi")) if same_flavour else ()


def _mediator_scenario(model: str, title: str, g_range=(1e-6, 1e-2), m_range=(0.1, 1e5)):
    return Scenario(
        model,
        model,
        title,
        (
            ScanParameter("mass_mev", "MeV", *m_range, "log", "m"),
            ScanParameter("g", "1", *g_range, "log", "g", physical_lo=True),
        ),
        ("eps",),
        _mediator,
        None,
        (81, 81),
        note="SM at g → 0 (bottom of the plane)",
        # m ≪ q: massless limit, independent of m; m ≫ q: contact limit, only g/m matters
        # (its valley g ∝ m leaves through the top or the right edge)
        flat_beyond=("mass_mev=lo", "mass_mev=hi", "g=hi"),
    )


MILLICHARGE_RANGE_ES = (-0.12, 0.12)
"""q_ν range (10⁻⁸ e) where CsI sees ν–e scattering: its 90 % C.L. one-parameter intervals
are |q_ee| < 0.046, |q_μμ| < 0.030 (docs/models.md §3.3)."""
MILLICHARGE_RANGE_CEVNS = (-60.0, 80.0)
"""q_ν range (10⁻⁸ e) for LAr (CEvNS only; the CsI CEvNS-only q_ee interval is
[−12, 21.5] ∪ [35, 54.8], §3.4)."""

SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "weak_mixing_angle",
            "weak_mixing_angle",
            "weak mixing angle",
            (ScanParameter("sin2_theta_w", "1", 0.12, 0.36, label="sin²θ_W"),),
            ("delta_sin2_theta_w",),
            _weak_mixing,
            (SIN2_THETA_W_DEFAULT,),
            (241,),
        ),
        Scenario(
            "neutron_radius",
            "neutron_radius",
            "neutron rms radius",
            (
                ScanParameter(
                    "r_n_fm",
                    "fm",
                    proton_radius_floor_fm(["Cs133", "I127"]),
                    7.0,
                    label="R_n",
                    physical_lo=True,
                    range_by_experiment=(("lar2020", proton_radius_floor_fm(["Ar40"]), 7.0),),
                ),
            ),
            (),
            _axis_only,
            None,
            (181,),
            combine=False,
            note="one R_n per experiment (Cs and I share it), R_n ≥ the measured charge radius "
            "(4.75 fm CsI, 3.43 fm Ar; Angeli & Marinova 2013); no CsI+LAr combination",
        ),
        Scenario(
            "magnetic_moment",
            "magnetic_moment",
            "neutrino magnetic moments",
            (
                ScanParameter("mu_nue", "1e-10 mu_B", 0.0, 120.0, label="μ_νe", physical_lo=True),
                ScanParameter("mu_numu", "1e-10 mu_B", 0.0, 120.0, label="μ_νμ", physical_lo=True),
            ),
            ("mu_nue", "mu_numu"),
            _identity,
            (0.0, 0.0),
            (61, 61),
        ),
        Scenario(
            "charge_radius",
            "charge_radius_millicharge",
            "neutrino charge radii",
            (
                ScanParameter("r2_ee", "1e-32 cm^2", -120.0, 60.0, label="⟨r²_νe⟩"),
                ScanParameter("r2_mumu", "1e-32 cm^2", -120.0, 60.0, label="⟨r²_νμ⟩"),
            ),
            ("r2_ee", "r2_mumu"),
            _identity,
            (0.0, 0.0),
            (73, 73),
        ),
        Scenario(
            "millicharge",
            "charge_radius_millicharge",
            "neutrino millicharges",
            (
                ScanParameter(
                    "q_ee",
                    "1e-8 e",
                    *MILLICHARGE_RANGE_ES,
                    label="q_νe",
                    range_by_experiment=(("lar2020", *MILLICHARGE_RANGE_CEVNS),),
                ),
                ScanParameter(
                    "q_mumu",
                    "1e-8 e",
                    *MILLICHARGE_RANGE_ES,
                    label="q_νμ",
                    range_by_experiment=(("lar2020", *MILLICHARGE_RANGE_CEVNS),),
                ),
            ),
            ("q_ee", "q_mumu"),
            _identity,
            (0.0, 0.0),
            (81, 81),
        ),
        *(_nsi_pair(a, b) for a, b in NSI_PAIRS),
        _gni_pair("C_V", "C_V"),
        _gni_pair("C_S", "C_S"),
        _gni_pair("C_T", "C_T"),
        _gni_pair("C_V", "C_S"),
        _gni_pair("C_V", "C_T"),
        _gni_pair("C_S", "C_T"),
        _mediator_scenario("light_vector_universal", "light vector mediator (universal)"),
        _mediator_scenario("light_vector_bl", "light vector mediator (B−L)"),
        _mediator_scenario("light_scalar", "light scalar mediator"),
        _mediator_scenario("light_tensor", "light tensor mediator"),
        _mediator_scenario(
            "leptoquark_s1", "S₁ leptoquark", g_range=(1e-5, 10.0), m_range=(1.0, 1e7)
        ),
        Scenario(
            "sterile_oscillation",
            "sterile_oscillation",
            "active–sterile oscillation (sin²2θ_ee = sin²2θ_μμ)",
            (
                ScanParameter("dm2_ev2", "eV^2", 0.1, 30.0, "log", "Δm²₄₁"),
                ScanParameter("sin2_2theta", "1", 0.0, 1.0, "linear", "sin²2θ", True, True),
            ),
            ("sin2_2theta_ee", "sin2_2theta_mumu"),
            _universal_mixing,
            None,
            (61, 51),
            note="SM at sin²2θ = 0 (left edge of the plane)",
            # Δm² → 0: no oscillation over L; large Δm²: the oscillation averages out
            flat_beyond=("dm2_ev2=lo", "dm2_ev2=hi"),
        ),
        Scenario(
            "transition_magnetic_moment",
            "transition_magnetic_moment",
            "transition magnetic moment to ν₄ (μ_e4 = μ_μ4)",
            (
                ScanParameter("m4_mev", "MeV", 0.01, 50.0, "log", "m₄"),
                ScanParameter("mu", "1e-10 mu_B", 1.0, 1e4, "log", "μ_ν4", physical_lo=True),
            ),
            ("mu_e4", "mu_mu4"),
            _universal_mixing,
            None,
            (51, 51),
            note="SM at μ → 0 (bottom of the plane)",
            # m₄ ≪ keV-scale kinematics: massless limit; m₄ near m_μ/2: no phase space left
            flat_beyond=("m4_mev=lo", "m4_mev=hi"),
        ),
    )
}


def identity_scenario(model: Model) -> Scenario:
    """A scenario whose parameters are the model's axis (if any) and its table couplings."""
    params = []
    if model.axis is not None:
        v = model.axis.values
        a = model.axis
        params.append(ScanParameter(a.name, a.unit, v[0], v[-1], a.scale))
    params += [ScanParameter(c.name, c.unit, -1.0, 1.0) for c in model.couplings]

    def mapping(m: Model, points: np.ndarray):
        if m.axis is None:
            return None, points
        return points[:, 0], points[:, 1:]

    return Scenario(
        model.name,
        model.name,
        model.title,
        tuple(params),
        tuple(model.coupling_names),
        mapping,
        None,
        (),
    )


def scenario_for(name: str, **model_settings) -> Scenario:
    """The scenario ``name`` of ``SCENARIOS`` (physical parameters), else the model ``name``
    with its axis and table couplings as parameters; unknown names list the valid ones."""
    if name in SCENARIOS:
        return SCENARIOS[name]
    try:
        return identity_scenario(get_model(name, **model_settings))
    except ValueError:
        from cevnsfast.models.scenarios import model_names

        raise ValueError(
            f"unknown model {name!r}; scenarios: nsi (the default), {', '.join(SCENARIOS)}; "
            f"models: {', '.join(model_names())}"
        ) from None
