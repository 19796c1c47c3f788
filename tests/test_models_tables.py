"""Model tables vs their direct twins, SM limits, nuisance grids, provenance (docs/models.md).

Tables are built on small axis grids (custom model settings: their own table files); at grid
values the table path must equal the direct integration of the exact cross sections of
``physics.bsm`` to ≤ 1e-6 relative per bin, for random couplings and with each shape
nuisance of the CsI 2021 spec set to one of its grid values.
"""

import shutil
import zlib
from pathlib import Path

import numpy as np
import pytest

from cevnsfast.build_tables.model_tables import build_model_table
from cevnsfast.detectors import Detector
from cevnsfast.likelihood.models import ModelPredictor
from cevnsfast.model_tables import load_model_table, model_table_path
from cevnsfast.models.scenarios import get_model, model_names
from cevnsfast.rates import RatePredictor
from cevnsfast.reference.models import direct_model_counts
from cevnsfast.tables import TableError

SMALL_AXES = {
    "neutron_radius": {"r_n_fm": [4.6, 5.2, 5.8]},
    "light_vector_universal": {"mass_mev": [3.0, 40.0, 500.0]},
    "light_vector_bl": {"mass_mev": [3.0, 40.0, 500.0]},
    "light_scalar": {"mass_mev": [3.0, 40.0, 500.0]},
    "light_tensor": {"mass_mev": [3.0, 40.0, 500.0]},
    "leptoquark_s1": {"mass_mev": [10.0, 1e3, 1e5]},
    "transition_magnetic_moment": {"m4_mev": [0.5, 12.0, 35.0]},
    "sterile_oscillation": {"dm2_ev2": [0.5, 2.0, 7.0]},
}
"""Three-point axes: enough to test the table path at grid values, fast to build."""

SCALES = {
    "weak_mixing_angle": [0.05],
    "magnetic_moment": [60.0, 60.0],
    "charge_radius_millicharge": [60.0, 60.0, 20.0, 20.0],
    "gni": [0.3, 0.02, 0.1],
    "transition_magnetic_moment": [60.0, 60.0],
    "sterile_oscillation": [0.5, 0.5],
}
"""Typical coupling sizes (BSM comparable to SM); mediators use ε with BSM ≈ SM."""


def small_model(name: str):
    return get_model(name, **SMALL_AXES.get(name, {}))


@pytest.fixture(scope="module")
def csi():
    return Detector.load("csi2021")


def _random_values(rng, predictor: ModelPredictor) -> dict[str, float]:
    model = predictor.model
    if model.name in SCALES:
        sizes = np.asarray(SCALES[model.name])
        positive = model.name in ("transition_magnetic_moment", "sterile_oscillation")
        draws = rng.uniform(0.0 if positive else -1.0, 1.0, model.n) * sizes
        return dict(zip(model.coupling_names, draws, strict=True))
    if model.n == 0:
        return {}
    t = predictor.tensor.sum(axis=-1)  # mediators: ε with |BSM| ~ SM
    return {"eps": float(np.sqrt(t[0, 0] / abs(t[1, 1])) * rng.uniform(0.2, 2.0))}


def _breakpoints(predictor):
    model = predictor.model
    if not model.axis_dependent_nodes:
        return None
    return lambda nucleus: model.recoil_breakpoints_kevnr(nucleus, predictor.axis_value)


