"""The paper's single-coupling results (arXiv:2402.16953 §III–V.1): event totals, the
degenerate second minimum and its lifting by NaI + Cryo-CsI, degeneracy directions."""

import numpy as np
import pytest

from cevnsfast.build_tables.integrate import base_integrals
from cevnsfast.constants import E_PROMPT_MEV, G_F_MEV2, HBARC_MEV_CM
from cevnsfast.detectors import Detector
from cevnsfast.detectors.detector import QuadratureSettings
from cevnsfast.likelihood.registry import experiment
from cevnsfast.nuclei import isotope
from cevnsfast.physics import flux
from cevnsfast.physics.cross_sections import nucleus_coefficient, t_max_mev, weak_charge_sm
from cevnsfast.rates import RatePredictor

NA, CS, I127 = isotope("Na23"), isotope("Cs133"), isotope("I127")


def _eps2(nucleus, quark):
    return -2 * weak_charge_sm(nucleus) / nucleus_coefficient("V", quark, nucleus)


def _total_sigma_point(e_mev, nucleus):
    """∫₀^Tmax dσ/dT dT for F = 1: (G_F² M/π) Q_V² [T_max − M T_max²/(4E²)], in cm²."""
    t = t_max_mev(e_mev, nucleus.mass_mev)
    m = nucleus.mass_mev
    return (
        G_F_MEV2**2
        * m
        / np.pi
        * weak_charge_sm(nucleus) ** 2
        * (t - m * t**2 / (4 * e_mev**2))
        * HBARC_MEV_CM**2
    )


def test_event_totals_per_flux_component_match_closed_form():
    """No threshold, unit efficiency, F = 1: each component's total equals N_t η ⟨σ⟩_φ."""
    overrides = {
        "physics.form_factor": "point",
        "binning": {"start": 0.0, "width": 1000.0, "count": 1},
        "response.efficiency.value": 1.0,
        "response.smearing": {"model": "none"},
    }
    det = Detector.load("nai", overrides)
    totals = base_integrals(det, QuadratureSettings())[0, :, 0, :].sum(axis=1)  # vector
    scale = det.targets[0].n_targets * det.fluence_cm2 * weak_charge_sm(NA) ** 0
    e = np.linspace(1e-6, flux.E_MAX_DELAYED_MEV, 200001)
    expected = {"numu": _total_sigma_point(E_PROMPT_MEV, NA)}
    for comp in ("nue", "numubar"):
        expected[comp] = np.trapezoid(
            flux.delayed_shape_per_mev(comp, e) * _total_sigma_point(e, NA), e
        )
    for i, comp in enumerate(flux.COMPONENT_NAMES):
        q2 = weak_charge_sm(NA) ** 2
        assert totals[i] * q2 == pytest.approx(scale * expected[comp], rel=1e-6), comp
    # the harder ν̄_μ spectrum gives more events than ν_e, and both more than the prompt line
    assert totals[2] > totals[1] > totals[0]


@pytest.mark.parametrize("name", ["nai", "cryocsi", "csi2021"])
def test_flavour_split_of_sm_events(name):
    """ν_μ-flavour components (prompt ν_μ + ν̄_μ) carry about 2/3 of the events."""
    det = Detector.load(name)
    r = base_integrals(det, QuadratureSettings())[:, :, 0, :]  # vector structure
    q2 = np.array([weak_charge_sm(t.nucleus) ** 2 for t in det.targets])
    per_component = np.einsum("n,nfb->f", q2, r)
    mu_share = (per_component[0] + per_component[2]) / per_component.sum()
    assert 0.55 < mu_share < 0.75


@pytest.mark.parametrize(
    ("coupling", "quark", "lifted_above"), [("eps_ee_uV", "u", 1.0), ("eps_mumu_uV", "u", 6.63)]
)
def test_second_minimum_nai_at_eq22_and_lifted_by_combination(coupling, quark, lifted_above):
    """NaI alone: Δχ² = 0 again at ε₂(Na) (Eq. 22); Cryo-CsI alone: near ε₂(Cs/I); NaI +
    Cryo-CsI: the NaI second minimum is disfavoured — the paper's central claim (§V.1, Fig. 2):
    "at more than 99 % C.L. for ε_μμ^uV (but only at a bit more than 1σ for ε_ee^uV)"."""
    eps_na = _eps2(NA, quark)
    nai = experiment("nai", [coupling])
    assert nai.chi2([eps_na]) == pytest.approx(0.0, abs=1e-6)
    cryo = experiment("cryocsi", [coupling])
    grid = np.linspace(0.3, 0.5, 2001)
    second = grid[np.argmin(cryo.chi2_batch(grid[:, None]))]
    assert min(_eps2(CS, quark), _eps2(I127, quark)) - 2e-3 < second
    assert second < max(_eps2(CS, quark), _eps2(I127, quark)) + 2e-3
    combo = experiment("nai+cryocsi", [coupling])
    assert combo.chi2([eps_na]) > lifted_above


