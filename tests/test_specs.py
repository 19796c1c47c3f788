"""Bad detector specs are rejected with errors that name the field and the allowed range."""

import tomllib

import pytest

from cevnsfast.detectors import SpecError
from cevnsfast.detectors.spec import SHIPPED_SPEC_DIR, load_spec, shipped_spec_names, validate_spec


def _raw(name="cryocsi"):
    with (SHIPPED_SPEC_DIR / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


def test_shipped_specs_are_valid_and_cite_their_values():
    assert {"nai", "cryocsi", "csi2021"} <= set(shipped_spec_names())
    for name in shipped_spec_names():
        spec = load_spec(name)
        assert spec.raw["sources"], name


@pytest.mark.parametrize(
    ("mutate", "field", "message"),
    [
        (lambda r: r["target"].pop("mass_kg"), "target.mass_kg", "is missing"),
        (lambda r: r["target"].update(mass_kg=-1.0), "target.mass_kg", "allowed range (0.0, "),
        (lambda r: r["target"].update(formula={"Xx": 1}), "target.formula.Xx", "unknown element"),
        (
            lambda r: r["exposure"].update(distance_m="x"),
            "exposure.distance_m",
            "must be a finite number",
        ),
        (lambda r: r["response"].update(observable="lux"), "response.observable", "must be one of"),
        (
            lambda r: r["response"]["quenching"].update(qf=1.5),
            "response.quenching.qf",
            "allowed range (0.0, 1.0]",
        ),
        (lambda r: r["binning"].update(start=5000.0), "binning.edges[0]", "above the largest"),
        (lambda r: r["sources"].pop("target.mass_kg"), "sources", "no citation for 'target.mass"),
        (
            lambda r: r["target"].update(detected_elements=["Na"]),
            "target.detected_elements",
            "not in target.formula",
        ),
        (
            lambda r: r["response"]["smearing"].update(model="gaussian", s0=0.0, s1=0.0, s2=0.0),
            "response.smearing",
            "needs s0, s1 or s2",
        ),
    ],
)
def test_bad_specs_name_field_and_range(mutate, field, message):
    raw = _raw()
    mutate(raw)
    with pytest.raises(SpecError) as err:
        validate_spec(raw)
    assert err.value.field == field
    assert field in str(err.value) and message in str(err.value)


def test_threshold_check_uses_the_lightest_detected_nucleus():
    """A NaI threshold above every Na recoil is rejected, citing the largest possible signal."""
    raw = _raw("nai")
    raw["binning"].update(start=400.0)
    with pytest.raises(SpecError, match=r"binning.edges\[0\].*allowed range: \[0, "):
        validate_spec(raw)


def test_unknown_detector_lists_shipped_ones():
    with pytest.raises(ValueError, match="shipped detectors: .*csi2021"):
        load_spec("xenon1t")


def test_overrides_are_validated_too():
    with pytest.raises(SpecError, match="target.mass_kg"):
        load_spec("nai", {"target.mass_kg": 0.0})


def test_form_factor_parameters_are_settings():
    """The [assumed] Klein–Nystrand R_A = 1.23 A^{1/3} fm can be changed in a spec, and a
    larger nucleus loses coherence faster: fewer events."""
    from cevnsfast.detectors import Detector
    from cevnsfast.reference.direct import direct_counts

    nominal = direct_counts(Detector.load("cryocsi"), {}).sum()
    override = {
        "physics.form_factor_params": {"r0_fm": 1.30},
        "sources.physics.form_factor_params": "test: a 6 % larger radius",
    }
    bigger = direct_counts(Detector.load("cryocsi", override), {}).sum()
    assert bigger < nominal
    with pytest.raises(SpecError, match="allowed: r0_fm, ak_fm"):
        load_spec("cryocsi", {"physics.form_factor_params": {"skin_fm": 0.9}})