@pytest.mark.parametrize("name", model_names())
def test_table_equals_direct_twin_at_grid_values(name, csi):
    """≤ 1e-6 relative per bin, random couplings, every axis value of the small grid."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    predictor = ModelPredictor("csi2021", small_model(name))
    axis_values = predictor.axis_grid if predictor.axis else [None]
    for value in axis_values:
        predictor.set_axis(value)
        values = _random_values(rng, predictor)
        table = predictor.counts(values)
        direct = direct_model_counts(
            csi, name, values, value, breakpoints_kevnr=_breakpoints(predictor)
        )
        significant = direct > 1e-9 * direct.max()
        np.testing.assert_allclose(table[significant], direct[significant], rtol=1e-6)


@pytest.mark.parametrize("name", ["magnetic_moment", "light_vector_universal", "neutron_radius"])
def test_shape_nuisance_grids_equal_direct_twin(name, csi):
    """The tabulated radius, efficiency and timing variations are exact at grid values."""
    predictor = ModelPredictor("csi2021", small_model(name))
    predictor.set_axis(predictor.axis_grid[1] if predictor.axis else None)
    values = _random_values(np.random.default_rng(3), predictor)
    x = predictor.x_vector(values)
    grids = predictor.signal_grids(x)
    for k, axis in enumerate(predictor.nuisance_axes):
        g = int(np.argmin(np.abs(predictor.grid_values[k] - {"radius_scale": 1.1}.get(axis, 1.0))))
        theta = float(predictor.grid_values[k, g])
        kwargs = {"radius_scale": theta} if axis == "radius_scale" else {}
        if axis == "time_shift_us":
            kwargs = {"time_shift_us": theta}
        detector = Detector(csi.spec, efficiency_sigma=theta) if axis == "efficiency_sigma" else csi
        direct = direct_model_counts(detector, name, values, predictor.axis_value, **kwargs)
        significant = direct > 1e-9 * direct.max()
        np.testing.assert_allclose(grids[k, g][significant], direct[significant], rtol=1e-6)


@pytest.mark.parametrize("name", [n for n in model_names() if n != "neutron_radius"])
def test_zero_couplings_give_the_standard_model(name):
    """Every model at zero coupling (any axis value) reproduces the detector table's SM —
    plus, for the electromagnetic models, the SM ν–e scattering (< 1e-4 events in all)."""
    from cevnsfast.detectors import Detector
    from cevnsfast.reference.electron_scattering import direct_es_counts

    sm = RatePredictor("csi2021", []).counts()
    predictor = ModelPredictor("csi2021", small_model(name))
    es_sm = np.zeros_like(sm)
    if hasattr(predictor.model, "electron_terms"):
        es_sm = direct_es_counts(Detector.load("csi2021"), {})
        assert 0.0 < es_sm.sum() < 1e-4
    for value in predictor.axis_grid if predictor.axis else [None]:
        predictor.set_axis(value)
        np.testing.assert_allclose(predictor.counts(), sm + es_sm, rtol=1e-12)
        nuis = {"radius_scale": 1.05, "efficiency_sigma": 0.5, "time_shift_us": 0.1}
        np.testing.assert_allclose(
            predictor.counts(None, nuis),
            RatePredictor("csi2021", []).counts(None, nuis),
            rtol=1e-12,
            atol=1e-4 * bool(es_sm.any()),
        )


def cs_only_spec(directory: Path) -> Path:
    """A copy of the CsI 2021 spec that detects Cs recoils only (a single-nucleus target)."""
    from cevnsfast.detectors.spec import spec_path

    text = spec_path("csi2021").read_text(encoding="utf-8")
    text = text.replace('name = "csi2021"', 'name = "csi2021_cs_only"', 1)
    text = text.replace("[target]\n", '[target]\ndetected_elements = ["Cs"]\n', 1)
    path = directory / "csi2021_cs_only.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_neutron_radius_equal_to_proton_radius_is_the_sm(tmp_path):
    """A Cs-only copy of the CsI detector: R_n = R_p(Cs) gives exactly the SM counts."""
    from cevnsfast.detectors.spec import load_spec
    from cevnsfast.models.electroweak import proton_rms_radius_fm
    from cevnsfast.nuclei import isotope

    spec = cs_only_spec(tmp_path)
    params = load_spec(spec).physics["form_factor_params"]  # CsI 2021: R_A = 1.2 A^1/3 fm
    r_p = proton_rms_radius_fm("klein_nystrand", isotope("Cs133").a, params)
    model = get_model("neutron_radius", r_n_fm=[r_p - 0.3, r_p, r_p + 0.3])
    predictor = ModelPredictor(spec, model, axis_value=r_p)
    sm = RatePredictor(spec, []).counts()
    np.testing.assert_allclose(predictor.counts(), sm, rtol=1e-12)
    predictor.set_axis(r_p + 0.3)  # a larger neutron radius suppresses the rate
    assert predictor.counts().sum() < 0.95 * sm.sum()


def test_custom_settings_get_their_own_table_and_stale_tables_are_refused(tmp_path):
    default = get_model("light_vector_universal")
    small = small_model("light_vector_universal")
    assert model_table_path("csi2021", default, tmp_path) != model_table_path(
        "csi2021", small, tmp_path
    )
    result = build_model_table("csi2021", small, directory=tmp_path)
    assert result.built and not build_model_table("csi2021", small, directory=tmp_path).built
    # a table built from other inputs (here: another μ_ref) under this name is stale
    other = get_model("light_vector_universal", mass_mev=[3.0, 40.0, 500.0], mu_ref_mev=60.0)
    build_model_table("csi2021", other, directory=tmp_path)
    target = model_table_path("csi2021", small, tmp_path)
    shutil.rmtree(target)
    model_table_path("csi2021", other, tmp_path).rename(target)
    with pytest.raises(TableError, match="stale.*model_tables csi2021 light_vector_universal"):
        load_model_table("csi2021", small, directory=tmp_path, build_missing=False)
    table = load_model_table("csi2021", small, directory=tmp_path, rebuild_stale=True)
    assert table.attrs["model"]["settings"]["mu_ref_mev"] == 50.0


def test_recoil_quadrature_converged_for_singular_kernels(csi):
    """1/T (magnetic moment), 1/T² (millicharge) and the split panels of the transition
    moment: default quadrature vs 4× the panels agree to 1e-5 per significant bin (the
    detector threshold regularises T → 0)."""
    from cevnsfast.build_tables.model_tables import build_arrays
    from cevnsfast.detectors.detector import QuadratureSettings

    for name in ("magnetic_moment", "charge_radius_millicharge", "transition_magnetic_moment"):
        model = small_model(name)
        coarse = build_arrays(model, "csi2021")[0]["base"]
        fine = build_arrays(model, "csi2021", QuadratureSettings(panels=96))[0]["base"]
        significant = np.abs(fine) > 1e-9 * np.abs(fine).max()
        np.testing.assert_allclose(coarse[significant], fine[significant], rtol=1e-5)
