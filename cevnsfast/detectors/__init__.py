"""Detectors: target + exposure + response, loaded from a validated spec file."""

from cevnsfast.detectors.detector import Detector, TargetNucleus
from cevnsfast.detectors.errors import SpecError
from cevnsfast.detectors.spec import DetectorSpec, load_spec, shipped_spec_names

__all__ = [
    "Detector",
    "DetectorSpec",
    "SpecError",
    "TargetNucleus",
    "load_spec",
    "shipped_spec_names",
]
