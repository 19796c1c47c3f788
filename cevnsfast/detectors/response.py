"""Detector response: quenching, smearing, efficiency and binning in the reconstructed variable.

The chain for a true nuclear recoil T (keVnr):
  quenching  T → E_ee (keVee)           (none / constant QF / linear QF / piecewise QF /
                                          polynomial E_ee(T) of the CsI 2021 release)
  observable μ(T) in keVnr, keVee or PE  (PE = light yield × E_ee)
  smearing   P(x | μ)                    (none, Gamma of COHERENT CsI 2021, Gaussian σ(μ))
  efficiency A(x) on the reconstructed x (constant, or the logistic of the CsI 2021 release)
and the probability that a recoil T lands, accepted, in reconstructed bin b is
  P_b(T) = ∫_bin A(x) P(x | μ(T)) dx      (the inner integrals of arXiv:2402.16953 Eq. 15).
"""

import numpy as np
from scipy.optimize import brentq
from scipy.special import gammaln

from cevnsfast.detectors.spec import DetectorSpec

GL_NODES_PER_PANEL = 24
"""Gauss–Legendre nodes per reconstructed-variable panel for smeared detectors."""


def gauss_legendre(lo: float, hi: float, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights of an n-point Gauss–Legendre rule on [lo, hi]."""
    x, w = np.polynomial.legendre.leggauss(n)
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
        else:
            a, b, c, d = (self.efficiency_coefficients[k] for k in "abcd")
            value = np.clip(a / (1.0 + np.exp(-b * (x + self.e["shift"] - c))) + d, 0.0, None)
        return np.where(x >= self.e["zero_below"], value, 0.0)

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

    def efficiency_kinks(self) -> list[float]:
        """Points where A(x) is not smooth: the hard cut and the zero of a logistic with d < 0."""
        kinks = [self.e["zero_below"]] if self.e["zero_below"] > 0 else []
        if self.e["model"] == "logistic":
            a, b, c, d = (self.efficiency_coefficients[k] for k in "abcd")
            if d < 0 < a + d:
                kinks.append(c - self.e["shift"] - np.log(-a / d - 1.0) / b)
        return kinks

    def threshold_observable(self) -> float:
        """Lowest reconstructed value with non-zero acceptance inside the binning."""
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
                x, w = gauss_legendre(p_lo, p_hi, GL_NODES_PER_PANEL)
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
