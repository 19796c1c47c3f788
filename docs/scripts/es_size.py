"""How large is ν–e elastic scattering (ES) in CsI 2021 next to the CEvNS new-physics excess?

Prints the Markdown table of docs/models.md §3.3: events in the CsI 2021 analysis region
(9 PE bins × 11 time bins, efficiencies applied) from ES — electron recoils seen at
E_ee = T_e (no quenching), light yield 13.35 PE/keVee, the release's Gamma smearing and
efficiency — and the CEvNS excess over the SM, at electromagnetic couplings near the limits.

    python docs/scripts/es_size.py
"""

from cevnsfast.detectors import Detector
from cevnsfast.reference import models as reference
from cevnsfast.reference.electron_scattering import direct_es_counts


def es_counts(detector: Detector, **values) -> float:
    """ES events in the analysis region (``reference.electron_scattering.direct_es_counts``)."""
    return float(direct_es_counts(detector, values).sum())


def cevns_counts(detector: Detector, model: str, values: dict) -> float:
    return float(
        reference.direct_model_counts(detector, model, values, electron_scattering=False).sum()
    )


def main() -> None:
    csi = Detector.load("csi2021")
    sm_cevns = cevns_counts(csi, "magnetic_moment", {})
    sm_es = es_counts(csi)
    rows = [("SM", "—", sm_cevns, 0.0, sm_es, 0.0)]
    cases = [
        ("μ_νe = μ_νμ", "30 ×10⁻¹⁰ μ_B", "magnetic_moment", {"mu_nue": 30.0, "mu_numu": 30.0}),
        ("μ_νe = μ_νμ", "60 ×10⁻¹⁰ μ_B", "magnetic_moment", {"mu_nue": 60.0, "mu_numu": 60.0}),
        (
            "⟨r²_ee⟩ = ⟨r²_μμ⟩",
            "−50 ×10⁻³² cm²",
            "charge_radius_millicharge",
            {"r2_ee": -50.0, "r2_mumu": -50.0},
        ),
        ("q_ee = q_μμ", "10 ×10⁻⁸ e", "charge_radius_millicharge", {"q_ee": 10.0, "q_mumu": 10.0}),
        ("q_ee = q_μμ", "1 ×10⁻⁸ e", "charge_radius_millicharge", {"q_ee": 1.0, "q_mumu": 1.0}),
        ("q_ee = q_μμ", "0.1 ×10⁻⁸ e", "charge_radius_millicharge", {"q_ee": 0.1, "q_mumu": 0.1}),
    ]
    for label, value, model, values in cases:
        cevns = cevns_counts(csi, model, values)
        es = es_counts(csi, **values)
        rows.append((label, value, cevns, cevns - sm_cevns, es, es - sm_es))
    print("| coupling | value | CEvNS | CEvNS − SM | ES | ES − SM | ES excess / CEvNS excess |")
    print("|---|---|---|---|---|---|---|")
    for label, value, cevns, d_cevns, es, d_es in rows:
        ratio = "—" if d_cevns == 0 else f"{d_es / abs(d_cevns):.3g}"
        cells = [label, value, f"{cevns:.1f}", f"{d_cevns:+.2f}", f"{es:.3g}", f"{d_es:+.3g}"]
        print("| " + " | ".join([*cells, ratio]) + " |")


if __name__ == "__main__":
    from cevnsfast.build_tables import enable_builds

    enable_builds()
    main()
