"""Builds shared between processes and between node sets: never twice, never different.

``reproduce`` builds the scenario tables in a worker while the fits may reach the same table;
the build lock (``build_tables.build.build_claim``) must make the second builder wait and
then use the first one's table. Model tables evaluate the detector response P_b(T) once per
distinct recoil node and reuse it between tables: the numbers must equal those of a
separate evaluation per node set, bit for bit.
"""

import multiprocessing
import time

import numpy as np

from cevnsfast.build_tables.build import build_detector
from cevnsfast.build_tables.model_tables import bin_probabilities, collect_terms, recoil_integrands
from cevnsfast.detectors import Detector
from cevnsfast.detectors.detector import QuadratureSettings
from cevnsfast.detectors.spec import load_spec
from cevnsfast.models.scenarios import get_model
from cevnsfast.tables import build_lock, table_path


def _build_while_holding_lock(directory, started) -> None:
    path = table_path("nai", load_spec("nai").hash(), directory)
    with build_lock(path):
        started.set()
        time.sleep(1.0)  # the other process is now waiting on the lock
        assert build_detector("nai", directory=directory).built


def test_a_table_built_meanwhile_is_not_built_again(tmp_path):
    ctx = multiprocessing.get_context("spawn")
    started = ctx.Event()
    other = ctx.Process(target=_build_while_holding_lock, args=(tmp_path, started))
    other.start()
    assert started.wait(60.0)
    # force=True as ``load_model_table`` passes for a missing table: the table another
    # process finished while this one waited is used, not rebuilt
    result = build_detector("nai", directory=tmp_path, force=True)
    other.join(60.0)
    assert other.exitcode == 0
    assert not result.built
    first = result.path.stat().st_mtime_ns
    # a table that was there when the call began is rebuilt by force
    assert build_detector("nai", directory=tmp_path, force=True).built
    assert result.path.stat().st_mtime_ns != first


def test_shared_bin_probabilities_equal_separate_ones():
    """Transition magnetic moment: one node set per ν₄ mass (panels split at its kinematic
    end points); CsI 2021 with its Gamma smearing and a varied efficiency (α6)."""
    model = get_model("transition_magnetic_moment", m4_mev=[0.5, 12.0, 29.0, 35.0])
    detector = Detector(load_spec("csi2021"))
    kernels, _ = collect_terms(model, detector)
    integrands = recoil_integrands(model, detector, kernels, QuadratureSettings())
    assert len(integrands[0]) == 4  # per-mass node sets: the sharing is exercised
    for varied in (detector, Detector(detector.spec, efficiency_sigma=1.5)):
        for _ in range(2):  # computed, then taken from the process cache
            shared = bin_probabilities(integrands, varied)
            for per_set, probs in zip(integrands, shared, strict=True):
                for (_, t_kev, _), prob in zip(per_set, probs, strict=True):
                    np.testing.assert_array_equal(prob, varied.response.bin_probabilities(t_kev))
    nominal = bin_probabilities(integrands, detector)[0][0]
    assert not np.array_equal(nominal, bin_probabilities(integrands, varied)[0][0])
