"""Detector response: quenching, smearing, efficiency and binning in the reconstructed variable.

The chain for a true nuclear recoil T (keVnr):
  quenching  T → E_ee (keVee)           (none / constant QF / linear QF / piecewise QF /
                                          polynomial E_ee(T) of the CsI 2021 release)
  observable μ(T) in keVnr, keVee or PE  (PE = light yield × E_ee)
  smearing   P(x | μ)                    (none, Gamma of COHERENT CsI 2021, Gaussian σ(μ))
  efficiency A(x) on the reconstructed x (constant, the logistic of the CsI 2021 release, or a
                                          tabulated curve read from the data directory, e.g.
                                          the LAr 2020 release's CENNS10AnlAEfficiency.txt)
and the probability that a recoil T lands, accepted, in reconstructed bin b is
  P_b(T) = ∫_bin A(x) P(x | μ(T)) dx      (the inner integrals of arXiv:2402.16953 Eq. 15).
"""

import functools
import hashlib
from pathlib import Path

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln

from cevnsfast.detectors.spec import DetectorSpec, SpecError, missing_input_error

GL_NODES_PER_PANEL = 24
"""Gauss–Legendre nodes per reconstructed-variable panel for smeared detectors."""

CURVE_MIN_NODES_PER_PANEL = 8
"""A tabulated efficiency cuts bins into many short panels (0.5 keVee for LAr 2020): these get
nodes in proportion to their share of the bin, at least this many (8 nodes on 0.5 keVee
integrate the Gaussian of the narrowest accepted signal, σ ≈ 0.4 keVee, to < 1e-9)."""


