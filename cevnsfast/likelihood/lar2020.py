"""COHERENT CENNS-10 liquid-argon 2020 real-data likelihood (Analysis A, arXiv:2003.10630; data
release arXiv:2006.12659), in the binned Poisson form of arXiv:2402.16953 Eq. 17 with the
nuisance treatment of De Romeri et al. (arXiv:2211.11905):

    χ² = 2 Σ_b [N_th − N_obs + N_obs ln(N_obs/N_th)] + Σ_i (α_i/σ_i)² + Σ_k (θ_k/σ_k)²
    N_th = (1+α0) S(ε; θ_t, θ_F90) + (1+α1) B_pBRN + (1+α2) B_dBRN + (1+α3) B_SS
           + Σ_k θ_k ΔB_k                                   (k: BRN energy, timing mean, width)

**Bins (``LAr2020Settings.projection``).** Default ``"energy_time"`` (experiment ``lar2020``):
the release's 3D tables summed over F90, 12 energy (10 keVee) × 10 time (0.5 µs) = 120 bins,
the binning of the published phenomenology on these data (De Romeri et al., JHEP 04 (2023)
035, arXiv:2211.11905). ``"energy_f90_time"`` (experiment ``lar2020_3d``): COHERENT's own 3D
fit grid, 960 bins (``cevnsfast.data.lar2020.analysis_projection`` argues its strengths: F90
separates the nuclear-recoil signal from the ³⁹Ar-dominated steady-state background). The
engine predicts CEvNS on energy × time (the ``lar2020`` table: spec
``build_tables/detectors/lar2020.toml``, every value from the release) and, in 3D, lifts it to
F90 with P(F90 bin | energy bin) of the release CEvNS PDF. The lift is exact for the release's
own CEvNS PDF (its F90 shape factorises in time) and, for a new-physics signal, assumes that
the F90 of a nuclear recoil depends on its energy only.

**SM template (``LAr2020Settings.cevns_template``).** Default ``"release"``: the SM signal is
the release's CEvNS PDF (128 events), reweighted per (energy, time) bin by the engine's
new-physics / SM ratio (``template_weights``), so the SM prediction is COHERENT's own;
``"engine"``: the engine's own prediction (119.6 events with the spec's radiative couplings;
docs/normalisation-lar.md).

**Signal nuisances.** α0: CEvNS normalisation, prior 17/128 = 13.3 % (the YAML's predicted
128 ± 17, led by the 10 % flux uncertainty, 0.09 ± 0.009 ν/flavour/POT). The released CEvNS
variants keep the nominal total (128), so the two shape axes below do not double-count it.
The kernel morphs the signal multiplicatively (``profile_kernels``) on them:

- θ_t, the beam-timing shift (µs): the table's ``time_shift_us`` grid, computed by the engine
  for any couplings; prior σ = 200 ns (the YAML's uncertainty on the 440 ns pulse mean). The
  release's one-sided CEvNS timing-mean variant is a +0.23 µs shift of this model
  (``tests/test_lar2020_likelihood.py``), i.e. about 1σ;
- θ_F90 (units of the released ±1σ): the released ``cevnspdf±1sigF90`` variants as per-cell
  ratios r± = variant/nominal of the time-summed (energy, F90) PDFs, interpolated between −1,
  0 and +1 σ exponentially with a smooth 6th-order polynomial core (HistFactory interpolation
  code 4: positive everywhere, C², exact at ±1σ; the ratios reach 17 and 0.035, where a linear
  morph would turn negative at 0.2σ). Tabulated on θ_F90 ∈ [−3, 3] (``F90_GRID``) for the
  kernel's cubic interpolation; prior N(0, 1).

**Backgrounds** (prompt BRN, delayed BRN, SS): the release PDFs normalised to the YAML
predictions, with the YAML's uncertainties as priors (497 ± 160, 33 ± 33, 3154 ± 25). The
prompt-BRN systematic variants (energy ±1σ, timing mean ±1σ, one-sided timing width) are
linear shape nuisances θ_k ΔB_k with ΔB = (B₊ − B₋)/2 (two-sided) or B_w − B₀ (one-sided),
each variant rescaled to the nominal total first (``variant_normalisation="shape"``; the
release's +1σ timing-mean file alone carries +5.4 %), prior N(0, 1). The kernel only morphs
the signal, so each θ_k enters as an extra background component C_k = L ΔB_k with
normalisation α_k = θ_k / L (prior σ = 1/L) and one fixed component −L Σ_k ΔB_k (prior σ = 0)
restores the nominal sum: N_th ⊃ Σ_k (1 + α_k) L ΔB_k − L Σ_k ΔB_k = Σ_k θ_k ΔB_k. The bound
α_k ≥ −1 of the kernel becomes θ_k ≥ −L (L = 5: far outside the N(0, 1) prior). The morph is
additive to (1+α1) B_pBRN rather than multiplied by it (a second-order difference, α1 θ_k).

All nine nuisances (α0…α3, θ_t, θ_F90, three θ_k; plus the fixed component, σ = 0) are profiled
inside one numba call per coupling point (``profile_kernels.profile_poisson``), started from
the SM best-fit nuisances.
"""

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numba as nb
import numpy as np

