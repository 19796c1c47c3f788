"""How large is ν–e elastic scattering (ES) in CsI 2021 next to the CEvNS new-physics excess?

Prints the Markdown table of docs/models.md §3.3: events in the CsI 2021 analysis region
(9 PE bins × 11 time bins, efficiencies applied) from ES — electron recoils seen at
E_ee = T_e (no quenching), light yield 13.35 PE/keVee, the release's Gamma smearing and
efficiency — and the CEvNS excess over the SM, at electromagnetic couplings near the limits.

    python docs/scripts/es_size.py
"""

import numpy as np

from cevnsfast.constants import E_MAX_DELAYED_MEV, E_PROMPT_MEV, M_E_MEV
from cevnsfast.detectors import Detector
from cevnsfast.detectors.response import gauss_legendre
from cevnsfast.physics import bsm
from cevnsfast.physics.electron_scattering import dsigma_es, z_effective
from cevnsfast.physics.flux import FLUX_COMPONENTS, delayed_shape_per_mev

T_EDGES_KEV = [0.05, 0.619, 0.726, 1.211, 4.557, 5.714, 12.0, 30.0]
"""Panels of the T_e integral: split at the binding-energy steps of Z_eff, up to 30 keV (the
analysis region ends at 60 PE ≈ 4.5 keVee; 30 keV covers the smearing tail)."""


def es_counts(detector: Detector, **couplings) -> float:
    """ES events in the analysis region (all bins), Z_eff(T) electrons per atom."""
    panels = [
        gauss_legendre(a, b, 24) for a, b in zip(T_EDGES_KEV[:-1], T_EDGES_KEV[1:], strict=True)
    ]
    t_kev = np.concatenate([x for x, _ in panels])
    w_kev = np.concatenate([w for _, w in panels])
    t_mev = 1e-3 * t_kev
    prob = detector.response.bin_probabilities(t_kev)  # QF = 1: E_ee = T_e
    electrons = sum(tg.n_targets * z_effective(tg.nucleus.name, t_kev) for tg in detector.targets)
    u, w_u = gauss_legendre(0.0, 1.0, 64)
    per_component = np.zeros((len(FLUX_COMPONENTS), prob.shape[1]))
    for fi, comp in enumerate(FLUX_COMPONENTS):
        if comp.prompt:
            rate = dsigma_es(E_PROMPT_MEV, t_mev, comp, **couplings)
        else:
            e_lo = 0.5 * (t_mev + np.sqrt(t_mev**2 + 2 * M_E_MEV * t_mev))
            e = e_lo[:, None] + (E_MAX_DELAYED_MEV - e_lo)[:, None] * u[None, :]
            integrand = delayed_shape_per_mev(comp.name, e) * dsigma_es(
                e, t_mev[:, None], comp, **couplings
            )
            rate = (E_MAX_DELAYED_MEV - e_lo) * (integrand @ w_u)
        per_component[fi] = (rate * electrons * detector.fluence_cm2 * 1e-3 * w_kev) @ prob
    return float(detector.fold_time(per_component).sum())


def cevns_counts(detector: Detector, model: str, values: dict) -> float:
    return float(bsm.direct_model_counts(detector, model, values).sum())


def main() -> None:
    csi = Detector.load("csi2021")
    electron = Detector.load("csi2021", {"response.quenching": {"model": "constant", "qf": 1.0}})
    sm_cevns = cevns_counts(csi, "magnetic_moment", {})
    sm_es = es_counts(electron)
    rows = [("SM", "—", sm_cevns, 0.0, sm_es, 0.0)]
    cases = [
        (
            "μ_νe = μ_νμ",
            "30 ×10⁻¹⁰ μ_B",
            "magnetic_moment",
            {"mu_nue": 30.0, "mu_numu": 30.0},
            {"mu_1e10": 30.0},
        ),
        (
            "μ_νe = μ_νμ",
            "60 ×10⁻¹⁰ μ_B",
            "magnetic_moment",
            {"mu_nue": 60.0, "mu_numu": 60.0},
            {"mu_1e10": 60.0},
        ),
        (
            "⟨r²_ee⟩ = ⟨r²_μμ⟩",
            "−50 ×10⁻³² cm²",
            "charge_radius_millicharge",
            {"r2_ee": -50.0, "r2_mumu": -50.0},
            {"r2_1e32_cm2": -50.0},
        ),
        (
            "q_ee = q_μμ",
            "10 ×10⁻⁸ e",
            "charge_radius_millicharge",
            {"q_ee": 10.0, "q_mumu": 10.0},
            {"q_1e8_e": 10.0},
        ),
        (
            "q_ee = q_μμ",
            "1 ×10⁻⁸ e",
            "charge_radius_millicharge",
            {"q_ee": 1.0, "q_mumu": 1.0},
            {"q_1e8_e": 1.0},
        ),
        (
            "q_ee = q_μμ",
            "0.1 ×10⁻⁸ e",
            "charge_radius_millicharge",
            {"q_ee": 0.1, "q_mumu": 0.1},
            {"q_1e8_e": 0.1},
        ),
    ]
    for label, value, model, table_values, es_values in cases:
        cevns = cevns_counts(csi, model, table_values)
        es = es_counts(electron, **es_values)
        rows.append((label, value, cevns, cevns - sm_cevns, es, es - sm_es))
    print("| coupling | value | CEvNS | CEvNS − SM | ES | ES − SM | ES excess / CEvNS excess |")
    print("|---|---|---|---|---|---|---|")
    for label, value, cevns, d_cevns, es, d_es in rows:
        ratio = "—" if d_cevns == 0 else f"{d_es / abs(d_cevns):.3g}"
        cells = [label, value, f"{cevns:.1f}", f"{d_cevns:+.2f}", f"{es:.3g}", f"{d_es:+.3g}"]
        print("| " + " | ".join([*cells, ratio]) + " |")


if __name__ == "__main__":
    main()
