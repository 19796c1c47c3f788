"""Table path vs direct integration, and physics of the tabulated predictions."""

import numpy as np
import pytest
from scipy.optimize import brentq

from cevnsfast.build_tables.integrate import base_integrals
from cevnsfast.detectors import Detector
from cevnsfast.detectors.detector import QuadratureSettings
from cevnsfast.detectors.spec import load_spec, shipped_spec_names
from cevnsfast.models.couplings import ALL_COUPLINGS, COUPLING_NAMES, parse_coupling
from cevnsfast.physics.cross_sections import nucleus_coefficient, weak_charge_sm
from cevnsfast.rates import RatePredictor
from cevnsfast.reference.direct import direct_counts

DETECTORS = [n for n in shipped_spec_names() if not load_spec(n).missing_inputs()]


def _random_point(rng):
    """Six couplings mixing vector, scalar and tensor structures, |ε| ≲ 0.5."""
    by_structure = {s: [c.name for c in ALL_COUPLINGS if c.structure == s] for s in "VST"}
    names = [n for s in "VST" for n in rng.choice(by_structure[s], 2, replace=False)]
    return {n: float(rng.uniform(-0.5, 0.5)) for n in names}


@pytest.mark.parametrize("name", DETECTORS)
def test_table_path_equals_direct_integration(name):
    """≤1e-6 relative per bin at 20 random points mixing V, S and T couplings."""
    rng = np.random.default_rng(20240226)
    predictor = RatePredictor(name)
    detector = Detector.load(name)
    for _ in range(20):
        point = _random_point(rng)
        table = predictor.counts(point)
        direct = direct_counts(detector, point)
        significant = direct > 1e-9 * direct.max()
        np.testing.assert_allclose(table[significant], direct[significant], rtol=1e-6)


@pytest.mark.parametrize("name", DETECTORS)
def test_recoil_quadrature_converged(name):
    """Default quadrature vs 4× the panels and 1.5× the nodes: ≤1e-6 relative per bin."""
    detector = Detector.load(name)
    coarse = base_integrals(detector, QuadratureSettings())
    fine = base_integrals(detector, QuadratureSettings(panels=96, nodes=24))
    significant = np.abs(fine) > 1e-9 * np.abs(fine).max()
    np.testing.assert_allclose(coarse[significant], fine[significant], rtol=1e-6)


@pytest.mark.parametrize("name", DETECTORS)
def test_sm_limit_and_subsets(name):
    """All couplings zero gives the SM; a coupling subset equals the full set with zeros."""
    full = RatePredictor(name)
    sm = RatePredictor(name, couplings=[])
    np.testing.assert_allclose(full.counts(), sm.counts(), rtol=1e-14)
    sub = RatePredictor(name, couplings=["eps_ee_uV", "eps_mutau_dT"])
    point = {"eps_ee_uV": 0.2, "eps_mutau_dT": -0.4}
    np.testing.assert_allclose(sub.counts(point), full.counts(point), rtol=1e-12)
    np.testing.assert_allclose(
        sub.counts_batch(np.array([[0.2, -0.4], [0.0, 0.0]])),
        np.vstack([sub.counts(point), sm.counts()]),
        rtol=1e-12,
    )


@pytest.mark.parametrize("name", DETECTORS)
def test_scalar_and_tensor_never_lower_the_rate(name):
    rng = np.random.default_rng(7)
    predictor = RatePredictor(name)
    st = [c.name for c in ALL_COUPLINGS if c.structure in "ST"]
    vec = [c.name for c in ALL_COUPLINGS if c.structure == "V"]
    for _ in range(10):
        base = {n: rng.uniform(-0.3, 0.3) for n in rng.choice(vec, 3, replace=False)}
        extra = {n: rng.uniform(-0.5, 0.5) for n in rng.choice(st, 3, replace=False)}
        assert np.all(predictor.counts({**base, **extra}) >= predictor.counts(base) * (1 - 1e-14))


def _second_zero(predictor, name, lo, hi):
    sm = predictor.counts().sum()
    return brentq(lambda e: predictor.counts({name: e}).sum() - sm, lo, hi, xtol=1e-10)