from cevnsfast.data.lar2020 import BACKGROUNDS, analysis_projection, load_lar2020
from cevnsfast.kernels import quadratic_form_into
from cevnsfast.likelihood.base import Experiment, FitResult
from cevnsfast.likelihood.toydata import PoissonToys
from cevnsfast.profile_kernels import (
    CHI2_TOLERANCE,
    MAX_NEWTON_STEPS,
    WARM_BLOCK,
    interpolate_shape,
    next_start,
    poisson_scratch,
    profile_poisson,
    profile_poisson_into,
)
from cevnsfast.rates import RatePredictor

SHAPE_AXES = ("time_shift_us",)
"""Shape axes the lar2020 table must carry."""

BRN_SHAPES = {
    # name: (plus variant, minus variant or None for one-sided)
    "brn_energy": ("energy_plus1sigma", "energy_minus1sigma"),
    "brn_timing_mean": ("timing_mean_plus1sigma", "timing_mean_minus1sigma"),
    "brn_timing_width": ("timing_width", None),
}
"""Prompt-BRN systematic variants of the release, as linear background-shape nuisances."""

NUISANCE_NAMES = (
    "alpha_cevns",
    "alpha_brn_prompt",
    "alpha_brn_delayed",
    "alpha_ss",
    *(f"theta_{k}" for k in BRN_SHAPES),
    "time_shift_us",
    "theta_f90",
)

F90_GRID = tuple(float(v) for v in np.round(np.r_[-3:-2:0.25, -2:2:0.125, 2:3.0001:0.25], 10))
"""θ_F90 grid (units of the released ±1σ) on which the F90 morph is tabulated: 0.125 steps
within ±2σ, 0.25 beyond, to ±3σ (41 points). The kernel's cubic interpolation of the code-4
morph of the SM signal is then within 0.002 events per bin for |θ| ≤ 1 and 0.07 for |θ| ≤ 2
(``tests/test_lar2020_likelihood.py``), far below the Poisson error of those bins."""


PROJECTIONS = ("energy_time", "energy_f90_time")
CEVNS_TEMPLATES = ("release", "engine")

TEMPLATE_MIN_FRACTION = 1e-9
"""An (energy, time) bin takes the per-bin ratio only if the engine's SM puts at least this
fraction of its total there; elsewhere (≥ 40 keVee, where the engine's acceptance is zero and
the release's PDF holds 0.078 events) the release's counts scale with the total ratio."""


