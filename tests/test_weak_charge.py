"""The SM weak charge setting ``physics.weak_charge`` ("tree" | "radiative", docs/physics.md).

Published values are literals here (PDG 2015 after Erler & Su 2013, as in COHERENT's rate code
github.com/schol/dukecevns xscns.cc: g_V^p = 0.0298, g_V^n = −0.5117); the engine's constants
must equal them, and every path (tables, direct twin, models) must follow the setting.
"""

import warnings

import numpy as np
import pytest

from cevnsfast.detectors import Detector
from cevnsfast.detectors.errors import SpecError
from cevnsfast.detectors.spec import load_spec, spec_path
from cevnsfast.likelihood.models import ModelPredictor
from cevnsfast.models.scenarios import get_model
from cevnsfast.nuclei import isotope
from cevnsfast.physics.cross_sections import nucleon_vector_couplings, weak_charge_sm
from cevnsfast.rates import RatePredictor
from cevnsfast.reference.direct import direct_counts
from cevnsfast.reference.models import direct_model_counts

G_VP_PDG, G_VN_PDG = 0.0298, -0.5117
SIN2 = 0.23857
CS, IODINE = isotope("Cs133"), isotope("I127")


def test_radiative_weak_charge_of_csi_is_the_published_couplings():
    for nucleus in (CS, IODINE):
        q = weak_charge_sm(nucleus, SIN2, "radiative")
        np.testing.assert_allclose(q, G_VP_PDG * nucleus.z + G_VN_PDG * nucleus.n, rtol=1e-14)
        tree = weak_charge_sm(nucleus, SIN2, "tree")
        np.testing.assert_allclose(tree, (0.5 - 2 * SIN2) * nucleus.z - 0.5 * nucleus.n, rtol=1e-14)
    # Cs: |Q_V| grows by 1.4 % (the neutron coupling dominates), the rate by 2.8 %
    ratio = (weak_charge_sm(CS, SIN2, "radiative") / weak_charge_sm(CS, SIN2, "tree")) ** 2
    assert 1.027 < ratio < 1.030


@pytest.mark.parametrize("mode", ["tree", "radiative"])
def test_weak_mixing_angle_moves_g_vp_with_slope_minus_two(mode):
    """∂g_V^p/∂sin²θ_W = −2 and g_V^n fixed in both modes (radiative corrections are
    additive constants), so every model shifting sin²θ_W or g_V^p acts alike."""
    p0, n0 = nucleon_vector_couplings(SIN2, mode)
    p1, n1 = nucleon_vector_couplings(SIN2 + 0.01, mode)
    np.testing.assert_allclose(p1 - p0, -0.02, rtol=1e-12)
    assert n1 == n0


def test_unknown_mode_is_refused_with_file_field_and_choices():
    with pytest.raises(ValueError, match="tree.*radiative"):
        nucleon_vector_couplings(SIN2, "one_loop")
    with pytest.raises(SpecError) as err:
        load_spec("csi2021", {"physics.weak_charge": "one_loop"})
    text = str(err.value)
    assert "csi2021.toml" in text and "physics.weak_charge" in text
    assert "tree" in text and "radiative" in text


def test_shipped_conventions():
    """COHERENT's data follow the collaboration's rate code (radiative); the paper's
    projections follow arXiv:2402.16953 Eq. 2 (tree). A spec without the field is tree."""
    conventions = {n: load_spec(n).physics["weak_charge"] for n in ("csi2021", "lar2020")}
    conventions |= {n: load_spec(n).physics["weak_charge"] for n in ("nai", "cryocsi")}
    assert conventions == {
        "csi2021": "radiative",
        "lar2020": "radiative",
        "nai": "tree",
        "cryocsi": "tree",
    }


