"""COHERENT CsI 2021 real-data likelihood (arXiv:2402.16953 Eqs. 17–18, after De Romeri et
al. arXiv:2211.11905 and COHERENT arXiv:2110.07730).

    χ² = 2 Σ_ij [N_th − N_obs + N_obs ln(N_obs/N_th)] + Σ_k (α_k/σ_k)²
    N_th = (1+α0) N_CEvNS(ε; α4, α6, α7) + (1+α1) N_BRN + (1+α2) N_NIN + (1+α3) N_SSB

over 9 PE × 11 time bins. α0 (flux, QF, efficiency normalisation), α1–α3 (BRN, NIN, SSB)
are normalisations; α4 (nuclear radius: R_A → (1+α4) R_A), α6 (efficiency shape, in units of
the released ±1σ curves) and α7 (beam timing shift, µs) are shape nuisances tabulated in the
csi2021 table. α6 and α7 are unpenalised. All nuisances are profiled inside one numba call
per coupling point (``profile_kernels.profile_quadratic``).

The SSB follows ``CsI2021Settings.ssb_model`` (``data.csi2021.SSB_MODELS``). With
``ac_measurement`` the single α3 is replaced by one free normalisation β_i per PE bin i, and the
AC sample enters as a second Poisson measurement of it: 9 extra bins with observed AC count
n_i^AC and expectation (1+β_i) n_i^AC (the C-window SSB of row i is (1+β_i) n_i^AC/τ f_j, τ the
AC/C exposure ratio). The extra bins join the Poisson sum of Eq. 17, so the kernel profiles
the β_i exactly with the other nuisances; the number of degrees of freedom is unchanged (9
measurements, 9 parameters).
"""

import operator
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from cevnsfast.data.csi2021 import SSB_MODELS, load_csi2021
from cevnsfast.likelihood.base import Experiment, FitResult
from cevnsfast.likelihood.toydata import PoissonToys
from cevnsfast.profile_kernels import (
    CHI2_TOLERANCE,
    MAX_NEWTON_STEPS,
    profile_quadratic_batch,
    profile_quadratic_into,
    quadratic_buffers,
)
from cevnsfast.rates import RatePredictor

SHAPE_AXES = ("radius_scale", "efficiency_sigma", "time_shift_us")
NUISANCE_NAMES = ("alpha0", "alpha1", "alpha2", "alpha3", "alpha4", "alpha6", "alpha7")


@dataclass(frozen=True)
class CsI2021Settings:
    """Nuisance priors and background normalisations (names after arXiv:2211.11905).

    σ values: α0 11.45 % and α4 5 % [assumed, physics card, after arXiv:2211.11905]; BRN 25 %,
    NIN 35 %, SSB 2.1 % (arXiv:2110.07730). BRN/NIN expected counts in the 9×11 grid before
    the timing efficiency: 18.4 and 5.6 (release PDFs, docs/physics-sources.md).

    ``ssb_model``: one of ``data.csi2021.SSB_MODELS`` (default ``flat_time``);
    ``ssb_timing_efficiency``: the SSB time shape follows ε_T (the AC sample does, see
    ``SSB_MODELS``); ``ac_exposure_ratio`` τ = AC/C exposure, 1 in this release (both windows
    are taken from the same triggers with the same length; data/csi2021.py) — used by
    ``ac_measurement`` only, where ``sigma_ssb`` is not used (the AC counts constrain the SSB).
    """

    sigma_alpha0: float = 0.1145
    sigma_brn: float = 0.25
    sigma_nin: float = 0.35
    sigma_ssb: float = 0.021
    sigma_radius: float = 0.05
    n_brn: float = 18.4
    n_nin: float = 5.6
    ssb_model: str = "flat_time"
    ssb_timing_efficiency: bool = True
    ac_exposure_ratio: float = 1.0

    def __post_init__(self):
        if self.ssb_model not in SSB_MODELS:
            raise ValueError(
                f"CsI2021Settings.ssb_model must be one of {', '.join(SSB_MODELS)}; "
                f"got {self.ssb_model!r}"
            )
        if not (np.isfinite(self.ac_exposure_ratio) and self.ac_exposure_ratio > 0):
            raise ValueError(
                "CsI2021Settings.ac_exposure_ratio must be finite and > 0; "
                f"got {self.ac_exposure_ratio}"
            )