def template_weights(
    release_counts: np.ndarray, engine_sm_counts: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(w, f) of the release-template reweighting S'_b = w_b S_b + f_b Σ_b' S_b'.

    S_b is the engine's prediction in (energy, time) bin b at any couplings, R_b the release's
    CEvNS PDF (at its predicted normalisation) summed over F90, S⁰_b the engine's SM. Where the
    engine's SM is populated, w_b = R_b / S⁰_b and f_b = 0, so S'_b = R_b · S_b / S⁰_b: the
    release's SM times the engine's new-physics/SM ratio in that bin (reweighting, as a
    Monte-Carlo template is reweighted). Elsewhere w_b = 0 and f_b = R_b / Σ S⁰: the release's
    counts times the engine's ratio of totals. At the SM, S' = R exactly.
    """
    r = np.asarray(release_counts, dtype=float).ravel()
    s0 = np.asarray(engine_sm_counts, dtype=float).ravel()
    if r.shape != s0.shape:
        raise ValueError(f"release template has {r.size} bins, the engine {s0.size}")
    total = s0.sum()
    if not total > 0:
        raise ValueError("the engine's SM prediction is empty: nothing to reweight")
    populated = s0 > TEMPLATE_MIN_FRACTION * total
    w = np.divide(r, s0, out=np.zeros_like(r), where=populated)
    f = np.where(populated, 0.0, r / total)
    return np.ascontiguousarray(w), np.ascontiguousarray(f)


RATIO_FLOOR = 1e-6
"""Floor on the F90 variant/nominal ratios (the exponential morph needs r > 0; the release's
smallest is 0.035)."""


@dataclass(frozen=True)
class LAr2020Settings:
    """Choices of the LAr 2020 likelihood; ``None`` means "from ``LArParametersAnlA.yaml``".

    ``sigma_cevns``: CEvNS normalisation prior (YAML: 17/128); ``float("inf")`` leaves it free,
    as in COHERENT's own fit (159 ± 43). ``sigma_time_shift_us``: beam-timing prior (YAML:
    200 ns). Background priors are always the YAML's predicted uncertainties.
    ``brn_shape_range`` is L of the module docstring.

    ``projection``: ``"energy_time"`` (default, 120 bins: the binning of the published
    phenomenology on these data, De Romeri et al., JHEP 04 (2023) 035, arXiv:2211.11905) or
    ``"energy_f90_time"`` (960 bins, COHERENT's own 3D grid; experiment name ``lar2020_3d``).
    ``cevns_template``: ``"release"`` (default: the SM signal is the release's CEvNS PDF at its
    predicted 128 events, and the engine supplies the new-physics ratio per bin,
    ``template_weights``) or ``"engine"`` (the engine's own SM prediction, 119.6 events).
    """

    projection: str = "energy_time"
    cevns_template: str = "release"
    sigma_cevns: float | None = None
    sigma_time_shift_us: float | None = None
    sigma_f90: float = 1.0
    sigma_brn_shape: float = 1.0
    brn_shape_range: float = 5.0

    def __post_init__(self) -> None:
        if self.projection not in PROJECTIONS:
            raise ValueError(
                f"projection must be one of {', '.join(PROJECTIONS)}, not {self.projection!r}"
            )
        if self.cevns_template not in CEVNS_TEMPLATES:
            raise ValueError(
                f"cevns_template must be one of {', '.join(CEVNS_TEMPLATES)}, "
                f"not {self.cevns_template!r}"
            )


def code4_morph(ratio_plus: np.ndarray, ratio_minus: np.ndarray, theta: float) -> np.ndarray:
    """Multiplicative morph factor at θ between ratios r₊ (θ = +1) and r₋ (θ = −1).

    HistFactory interpolation code 4: r₊^θ for θ ≥ 1, r₋^−θ for θ ≤ −1, and inside a
    polynomial 1 + Σ_{i=1..6} a_i θ^i matching value, first and second derivative at ±1 (so the
    factor is C² and 1 at θ = 0). Ratios must be > 0.
    """
    rp = np.asarray(ratio_plus, dtype=float)
    rm = np.asarray(ratio_minus, dtype=float)
    if theta >= 1.0:
        return rp**theta
    if theta <= -1.0:
        return rm ** (-theta)
    lp, lm = np.log(rp), np.log(rm)
    rhs = np.stack([rp - 1.0, rp * lp, rp * lp**2, rm - 1.0, -rm * lm, rm * lm**2], axis=-1)
    coef = rhs @ _CODE4_INVERSE.T
    powers = theta ** np.arange(1, 7)
    return 1.0 + coef @ powers


_CODE4_INVERSE = np.linalg.inv(
    np.array(
        [
            [1, 1, 1, 1, 1, 1],  # f(1) − 1
            [1, 2, 3, 4, 5, 6],  # f'(1)
            [0, 2, 6, 12, 20, 30],  # f''(1)
            [-1, 1, -1, 1, -1, 1],  # f(−1) − 1
            [1, -2, 3, -4, 5, -6],  # f'(−1)
            [0, 2, -6, 12, -20, 30],  # f''(−1)
        ],
        dtype=float,
    )
)


@nb.njit(cache=True, nogil=True)
def _lift_into(sig_et, p_f, n_t, out):
    """out[(e, f, t)] = P(f | e) · sig_et[(e, t)] (flattened, energy slowest, time fastest)."""
    n_e, n_f = p_f.shape
    for e in range(n_e):
        for f in range(n_f):
            w = p_f[e, f]
            o = (e * n_f + f) * n_t
            i = e * n_t
            for t in range(n_t):
                out[o + t] = w * sig_et[i + t]


@nb.njit(cache=True, nogil=True)
def _reweight(s_et, w, f):
    """s ← w s + f Σ s in place (``template_weights``; w = 1, f = 0 for the engine's own)."""
    total = s_et.sum()
    for b in range(s_et.shape[0]):
        s_et[b] = w[b] * s_et[b] + f[b] * total


@nb.njit(cache=True, nogil=True)
def _signal_inputs(
    tensor, time_tensors, n_time_grid, w, f, p_f, f90_factor, n_t, x, sig0, shape_grid
):
    """Lifted nominal signal ``sig0`` and the shape grids [time shift, F90] at couplings x."""
    n_et = tensor.shape[2]
    s_et = np.empty(n_et)
    quadratic_form_into(tensor, x, s_et)
    _reweight(s_et, w, f)
    _lift_into(s_et, p_f, n_t, sig0)
    for g in range(n_time_grid):
        quadratic_form_into(time_tensors[g], x, s_et)
        _reweight(s_et, w, f)
        _lift_into(s_et, p_f, n_t, shape_grid[0, g])
    n_e, n_f = p_f.shape
    for g in range(f90_factor.shape[0]):
        row = shape_grid[1, g]
        for e in range(n_e):
            for f in range(n_f):
                c = f90_factor[g, e, f]
                o = (e * n_f + f) * n_t
                for t in range(n_t):
                    row[o + t] = c * sig0[o + t]


@nb.njit(cache=True, nogil=True)
def _chi2_block(
    tensor, time_tensors, n_time_grid, w, f, p_f, f90_factor, n_t, xs, observed, backgrounds,
    grid_values, sigma_norm, sigma_shape, shape_center, x0, chi2,
):  # fmt: skip
    """χ²_min at the coupling vectors xs (in order) into ``chi2``: each profile starts from
    the previous point's minimum (extrapolated along a scan row, ``next_start``), the robust
    check's restarts from x0. Warm starts move the start, not the minimum (to ~1e-10)."""
    n_bins = observed.shape[0]
    sig0 = np.empty(n_bins)
    shape_grid = np.empty((2, grid_values.shape[1], n_bins))  # padding rows are never read
    scratch = poisson_scratch(observed, backgrounds, shape_grid)
    pars = np.empty((xs.shape[0], x0.shape[0]))
    ok = np.empty(xs.shape[0], dtype=np.bool_)
    start = x0.copy()
    for p in range(xs.shape[0]):
        _signal_inputs(
            tensor, time_tensors, n_time_grid, w, f, p_f, f90_factor, n_t, xs[p], sig0, shape_grid
        )
        chi2[p], _, ok[p] = profile_poisson_into(
            observed, sig0, shape_grid, grid_values, backgrounds, sigma_norm, sigma_shape,
            shape_center, start, x0, MAX_NEWTON_STEPS, CHI2_TOLERANCE, scratch, pars[p],
        )  # fmt: skip
        next_start(xs, pars, ok, 0, p, x0, start)


@nb.njit(cache=True, nogil=True)
def _chi2_point(
    tensor,
    time_tensors,
    n_time_grid,
    w,
    f,
    p_f,
    f90_factor,
    n_t,
    x,
    observed,
    backgrounds,
    grid_values,
    sigma_norm,
    sigma_shape,
    shape_center,
    x0,
):
    n_bins = observed.shape[0]
    sig0 = np.empty(n_bins)
    shape_grid = np.empty((2, grid_values.shape[1], n_bins))  # padding rows are never read
    _signal_inputs(
        tensor, time_tensors, n_time_grid, w, f, p_f, f90_factor, n_t, x, sig0, shape_grid
    )
    return profile_poisson(
        observed,
        sig0,
        shape_grid,
        grid_values,
        backgrounds,
        sigma_norm,
        sigma_shape,
        shape_center,
        x0,
        MAX_NEWTON_STEPS,
        CHI2_TOLERANCE,
    )


class LAr2020(PoissonToys, Experiment):
    """The LAr 2020 χ² with all nuisances profiled, as a function of the chosen couplings."""

    name = "lar2020"

    def __init__(
        self,
        couplings: Sequence[str] = (),
        data_dir: Path | None = None,
        tables_dir: Path | None = None,
        settings: LAr2020Settings = LAr2020Settings(),
        name: str | None = None,
    ):
        self.settings = settings
        if name is not None:
            self.name = name
        self.predictor = RatePredictor("lar2020", list(couplings), directory=tables_dir)
        self.coupling_names = self.predictor.coupling_names
        if tuple(self.predictor.nuisance_axes) != SHAPE_AXES:
            raise ValueError(
                f"lar2020 table must carry the shape axes {SHAPE_AXES}, "
                f"has {self.predictor.nuisance_axes}"
            )
        self.data = load_lar2020(data_dir)
        self.analysis = a = analysis_projection(self.data, settings.projection)
        self._check_binning()
        self.shape = a.shape
        self.observed = np.ascontiguousarray(a.observed_counts.ravel(), dtype=float)
        self._set_lift()
        self._set_template()
        self._set_backgrounds()
        self._set_priors()
        self.x0 = self._warm_start()

    # ---- set-up ---------------------------------------------------------------------------
    def _check_binning(self) -> None:
        a, p = self.analysis, self.predictor
        if not (
            np.allclose(p.bin_edges, a.energy_edges_keVee, atol=1e-9)
            and p.time_edges_us is not None
            and np.allclose(p.time_edges_us, a.time_edges_us, atol=1e-9)
        ):
            raise ValueError(
                "lar2020 table and release binning differ: table energy edges "
                f"{np.asarray(p.bin_edges).tolist()} keVee, time edges "
                f"{None if p.time_edges_us is None else np.asarray(p.time_edges_us).tolist()} "
                f"µs; release {a.energy_edges_keVee.tolist()}, {a.time_edges_us.tolist()}"
            )

    def _set_lift(self) -> None:
        """P(F90 | E) and the F90 morph factors on ``F90_GRID`` ((G, n_E, n_F); n_F = 1 for
        the energy × time projection, where the factor is the F90-window acceptance ratio)."""
        a, d = self.analysis, self.data
        n_e = a.energy_edges_keVee.size - 1
        self.n_time = a.time_edges_us.size - 1
        full = a.f90_given_energy is not None
        self.p_f90 = np.ascontiguousarray(a.f90_given_energy if full else np.ones((n_e, 1)))
        nominal = d.pdfs["cevns"].sum(axis=2)
        ratios = []
        for v in ("f90_plus1sigma", "f90_minus1sigma"):
            var = d.variants["cevns"][v].sum(axis=2)
            num, den = (
                (var, nominal)
                if full
                else (var.sum(1, keepdims=True), nominal.sum(1, keepdims=True))
            )
            ratio = np.divide(num, den, out=np.ones_like(num), where=den > 0)
            ratios.append(np.maximum(ratio, RATIO_FLOOR))
        self.f90_ratios = tuple(ratios)
        self.f90_factor = np.ascontiguousarray(
            np.stack([code4_morph(*ratios, th) for th in F90_GRID])
        )

    def _set_template(self) -> None:
        """Reweighting (w, f) of the SM template (``template_weights``), from the predictor
        this experiment is built with: a model predictor plugged in later
        (``likelihood.models``) keeps them, so its ratio is to this engine SM."""
        n = self.predictor.n_bins
        self.engine_sm_counts = np.asarray(self.predictor.counts(), dtype=float)
        if self.settings.cevns_template == "engine":
            self.template_w, self.template_f = np.ones(n), np.zeros(n)
            return
        release = self.analysis.cevns_release_counts
        release_et = release if release.ndim == 2 else release.sum(axis=1)
        self.template_w, self.template_f = template_weights(release_et, self.engine_sm_counts)

    def signal_counts(
        self, values: Mapping[str, float] | Sequence[float] | None = None
    ) -> np.ndarray:
        """The SM-template signal per (energy, time) bin at nominal nuisances (flattened,
        energy-major): the engine's prediction, reweighted as ``cevns_template`` says."""
        s = np.asarray(self.predictor.counts(values), dtype=float)
        return self.template_w * s + self.template_f * s.sum()

    def _set_backgrounds(self) -> None:
        a, L = self.analysis, self.settings.brn_shape_range
        rows = [a.background_counts[b].ravel() for b in BACKGROUNDS]
        nominal = a.background_counts["brn_prompt"].ravel()
        variants = a.background_variants["brn_prompt"]
        self.brn_deltas = {}
        for name, (plus, minus) in BRN_SHAPES.items():
            up = variants[plus].ravel()
            down = variants[minus].ravel() if minus else 2.0 * nominal - up
            self.brn_deltas[name] = 0.5 * (up - down)
        rows += [L * d for d in self.brn_deltas.values()]
        rows.append(-L * sum(self.brn_deltas.values()))
        self.backgrounds = np.ascontiguousarray(np.stack(rows))

    def _set_priors(self) -> None:
        s, p = self.settings, self.data.params
        cevns = p.predicted["cevns"]
        self.sigma_cevns = (
            cevns.unc_counts / cevns.counts if s.sigma_cevns is None else s.sigma_cevns
        )
        self.sigma_time_us = (
            1e-3 * p.pot_trace_mean_unc_ns
            if s.sigma_time_shift_us is None
            else s.sigma_time_shift_us
        )
        unc = self.analysis.background_unc_frac
        n_shapes = len(BRN_SHAPES)
        self.sigma_norm = np.array(
            [self.sigma_cevns, *(unc[b] for b in BACKGROUNDS)]
            + [s.sigma_brn_shape / s.brn_shape_range] * n_shapes
            + [0.0]
        )
        self.sigma_shape = np.array([self.sigma_time_us, s.sigma_f90])
        self.shape_center = np.zeros(2)
        self.x0 = np.zeros(self.sigma_norm.size + 2)
        pr = self.predictor
        g_max = max(pr.grid_values.shape[1], len(F90_GRID))
        self.grid_values = np.full((2, g_max), np.nan)
        self.grid_values[0, : pr.grid_sizes[0]] = pr.grid_values[0, : pr.grid_sizes[0]]
        self.grid_values[1, : len(F90_GRID)] = F90_GRID
        self.time_tensors = np.ascontiguousarray(pr.shape_tensors[0])
        self.n_time_grid = int(pr.grid_sizes[0])

    def _warm_start(self) -> np.ndarray:
        """Start every profile at the SM best-fit nuisances (from zeros when that fit fails):
        the same minimum to 1e-10 in χ², in ~5 Newton iterations instead of ~7."""
        x = np.zeros(1 + len(self.coupling_names))
        x[0] = 1.0
        _, params, _, ok = _chi2_point(*self._args(), x, *self._rest())
        return params.copy() if ok else self.x0

    # ---- evaluation -----------------------------------------------------------------------
    def _args(self, nominal_signal: bool = False):
        p = self.predictor
        # 1 + fluctuated α0 centre (toys, ``toydata``); the nominal signal for reporting
        scale = 1.0 if nominal_signal else self.kernel_priors()[3]
        return (
            p.tensor,
            self.time_tensors,
            self.n_time_grid,
            self.template_w,
            self.template_f,
            self.p_f90 if scale == 1.0 else scale * self.p_f90,  # P(F90|E) carries the signal
            self.f90_factor,
            self.n_time,
        )

    def _rest(self):
        backgrounds, sigma_norm, shape_center, _ = self.kernel_priors()
        return (
            self.observed,
            backgrounds,
            self.grid_values,
            sigma_norm,
            self.sigma_shape,
            shape_center,
            self.x0,
        )

    def kernel_inputs(self, values=None) -> tuple[np.ndarray, np.ndarray]:
        """(sig0, shape_grid) handed to ``profile_poisson`` at one coupling point."""
        x = self.predictor.x_vector(values)
        sig0 = np.empty(self.observed.size)
        grid = np.zeros((2, self.grid_values.shape[1], self.observed.size))
        _signal_inputs(*self._args(nominal_signal=True), x, sig0, grid)
        return sig0, grid

    def profile(self, values=None) -> tuple[float, np.ndarray, bool]:
        """(χ²_min, kernel parameters, converged); parameters in the order of the kernel:
        [α_cevns, α_pBRN, α_dBRN, α_SS, α_k (= θ_k / L) …, fixed, θ_t (µs), θ_F90]."""
        x = self.predictor.x_vector(values)
        chi2, params, _, ok = _chi2_point(*self._args(), x, *self._rest())
        return float(chi2), self.physical_params(params), bool(ok)

    def signal_inputs(self, values=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(sig0, shape grids, grid values) the kernel profiles at one coupling point."""
        sig0, grid = self.kernel_inputs(values)
        return sig0, grid, self.grid_values

    def chi2(self, values=None) -> float:
        return self.profile(values)[0]

    def chi2_batch(self, points: np.ndarray) -> np.ndarray:
        """Profiled χ² at many points: blocks of ``WARM_BLOCK`` consecutive points, each
        point warm-started from its predecessor's minimum (``_chi2_block``), the nogil
        blocks shared by ``numba.get_num_threads()`` Python threads (no ``parallel=True``
        variant has to be compiled)."""
        points = self._points(points)
        xs = np.ones((points.shape[0], points.shape[1] + 1))
        xs[:, 1:] = points
        out = np.empty(len(xs))
        args, rest = self._args(), self._rest()
        blocks = [slice(lo, lo + WARM_BLOCK) for lo in range(0, len(xs), WARM_BLOCK)]

        def run(mine: list[slice]) -> None:
            for block in mine:
                _chi2_block(*args, xs[block], *rest, out[block])

        n_workers = max(1, min(nb.get_num_threads(), len(blocks)))
        shares = [blocks[i::n_workers] for i in range(n_workers)]
        if n_workers == 1:
            run(shares[0])
        else:
            with ThreadPoolExecutor(n_workers) as pool:
                list(pool.map(run, shares))
        return out

    def nuisances(self, params: np.ndarray) -> dict[str, float]:
        """Kernel parameters → named nuisances (θ_k in units of the released ±1σ)."""
        n_bkg = len(BACKGROUNDS)
        thetas = self.settings.brn_shape_range * params[1 + n_bkg : 1 + n_bkg + len(BRN_SHAPES)]
        values = [*params[: 1 + n_bkg], *thetas, params[-2], params[-1]]
        return {k: float(v) for k, v in zip(NUISANCE_NAMES, values, strict=True)}

    def fit_plot_data(self, values=None) -> tuple[dict[str, np.ndarray], list]:
        """Best-fit components and data on the analysis grid, and the grid's axes."""
        fitted = self.fitted_counts(values)
        a = self.analysis
        axes = [(a.energy_edges_keVee, "reconstructed energy [keVee]")]
        if len(self.shape) == 3:
            axes.append((a.f90_edges, "F90"))
        axes.append((a.time_edges_us, "time [µs]"))
        names = {
            "cevns": "CEvNS",
            "brn_prompt": "BRN prompt",
            "brn_delayed": "BRN delayed",
            "ss": "SS",
            "observed": "data",
        }
        return {
            names[k]: np.asarray(v).reshape(self.shape) for k, v in fitted.items() if k in names
        }, axes

    def fitted_counts(self, values=None) -> dict[str, np.ndarray]:
        """Best-fit CEvNS, prompt BRN (with its shape nuisances), delayed BRN, SS and the data
        on the analysis grid (``self.shape``)."""
        _, params, _ = self.profile(values)
        nuis = self.nuisances(params)
        sig0, grid = self.kernel_inputs(values)
        signal = sig0.copy()
        for k, theta in enumerate(params[-2:]):
            n = int(np.sum(np.isfinite(self.grid_values[k])))
            shifted = interpolate_shape(
                np.ascontiguousarray(grid[k, :n]), self.grid_values[k, :n].copy(), float(theta)
            )
            ratio = np.divide(
                np.maximum(shifted, 0.0), sig0, out=np.ones_like(sig0), where=sig0 > 0
            )
            signal = np.where(sig0 > 0, signal * ratio, signal + shifted - sig0)
        a = self.analysis
        brn = (1 + nuis["alpha_brn_prompt"]) * a.background_counts["brn_prompt"].ravel()
        for name, delta in self.brn_deltas.items():
            brn = brn + nuis[f"theta_{name}"] * delta
        return {
            "cevns": ((1 + nuis["alpha_cevns"]) * signal).reshape(self.shape),
            "brn_prompt": brn.reshape(self.shape),
            "brn_delayed": (1 + nuis["alpha_brn_delayed"]) * a.background_counts["brn_delayed"],
            "ss": (1 + nuis["alpha_ss"]) * a.background_counts["ss"],
            "observed": self.observed.reshape(self.shape),
        }

    def fit(self, values: Mapping[str, float] | None = None) -> FitResult:
        chi2, params, ok = self.profile(values)
        parts = self.fitted_counts(values)
        counts = {k: float(v.sum()) for k, v in parts.items()}
        counts["cevns_nominal"] = float(self.signal_counts(values).sum())
        free = int(np.isinf(self.sigma_cevns)) + int(np.isinf(self.sigma_shape).sum())
        return FitResult(
            experiment=self.name,
            couplings={n: float(v) for n, v in (values or {}).items()},
            chi2_min=chi2,
            ndof=self.observed.size - free,  # every nuisance is penalised unless set free
            nuisances=self.nuisances(params),
            counts=counts,
            converged=ok,
        )

    def describe(self) -> dict:
        return {
            "settings": asdict(self.settings),
            "cevns_sm_counts": float(self.signal_counts().sum()),
            "cevns_engine_sm_counts": float(self.engine_sm_counts.sum()),
            "bins": int(self.observed.size),
            "sigma_cevns": float(self.sigma_cevns),
            "sigma_time_shift_us": float(self.sigma_time_us),
        }