def test_sm_count_ratio_is_the_per_isotope_weak_charge_ratio():
    """CsI 2021, direct twin: N(radiative)/N(tree) = Σ_n w_n (Q_n^rad/Q_n^tree)², w_n the
    tree-level share of nucleus n (from the table's weak-charge-free base integrals), the
    charges from the published couplings as literals."""
    rad = direct_counts(Detector.load("csi2021"), {}).sum()
    tree = direct_counts(Detector.load("csi2021", {"physics.weak_charge": "tree"}), {}).sum()
    predictor = RatePredictor("csi2021")
    base = predictor.table.arrays["base"][:, :, 0, :].sum(axis=(1, 2))  # [nucleus], V
    nuclei = [isotope(n) for n in predictor.table.attrs["nuclei"]]
    q_tree = np.array([(0.5 - 2 * SIN2) * n.z - 0.5 * n.n for n in nuclei])
    q_rad = np.array([G_VP_PDG * n.z + G_VN_PDG * n.n for n in nuclei])
    weights = q_tree**2 * base / np.sum(q_tree**2 * base)
    expected = np.sum(weights * (q_rad / q_tree) ** 2)
    np.testing.assert_allclose(rad / tree, expected, rtol=1e-6)
    np.testing.assert_allclose(predictor.counts().sum(), rad, rtol=1e-6)  # table = twin


@pytest.mark.parametrize("detector", ["csi2021", "nai"])
def test_weak_mixing_angle_model_at_the_reference_is_the_sm(detector):
    """At sin²θ_W = the spec's value (δ = 0) the model is the detector's SM, in the radiative
    (csi2021) and the tree (nai) convention alike."""
    assert load_spec(detector).physics["sin2_theta_w"] == SIN2
    model = ModelPredictor(detector, get_model("weak_mixing_angle"))
    sm = RatePredictor(detector, []).counts()
    np.testing.assert_allclose(model.counts({"delta_sin2_theta_w": 0.0}), sm, rtol=1e-12)
    # and it moves: δ = −0.01 raises g_V^p by 0.02 and lowers |Q_V|
    assert model.counts({"delta_sin2_theta_w": -0.01}).sum() < sm.sum()


def _tree_copy(directory, name: str = "csi2021") -> str:
    text = spec_path(name).read_text(encoding="utf-8")
    assert 'weak_charge = "radiative"' in text
    text = text.replace('weak_charge = "radiative"', 'weak_charge = "tree"', 1)
    text = text.replace(f'name = "{name}"', f'name = "{name}_tree"', 1)
    path = directory / f"{name}_tree.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("name", "settings", "values"),
    [
        ("weak_mixing_angle", {}, {"delta_sin2_theta_w": 0.03}),
        ("neutron_radius", {"r_n_fm": [4.6, 5.2, 5.8]}, {}),
        ("charge_radius_millicharge", {"electron_scattering": False}, {"r2_ee": 30.0}),
        ("light_vector_universal", {"mass_mev": [3.0, 40.0, 500.0]}, {"eps": 0.3}),
        ("leptoquark_s1", {"mass_mev": [10.0, 1e3, 1e5]}, {"eps": 0.2}),
    ],
)
def test_tree_mode_model_tables_equal_the_direct_twin(tmp_path, name, settings, values):
    """The shipped csi2021 (radiative) is what tests/test_models_tables.py checks; the same
    ≤ 1e-6 agreement holds with ``weak_charge = "tree"``, and the two modes differ."""
    path = _tree_copy(tmp_path)
    model = get_model(name, **settings)
    tree = ModelPredictor(path, model, directory=tmp_path)
    rad = ModelPredictor("csi2021", model)
    detector = Detector.load(path)
    for value in tree.axis_grid if tree.axis else [None]:
        tree.set_axis(value)
        rad.set_axis(value)
        direct = direct_model_counts(detector, name, values, value, electron_scattering=False)
        np.testing.assert_allclose(tree.counts(values), direct, rtol=1e-6, atol=1e-12)
        assert abs(rad.counts(values).sum() / direct.sum() - 1) > 1e-3


def test_combining_conventions_warns():
    """csi2021 (radiative) + nai (tree) assumes two Standard Models: a warning names them;
    csi2021 + lar2020 (both radiative) is silent."""
    from cevnsfast.likelihood.registry import experiment

    with pytest.warns(UserWarning, match="weak-charge conventions.*csi2021: radiative.*tree"):
        experiment("csi2021+nai", ["eps_ee_uV"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        experiment("csi2021+lar2020", ["eps_ee_uV"])