class CsI2021(PoissonToys, Experiment):
    """The CsI 2021 χ² with α0…α7 profiled, as a function of the chosen couplings."""

    name = "csi2021"

    def __init__(
        self,
        couplings: Sequence[str] = (),
        data_dir: Path | None = None,
        tables_dir: Path | None = None,
        settings: CsI2021Settings = CsI2021Settings(),
    ):
        self.settings = settings
        self.predictor = RatePredictor("csi2021", list(couplings), directory=tables_dir)
        self.coupling_names = self.predictor.coupling_names
        if tuple(self.predictor.nuisance_axes) != SHAPE_AXES:
            raise ValueError(
                f"csi2021 table must carry the shape axes {SHAPE_AXES}, "
                f"has {self.predictor.nuisance_axes}"
            )
        s = settings
        self.data = load_csi2021(
            data_dir,
            n_brn=s.n_brn,
            n_nin=s.n_nin,
            ssb_model=s.ssb_model,
            ssb_timing_efficiency=s.ssb_timing_efficiency,
        )
        self._check_binning()
        n_pe, n_bins = self.data.observed.shape[0], self.data.observed.size
        if s.ssb_model == "ac_measurement":
            # one SSB background per PE row, in C bins (ssb/τ) and in its own AC bin (n_AC)
            ac_totals = self.data.ac.sum(axis=1)
            rows = np.zeros((n_pe, n_bins + n_pe))
            for i in range(n_pe):
                row = np.zeros_like(self.data.ssb)
                row[i] = self.data.ssb[i] / s.ac_exposure_ratio
                rows[i, :n_bins] = row.ravel()
                rows[i, n_bins + i] = ac_totals[i]
            pad = np.zeros((2, n_pe))
            brn_nin = np.stack([self.data.brn.ravel(), self.data.nin.ravel()])
            self.backgrounds = np.vstack([np.hstack([brn_nin, pad]), rows])
            self.observed = np.concatenate([self.data.observed.ravel(), ac_totals])
            ssb_sigmas = np.full(n_pe, np.inf)
        else:
            self.backgrounds = np.stack([self.data.brn, self.data.nin, self.data.ssb]).reshape(
                3, -1
            )
            self.observed = self.data.observed.ravel()
            ssb_sigmas = np.array([s.sigma_ssb])
        self.backgrounds = np.ascontiguousarray(self.backgrounds, dtype=float)
        self.observed = np.ascontiguousarray(self.observed, dtype=float)
        self.n_bins = n_bins
        self.sigma_norm = np.concatenate([[s.sigma_alpha0, s.sigma_brn, s.sigma_nin], ssb_sigmas])
        self.sigma_shape = np.array([s.sigma_radius, np.inf, np.inf])
        self.shape_center = np.array([1.0, 0.0, 0.0])
        self.x0 = np.concatenate([np.zeros(self.sigma_norm.size), self.shape_center])

    def _check_binning(self) -> None:
        table_pe = np.asarray(self.predictor.bin_edges)
        table_t = np.asarray(self.predictor.time_edges_us)
        if not (
            np.array_equal(table_pe, np.asarray(self.data.pe_edges))
            and np.array_equal(table_t, np.asarray(self.data.time_edges_us))
        ):
            raise ValueError(
                "csi2021 table and data binning differ: table PE edges "
                f"{table_pe.tolist()}, time edges {table_t.tolist()} µs; data "
                f"{list(self.data.pe_edges)}, {list(self.data.time_edges_us)}"
            )

    def _kernel_arguments(self) -> tuple[tuple, tuple, float]:
        """(table arguments, data and prior arguments, √s) of
        ``profile_quadratic(*tables, √s·x, *data)``, kept while the predictor, its tensors,
        the data and the auxiliary centres stay the same objects (a model predictor moving
        along its axis updates its tensors in place); a single-point χ² then costs the
        kernel and ~3 µs.

        A fluctuated α0 centre a scales the signal by s = 1 + a
        (``toydata.centred_normalisations``); in the quadratic form x·T·x that is x → √s x,
        which spares scaling the tables for every toy."""
        p = self.predictor
        key = (self.observed, self.centres, p, p.tensor, p.shape_tensors, p.grid_values)
        cached = self.__dict__.get("_kernel_arguments_cache")
        if cached is not None and all(map(operator.is_, cached[0], key)):  # 0.35 µs, not 1.1
            return cached[1]
        backgrounds, sigma_norm, shape_center, scale = self.kernel_priors()
        arguments = (
            (p.tensor, p.shape_tensors, p.grid_sizes, p.grid_values),
            (
                self.observed,
                backgrounds,
                sigma_norm,
                self.sigma_shape,
                shape_center,
                self.x0,
                MAX_NEWTON_STEPS,
                CHI2_TOLERANCE,
            ),
            float(np.sqrt(scale)),
        )
        self._kernel_arguments_cache = (key, arguments)
        return arguments

    def _profile_kernel(self, values) -> tuple[float, np.ndarray, int, bool]:
        """(χ²_min, kernel parameters at the minimum, n_iter, ok); the parameter array is
        this thread's work array, overwritten by its next call."""
        tables, data, root_scale = self._kernel_arguments()
        x = self.predictor.x_vector(values)
        buffers = self._work_arrays(tables, data)
        chi2, n_iter, ok = profile_quadratic_into(
            *tables, x if root_scale == 1.0 else root_scale * x, *data, *buffers
        )
        return chi2, buffers[1], n_iter, ok

    def _work_arrays(self, tables: tuple, data: tuple) -> tuple[tuple, np.ndarray]:
        """(``quadratic_buffers``, output array) of the calling thread for the current kernel
        arguments: single-point calls reuse them instead of allocating and preparing them."""
        thread = threading.get_ident()
        cached = self.__dict__.get("_work_arrays_cache")
        if cached is not None and cached[0] == thread and cached[1] is data:
            return cached[2]
        observed, backgrounds = data[0], data[1]
        buffers = quadratic_buffers(tables[0], tables[1], observed, backgrounds)
        arrays = (buffers, np.empty(1 + backgrounds.shape[0] + tables[1].shape[0]))
        self._work_arrays_cache = (thread, data, arrays)
        return arrays

    def profile(self, values=None) -> tuple[float, np.ndarray, bool]:
        """(χ²_min, [α0, α1, α2, α3…, R/R₀, α6, α7], converged) at one coupling point; with
        ``ac_measurement`` α3 is one β_i per PE bin."""
        chi2, params, _, ok = self._profile_kernel(values)
        return float(chi2), self.physical_params(params.copy()), bool(ok)

    def signal_inputs(self, values=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sig0, shape grids, grid values) the kernel profiles at one coupling point (zero
        signal in the measurement bins after the table's, as in ``profile_quadratic``)."""
        p = self.predictor
        x = p.x_vector(values)
        n_obs = self.observed.size
        sig0 = np.zeros(n_obs)
        sig0[: p.n_bins] = p.counts(values)
        grids = np.zeros((*p.shape_tensors.shape[:2], n_obs))
        grids[..., : p.n_bins] = p.signal_grids(x)
        return sig0, grids, p.grid_values

    def chi2(self, values=None) -> float:
        return float(self._profile_kernel(values)[0])

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        points = self._points(points)
        tables, data, root_scale = self._kernel_arguments()
        xs = np.full((points.shape[0], points.shape[1] + 1), root_scale)
        xs[:, 1:] *= points
        return profile_quadratic_batch(*tables, xs, *data)[0]

    def _components(self, params: np.ndarray, values) -> dict[str, np.ndarray]:
        """Fitted CEvNS, BRN, NIN, SSB and observed counts on the (PE, time) grid."""
        n_norm = self.sigma_norm.size
        a0, scales = params[0], 1.0 + params[1:n_norm]
        radius, a6, a7 = params[n_norm:]
        nuis = {"radius_scale": radius, "efficiency_sigma": a6, "time_shift_us": a7}
        shape = self.data.observed.shape
        bkg = scales[:, None] * self.backgrounds[:, : self.n_bins]
        return {
            "CEvNS": (1 + a0) * self.predictor.counts(values, nuis).reshape(shape),
            "BRN": bkg[0].reshape(shape),
            "NIN": bkg[1].reshape(shape),
            "SSB": bkg[2:].sum(axis=0).reshape(shape),
            "data": self.data.observed,
        }

    def fit(self, values: Mapping[str, float] | None = None) -> FitResult:
        chi2, params, ok = self.profile(values)
        parts = self._components(params, values)
        counts = {
            "cevns": float(parts["CEvNS"].sum()),
            "brn": float(parts["BRN"].sum()),
            "nin": float(parts["NIN"].sum()),
            "ssb": float(parts["SSB"].sum()),
            "observed": float(self.data.observed.sum()),
            "cevns_nominal": float(self.predictor.counts(values).sum()),
        }
        n_norm = self.sigma_norm.size
        a0, a1, a2 = params[:3]
        radius, a6, a7 = params[n_norm:]
        # α3: the relative change of the SSB total (one β_i per PE bin with ac_measurement)
        a3 = counts["ssb"] / self.data.ssb.sum() - 1.0
        nuisances = dict(zip(NUISANCE_NAMES, [a0, a1, a2, a3, radius - 1.0, a6, a7], strict=True))
        if self.settings.ssb_model == "ac_measurement":
            nuisances |= {f"beta_pe{i}": b for i, b in enumerate(params[3:n_norm])}
            counts["ac_observed"] = float(self.data.ac.sum())
        # unpenalised fitted parameters: α6, α7 and, with ac_measurement, one β_i per AC bin
        free = int(np.count_nonzero(np.isinf(self.sigma_norm))) + 2
        return FitResult(
            experiment=self.name,
            couplings={n: float(v) for n, v in (values or {}).items()},
            chi2_min=chi2,
            ndof=self.observed.size - free,
            nuisances={k: float(v) for k, v in nuisances.items()},
            counts=counts,
            converged=ok,
        )

    def fit_plot_data(self, values=None) -> tuple[dict[str, np.ndarray], list]:
        """Best-fit components and data on the (PE, time) grid, and the grid's axes."""
        axes = [
            (self.data.pe_edges, "reconstructed energy [PE]"),
            (self.data.time_edges_us, "time [µs]"),
        ]
        return self.fitted_components(values), axes

    def fitted_components(self, values=None) -> dict[str, np.ndarray]:
        """Best-fit CEvNS, BRN, NIN, SSB and observed counts on the (PE, time) grid (for plots)."""
        return self._components(self.profile(values)[1], values)

    def describe(self) -> dict:
        return {"settings": asdict(self.settings), "bins": int(self.observed.size)}