def test_scalar_degeneracy_direction_slope_near_minus_one():
    """On Na alone the rate depends on ε_u^S C_u + ε_d^S C_d only: χ² is flat along
    ε_d = −(C_u/C_d) ε_u (slope ≈ −1, paper §V.2) and rises across it."""
    nai = experiment("nai", ["eps_ee_uS", "eps_ee_dS"])
    slope = -nucleus_coefficient("S", "u", NA) / nucleus_coefficient("S", "d", NA)
    assert -1.1 < slope < -0.9
    along = np.array([[u, slope * u] for u in (0.01, 0.03, 0.05)])
    across = np.array([[u, -slope * u] for u in (0.01, 0.03, 0.05)])
    np.testing.assert_allclose(nai.chi2_batch(along), 0.0, atol=1e-8)
    assert np.all(np.diff(nai.chi2_batch(across)) > 0)


def test_tensor_degeneracy_follows_tensor_charges():
    nai = experiment("nai", ["eps_emu_uT", "eps_emu_dT"])
    slope = -nucleus_coefficient("T", "u", NA) / nucleus_coefficient("T", "d", NA)
    along = np.array([[u, slope * u] for u in (0.05, 0.1)])
    np.testing.assert_allclose(nai.chi2_batch(along), 0.0, atol=1e-8)
    # Cs and I have a different Z/N, hence a different tensor slope than Na
    slope_cs = -nucleus_coefficient("T", "u", CS) / nucleus_coefficient("T", "d", CS)
    assert abs(slope_cs - slope) > 0.1


def test_asimov_chi2_vanishes_at_the_sm_and_combines_additively():
    combo = experiment("nai+cryocsi", ["eps_ee_uV"])
    assert combo.chi2([0.0]) == pytest.approx(0.0, abs=1e-9)
    point = [0.05]
    parts = experiment("nai", ["eps_ee_uV"]).chi2(point) + experiment(
        "cryocsi", ["eps_ee_uV"]
    ).chi2(point)
    assert combo.chi2(point) == pytest.approx(parts, rel=1e-12)


def test_unknown_experiment_lists_known_ones():
    with pytest.raises(ValueError, match="known: csi2021"):
        experiment("xenon")


def test_reproduce_without_csi_data(tmp_path, monkeypatch):
    """Without the data release the main job still writes the future-detector results and
    says what it skipped and how to point it at the data."""
    from cevnsfast.reproduce import reproduce

    monkeypatch.setenv("CEVNSFAST_DATA_DIR", str(tmp_path / "nowhere"))
    artifacts = reproduce(tmp_path / "out", progress=False)
    index = (tmp_path / "out" / "index.md").read_text()
    assert "CsI 2021 data release was not found" in index and "--data-dir" in index
    assert (tmp_path / "out" / "fig2_nai_cryocsi.png").is_file()
    table = (tmp_path / "out" / "table2_vector.md").read_text()
    assert "NaI + Cryo-CsI" in table and "CsI (2021)" not in table
    assert any(a.kind == "table" for a in artifacts)
    assert RatePredictor("nai").counts().sum() > 0


def test_region_figures_are_drawn_once_each_when_their_scans_are_done(tmp_path, monkeypatch):
    """``reproduce`` draws Figs. 6–9 as their scans finish: a figure waiting on a running
    worker scan is left for later, and at the end a scan a broken worker pool handed back
    (missing from the results) is computed in this process; figures come out in order."""
    import threading
    from concurrent.futures import Future

    from cevnsfast import reproduce as rp
    from cevnsfast.figures import regions as rg

    computed, drawn = [], []
    monkeypatch.setattr(rg, "compute_region", lambda *job: computed.append(job) or job)
    monkeypatch.setattr(
        rg, "draw_region_figure", lambda out, n, csi, regions: drawn.append((n, regions)) or n
    )
    jobs = {n: rg.figure_jobs(n, True) for n in rg.FIGURES}
    first, *others = rg.FIGURES

    def own(n):  # a scan that figure n alone draws
        return next(j for j in jobs[n] if not any(j in jobs[m] for m in rg.FIGURES if m != n))

    running, finished = Future(), Future()
    finished.set_result("from the worker")
    results: dict = {job: "here" for n in rg.FIGURES for job in jobs[n]}
    results[own(first)] = running
    results[own(others[0])] = finished
    missing = own(others[-1])
    del results[missing]
    figures = rp._RegionFigures(tmp_path, True, results, threading.Lock())
    figures.draw_ready()
    assert [n for n, _ in drawn] == others[:-1]  # not the first (running), not the last
    running.set_result("late")
    figures.draw_all()
    assert [n for n, _ in drawn] == [*others[:-1], first, others[-1]]
    assert computed == [missing] and results[missing] == missing
    assert drawn[-2][1][own(first)] == "late"
    assert figures.artifacts() == list(rg.FIGURES)