@functools.lru_cache(maxsize=32)
def _leggauss(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The reference rule on [−1, 1], computed once per n (numpy's costs ~1 ms a call)."""
    x, w = np.polynomial.legendre.leggauss(n)
    x.flags.writeable = False
    w.flags.writeable = False
    return x, w


def gauss_legendre(lo: float, hi: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of an n-point Gauss–Legendre rule on [lo, hi]."""
    x, w = _leggauss(n)
    half = 0.5 * (hi - lo)
    return lo + half * (x + 1.0), half * w


class Response:
    """Vectorised response functions of one detector spec (units in every name)."""

    def __init__(self, spec: DetectorSpec, efficiency_sigma: float = 0.0):
        self.spec = spec
        self.efficiency_sigma = efficiency_sigma
        self.e = spec.efficiency
        self.efficiency_coefficients = self._interpolated_coefficients(efficiency_sigma)
        self.edges = np.asarray(spec.bin_edges, dtype=float)
        self.q = spec.quenching
        self.s = spec.smearing
        self._curve_nodes: tuple[np.ndarray, np.ndarray] | None = None

    # ---- quenching and observable -------------------------------------------------------
    def e_ee_kev(self, t_kevnr: np.ndarray) -> np.ndarray:
        """Electron-equivalent energy (keVee) of a nuclear recoil T (keVnr)."""
        t = np.asarray(t_kevnr, dtype=float)
        model = self.q["model"]
        if model == "none":
            return t
        if model == "constant":
            return self.q["qf"] * t
        if model == "linear_qf":
            return (self.q["a"] + self.q["b_per_keVnr"] * t) * t
        if model == "piecewise_linear_qf":
            below = (self.q["a"] + self.q["b_per_keVnr"] * t) * t
            return np.where(t <= self.q["t_break_keVnr"], below, self.q["qf_above"] * t)
        x_mev = t * 1e-3  # polynomial_mev: E_ee[MeVee] = Σ c_k x^(k+1), x in MeVnr
        return 1e3 * sum(c * x_mev ** (k + 1) for k, c in enumerate(self.q["coefficients"]))

    def mean_observable(self, t_kevnr: np.ndarray) -> np.ndarray:
        """Mean reconstructed value μ(T) in the detector's observable unit."""
        obs = self.spec.observable
        if obs == "keVnr":
            return np.asarray(t_kevnr, dtype=float)
        e_ee = self.e_ee_kev(t_kevnr)
        return e_ee if obs == "keVee" else self.spec.light_yield_pe_per_kev_ee * e_ee

    def t_for_observable(self, mu: float, t_hi_kevnr: float) -> float | None:
        """Recoil energy (keVnr) whose mean observable is μ, or None beyond [0, t_hi]."""
        if mu <= 0.0:
            return 0.0
        f_hi = float(self.mean_observable(t_hi_kevnr)) - mu
        if f_hi < 0.0:
            return None
        return brentq(lambda t: float(self.mean_observable(t)) - mu, 0.0, t_hi_kevnr, xtol=1e-13)

    # ---- efficiency ---------------------------------------------------------------------
    def efficiency(self, x: np.ndarray) -> np.ndarray:
        """Acceptance A(x) on the reconstructed variable x (observable units)."""
        x = np.asarray(x, dtype=float)
        if self.e["model"] == "constant":
            value = np.full_like(x, self.e["value"])
        elif self.e["model"] == "curve_file":
            value = np.interp(x, *self.efficiency_curve())
        else:
            a, b, c, d = (self.efficiency_coefficients[k] for k in "abcd")
            value = np.clip(a / (1.0 + np.exp(-b * (x + self.e["shift"] - c))) + d, 0.0, None)
        inside = (x >= self.e["zero_below"]) & (x <= self.e.get("zero_above", np.inf))
        return np.where(inside, value, 0.0)

    def _interpolated_coefficients(self, s: float) -> dict[str, float] | None:
        """Logistic coefficients at α6 = s: the quadratic in s through the −1σ, nominal and
        +1σ rows of the release, coefficient by coefficient. The curve stays a logistic whose
        zero crossing moves smoothly with s, so counts are smooth in s and the α6 table axis
        interpolates well (blending clipped curves instead would not be)."""
        if self.e["model"] != "logistic":
            return None
        if s == 0.0:
            return {k: self.e[k] for k in "abcd"}
        plus, minus = self.e["variants"]["plus1sigma"], self.e["variants"]["minus1sigma"]
        return {
            k: self.e[k]
            + 0.5 * s * (plus[k] - minus[k])
            + 0.5 * s**2 * (plus[k] + minus[k] - 2.0 * self.e[k])
            for k in "abcd"
        }

    def efficiency_curve(self) -> tuple[np.ndarray, np.ndarray]:
        """(x, A) nodes of a ``curve_file`` efficiency; A(x) interpolates them linearly and is
        held at the end values outside (as ``cevnsfast.data.lar2020.LAr2020Data.efficiency``)
        and zero beyond the spec's ``zero_below`` / ``zero_above`` cuts.

        Read on first use. A missing file raises ``SpecInputMissing`` naming the path and the
        data-dir settings; a file whose content changed since the spec was loaded, or a
        malformed one (non-numeric, too few columns, x not increasing, A outside [0, 1]),
        raises ``SpecError`` naming file and line.
        """
        if self._curve_nodes is None:
            self._curve_nodes = _read_curve(self.spec)
        return self._curve_nodes

    def efficiency_kinks(self) -> list[float]:
        """Points where A(x) is not smooth: the hard cut, the zero of a logistic with d < 0,
        every node of a tabulated (piecewise-linear) curve."""
        kinks = [self.e["zero_below"]] if self.e["zero_below"] > 0 else []
        if np.isfinite(self.e.get("zero_above", np.inf)):
            kinks.append(self.e["zero_above"])
        if self.e["model"] == "logistic":
            a, b, c, d = (self.efficiency_coefficients[k] for k in "abcd")
            if d < 0 < a + d:
                kinks.append(c - self.e["shift"] - np.log(-a / d - 1.0) / b)
        elif self.e["model"] == "curve_file":
            kinks.extend(self.efficiency_curve()[0].tolist())
        return kinks

    def threshold_observable(self) -> float:
        """Lowest reconstructed value with non-zero acceptance inside the binning."""
        if self.e["model"] == "curve_file":  # the last zero node before the curve rises
            x, a = self.efficiency_curve()
            rise = int(np.argmax(a > 0)) if np.any(a > 0) else len(a)
            onset = x[rise - 1] if rise > 0 else -np.inf
            return max(self.edges[0], self.e["zero_below"], onset)
        return max([self.edges[0], *self.efficiency_kinks()])

    # ---- smearing -----------------------------------------------------------------------
    def width_at(self, mu: float) -> float:
        """Standard deviation of the smearing at mean μ (observable units)."""
        model = self.s["model"]
        if model == "none":
            return 0.0
        if model == "gaussian":
            return float(
                np.sqrt(self.s["s0"] ** 2 + self.s["s1"] ** 2 * mu + (self.s["s2"] * mu) ** 2)
            )
        shape, rate = self._gamma_params(np.asarray(mu, dtype=float))
        return float(np.sqrt(shape) / rate)

    def _gamma_params(self, mu_pe: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # COHERENT CsI 2021 (arXiv:2110.07730 suppl.): P(x) ∝ x^b e^{−a(1+b)x},
        # a = a_keVee/E_ee [1/PE], b = b_per_keVee · E_ee, E_ee in keVee.
        e_ee = np.maximum(mu_pe / self.spec.light_yield_pe_per_kev_ee, 1e-12)
        a = self.s["a_keVee"] / e_ee
        b = self.s["b_per_keVee"] * e_ee
        return 1.0 + b, a * (1.0 + b)

    def smearing_density(self, x: np.ndarray, mu: np.ndarray) -> np.ndarray:
        """P(x | μ) per unit x, broadcast over x and μ."""
        x = np.asarray(x, dtype=float)
        mu = np.asarray(mu, dtype=float)
        if self.s["model"] == "gaussian":
            sigma = np.sqrt(self.s["s0"] ** 2 + self.s["s1"] ** 2 * mu + (self.s["s2"] * mu) ** 2)
            sigma = np.maximum(sigma, 1e-12)
            return np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (np.sqrt(2.0 * np.pi) * sigma)
        shape, rate = self._gamma_params(mu)
        xs = np.maximum(x, 1e-300)
        log_p = shape * np.log(rate) - gammaln(shape) + (shape - 1.0) * np.log(xs) - rate * xs
        return np.where(x > 0.0, np.exp(log_p), 0.0)

    # ---- binning ------------------------------------------------------------------------
    def bin_probabilities(self, t_kevnr: np.ndarray) -> np.ndarray:
        """P_b(T): probability that a recoil T is accepted in reconstructed bin b, (n_T, n_bins)."""
        t = np.asarray(t_kevnr, dtype=float)
        mu = self.mean_observable(t)
        n_bins = len(self.edges) - 1
        if self.s["model"] == "none":
            idx = np.searchsorted(self.edges, mu, side="right") - 1
            inside = (idx >= 0) & (idx < n_bins)
            out = np.zeros((t.size, n_bins))
            rows = np.nonzero(inside)[0]
            out[rows, idx[inside]] = self.efficiency(mu[inside])
            return out
        x_nodes, x_weights, x_bin = self._reconstructed_nodes()
        dens = self.smearing_density(x_nodes[None, :], mu[:, None])
        weighted = dens * (x_weights * self.efficiency(x_nodes))[None, :]
        out = np.zeros((t.size, n_bins))
        for b in range(n_bins):
            out[:, b] = weighted[:, x_bin == b].sum(axis=1)
        return out

    def _reconstructed_nodes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gauss–Legendre nodes in x per bin, with panels split at efficiency kinks."""
        nodes, weights, owner = [], [], []
        kinks = self.efficiency_kinks()
        for b, (lo, hi) in enumerate(zip(self.edges[:-1], self.edges[1:], strict=True)):
            cuts = [lo, *sorted(k for k in kinks if lo < k < hi), hi]
            for p_lo, p_hi in zip(cuts[:-1], cuts[1:], strict=True):
                n = GL_NODES_PER_PANEL
                if self.e["model"] == "curve_file":
                    share = (p_hi - p_lo) / (hi - lo)
                    n = max(CURVE_MIN_NODES_PER_PANEL, int(np.ceil(GL_NODES_PER_PANEL * share)))
                x, w = gauss_legendre(p_lo, p_hi, n)
                nodes.append(x)
                weights.append(w)
                owner.append(np.full(x.size, b))
        return np.concatenate(nodes), np.concatenate(weights), np.concatenate(owner)

    def breakpoints_kevnr(self, t_hi_kevnr: float) -> list[float]:
        """Recoil energies in (0, t_hi) where P_b(T) has kinks or jumps (quadrature panel ends)."""
        points = []
        if self.q["model"] == "piecewise_linear_qf":
            points.append(self.q["t_break_keVnr"])
        if self.s["model"] == "none":
            for mu in [*self.edges, *self.efficiency_kinks()]:
                t = self.t_for_observable(float(mu), t_hi_kevnr)
                if t is not None:
                    points.append(t)
        return sorted(p for p in points if 0.0 < p < t_hi_kevnr)


def _read_curve(spec: DetectorSpec) -> tuple[np.ndarray, np.ndarray]:
    """The (x, efficiency) columns of a ``curve_file`` efficiency (see ``efficiency_curve``)."""
    e, field = spec.efficiency, "response.efficiency.file"
    path = Path(e["path"])
    if not path.is_file():
        raise missing_input_error(spec, field)
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != e["sha256"]:
        raise SpecError(
            spec.name, field, f"names {path}, whose content changed after the spec was loaded"
        )
    ix, ia = e["columns"]
    rows = []
    for lineno, line in enumerate(blob.decode("utf-8", errors="replace").splitlines(), 1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        fields = text.split()
        try:
            rows.append((float(fields[ix]), float(fields[ia])))
        except (IndexError, ValueError):
            raise SpecError(
                spec.name,
                field,
                f"names {path}, line {lineno}: expected numbers in columns "
                f"{ix} and {ia}, got {text!r}",
            ) from None
        if not (np.isfinite(rows[-1]).all() and 0.0 <= rows[-1][1] <= 1.0):
            raise SpecError(
                spec.name,
                field,
                f"names {path}, line {lineno}: efficiency {rows[-1][1]} "
                "outside [0, 1] or non-finite value",
            )
        if len(rows) > 1 and rows[-1][0] <= rows[-2][0]:
            raise SpecError(
                spec.name,
                field,
                f"names {path}, line {lineno}: x = {rows[-1][0]} is not "
                "above the previous row's (x must increase strictly)",
            )
    if len(rows) < 2:
        raise SpecError(spec.name, field, f"names {path}, which holds fewer than 2 data rows")
    x, a = np.array(rows).T
    return x, a