def test_second_minimum_on_sodium_at_eq22():
    """NaI sees only Na: ε_ee^uV = −2Q_V/(2Z+N) reproduces the SM rate exactly (Eq. 22)."""
    nai = RatePredictor("nai", couplings=["eps_ee_uV", "eps_ee_dV"])
    from cevnsfast.nuclei import isotope

    na = isotope("Na23")
    for coupling, quark in (("eps_ee_uV", "u"), ("eps_ee_dV", "d")):
        expected = -2 * weak_charge_sm(na) / nucleus_coefficient("V", quark, na)
        assert _second_zero(nai, coupling, 0.2, 0.5) == pytest.approx(expected, rel=1e-8, abs=0)
        np.testing.assert_allclose(nai.counts({coupling: expected}), nai.counts(), rtol=1e-10)


def test_second_minimum_on_csi_between_cs_and_iodine():
    """Cs and I have nearly equal Z/N, so the CsI degenerate point lies between theirs."""
    csi = RatePredictor("cryocsi", couplings=["eps_ee_uV"])
    from cevnsfast.nuclei import isotope

    ends = [
        -2 * weak_charge_sm(isotope(n)) / nucleus_coefficient("V", "u", isotope(n))
        for n in ("I127", "Cs133")
    ]
    assert min(ends) < _second_zero(csi, "eps_ee_uV", 0.3, 0.5) < max(ends)


def test_majorana_aliases_and_tau_couplings():
    p = RatePredictor("csi2021")
    assert parse_coupling("eps_mue_uS").name == "eps_emu_uS"
    np.testing.assert_allclose(p.counts({"eps_mue_uS": 0.2}), p.counts({"eps_emu_uS": 0.2}))
    np.testing.assert_allclose(p.counts({"eps_tautau_uV": 0.7}), p.counts(), rtol=1e-14)
    with pytest.raises(ValueError, match="Majorana"):
        parse_coupling("eps_mumu_uT")
    with pytest.raises(ValueError, match="valid names: eps_ee_uV"):
        parse_coupling("eps_xy_uV")


def test_flavour_content_of_the_sns_beam():
    """ε_etau only affects ν_e (1/3 of the flux); ε_mutau only ν_μ and ν̄_μ (2/3)."""
    p = RatePredictor("cryocsi", couplings=["eps_etau_uV", "eps_mutau_uV"])
    sm = p.counts().sum()
    extra_e = p.counts({"eps_etau_uV": 0.3}).sum() - sm
    extra_mu = p.counts({"eps_mutau_uV": 0.3}).sum() - sm
    base = Detector.load("cryocsi")
    r = base_integrals(base, QuadratureSettings())  # [nucleus, component, structure, bin]
    vector_by_component = r[:, :, 0, :].sum(axis=(0, 2))  # weight per unit charge²
    coeff = {n: nucleus_coefficient("V", "u", t.nucleus) for n, t in enumerate(base.targets)}
    expect_e = sum(r[n, 1, 0].sum() * (0.3 * coeff[n]) ** 2 for n in coeff)
    expect_mu = sum((r[n, 0, 0].sum() + r[n, 2, 0].sum()) * (0.3 * coeff[n]) ** 2 for n in coeff)
    assert extra_e == pytest.approx(expect_e, rel=1e-10, abs=0)
    assert extra_mu == pytest.approx(expect_mu, rel=1e-10, abs=0)
    assert vector_by_component[0] > 0 and vector_by_component[1] > 0


@pytest.mark.parametrize(
    ("override", "factor"),
    [
        ({"target.mass_kg": 2 * 3395.7}, 2.0),
        ({"exposure.pot": 2 * 5.19e23}, 2.0),
        ({"exposure.distance_m": 2 * 22.0}, 0.25),
        ({"exposure.nu_per_flavour_per_pot": 0.065}, 0.5),
    ],
)
def test_counts_scale_with_exposure(override, factor):
    nominal = base_integrals(Detector.load("nai"), QuadratureSettings())
    scaled = base_integrals(Detector.load("nai", override), QuadratureSettings())
    np.testing.assert_allclose(scaled, factor * nominal, rtol=1e-12)


def test_threshold_behaviour():
    """Raising the threshold removes counts from the bottom up and never adds any."""
    low = direct_counts(Detector.load("cryocsi"), {})
    high = direct_counts(Detector.load("cryocsi", {"response.efficiency.zero_below": 30.0}), {})
    assert high[0] < low[0] and np.allclose(high[2:], low[2:], rtol=1e-12)


def test_every_coupling_changes_some_rate_except_tautau():
    p = RatePredictor("cryocsi")
    sm = p.counts()
    for name in COUPLING_NAMES:
        changed = not np.allclose(p.counts({name: 0.3}), sm, rtol=1e-12)
        assert changed == ("tautau" not in name), name
