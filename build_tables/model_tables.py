"""Per-model response tables: generalised base integrals, tensors on a parameter axis, Zarr.

For a model (``cevnsfast.models``) the rate of every (nucleus n, flux component f) is
Σ_t K_t xᵀ C_t x (``models.terms``). The build integrates each kernel once (arXiv:2402.16953
Eq. 15 with the kernel in place of dσ/dT):

    R[a, n, k, f, b] = N_n η ∫ dT P_b(T) P_X(T) h(T; m_a) h'(T; m_a) Σ_p c_p(T; m_a) M_p(T)
    M_p(T) = ∫_{E_min(T)}^{m_μ/2} φ_f(E) f(E; m_a) E^{−p} dE          (p = 0, 1, 2)

(a the model axis: mass, Δm², R_n; b the reconstructed energy × time bin). Without a flux
factor the moments are analytic (``flux.delayed_inverse_moments``; the prompt line is a δ);
with one (oscillation) they are integrated numerically in u = 1/E. The response tensor is

    T[a, b, i, j] = Σ_{n, f, k} R[a, n, k, f, b] C[n, f, k, i, j]

and, as for the detector tables (``build.py``), each shape nuisance of the spec is tabulated
alone on its grid (``tensor_<axis>[a, g, b, i, j]``), so the CsI 2021 likelihood profiles all
its nuisances on model tables too. Tables live beside the detector tables as
``<detector>__<model>-<spec hash>.zarr`` (a ``-<hash>`` after the model name for non-default
model settings), written
atomically with a provenance hash of spec, quadrature, model definition and code.

Command line: ``python -m cevnsfast.build_tables.model_tables DETECTOR MODEL [--force]``.
"""

import argparse
import hashlib
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from cevnsfast.build_tables.build import BuildResult, build_claim, provenance
from cevnsfast.constants import (
    ALPHA_EM,
    E_MAX_DELAYED_MEV,
    E_PROMPT_MEV,
    G_F_MEV2,
    HBARC_MEV_CM,
    M_E_MEV,
)
from cevnsfast.detectors.detector import Detector, QuadratureSettings, recoil_nodes_kevnr
from cevnsfast.detectors.electrons import (
    electron_detector,
    electron_nodes_kev,
    electrons_per_target,
)
from cevnsfast.detectors.spec import load_spec
from cevnsfast.model_tables import (
    model_input_hash,
    model_table_name,
    model_table_path,
)
from cevnsfast.models.scenarios import get_model
from cevnsfast.models.terms import Kernel, Model
from cevnsfast.physics.electron_scattering import electron_e_min_mev
from cevnsfast.physics.flux import (
    FLUX_COMPONENTS,
    FluxComponent,
    delayed_inverse_moments,
    delayed_shape_per_mev,
)
from cevnsfast.tables import TableError, write_table

SUPPORTED_NUISANCES = ("radius_scale", "efficiency_sigma", "time_shift_us")
E_FLOOR_MEV = 1.0
"""Numeric flux moments ignore E < 1 MeV (recoils below 0.06 keVnr on Ar: never detected)."""
U_NODES = 10
"""Gauss–Legendre nodes per u = 1/E panel of the numeric flux moments."""


# ---- terms ----------------------------------------------------------------------------------


def collect_terms(model: Model, detector: Detector) -> tuple[list[Kernel], np.ndarray]:
    """Kernels used anywhere and C[nucleus, component, kernel, i, j] (zero where unused)."""
    physics = detector.spec.physics
    per = {}
    kernels: list[Kernel] = []
    for ni, target in enumerate(detector.targets):
        for fi, component in enumerate(FLUX_COMPONENTS):
            for term in model.rate_terms(target.nucleus, component, physics):
                if term.kernel not in kernels:
                    kernels.append(term.kernel)
                key = (ni, fi, term.kernel)
                per[key] = per.get(key, 0.0) + term.matrix
    n = 1 + model.n
    matrices = np.zeros((len(detector.targets), len(FLUX_COMPONENTS), len(kernels), n, n))
    for (ni, fi, k), m in per.items():
        matrices[ni, fi, kernels.index(k)] = m
    return kernels, matrices


# ---- flux moments ---------------------------------------------------------------------------


def _analytic_moments(component: FluxComponent, e_min: np.ndarray) -> np.ndarray:
    """M_p(T) = ∫ φ E^{−p} over [E_min, m_μ/2] for p = 0, 1, 2 (prompt: δ at E_π)."""
    if component.prompt:
        reach = (e_min <= E_PROMPT_MEV).astype(float)
        return np.stack([reach, reach / E_PROMPT_MEV, reach / E_PROMPT_MEV**2])
    return np.stack(delayed_inverse_moments(component.name, e_min))


def _numeric_moments(
    model: Model,
    flux: str,
    component: FluxComponent,
    e_min: np.ndarray,
    axis_values: np.ndarray,
    distance_m: float,
) -> np.ndarray:
    """M_p with a flux factor f(E; m): cumulative Gauss–Legendre in u = 1/E (panels shorter
    than 1/4 of the factor's period in u), then a partial panel up to u = 1/E_min."""
    out = np.zeros((3,) + e_min.shape)
    x, w = np.polynomial.legendre.leggauss(U_NODES)
    for a, m in enumerate(axis_values):
        if component.prompt:
            f = model.flux_factor(flux, component, np.asarray(E_PROMPT_MEV), m, distance_m)
            reach = (e_min[a] <= E_PROMPT_MEV) * f
            out[:, a] = np.stack([reach, reach / E_PROMPT_MEV, reach / E_PROMPT_MEV**2])
            continue
        u_lo, u_hi = 1.0 / E_MAX_DELAYED_MEV, 1.0 / E_FLOOR_MEV
        omega = model.flux_factor_frequency(flux, m, distance_m)  # angular frequency in u
        n_panels = max(64, int(np.ceil((u_hi - u_lo) * omega / (0.5 * np.pi))))
        edges = np.linspace(u_lo, u_hi, n_panels + 1)

        def integrand(u, m=m):
            e = 1.0 / u
            base = delayed_shape_per_mev(component.name, e) * model.flux_factor(
                flux, component, e, m, distance_m
            )
            return np.stack([base * u**p / u**2 for p in range(3)])  # dE = du/u²

        half = 0.5 * np.diff(edges)
        nodes = edges[:-1, None] + half[:, None] * (x[None, :] + 1.0)
        panel = (integrand(nodes) * (half[:, None] * w[None, :])).sum(axis=-1)  # [3, panel]
        cumulative = np.concatenate([np.zeros((3, 1)), np.cumsum(panel, axis=1)], axis=1)
        u_star = np.clip(1.0 / np.maximum(e_min[a], 1e-300), u_lo, u_hi)
        j = np.clip(np.searchsorted(edges, u_star, side="right") - 1, 0, n_panels - 1)
        lo = edges[j]
        half_p = 0.5 * (u_star - lo)
        pnodes = lo[:, None] + half_p[:, None] * (x[None, :] + 1.0)
        partial = (integrand(pnodes) * (half_p[:, None] * w[None, :])).sum(axis=-1)
        out[:, a] = cumulative[:, j] + partial
    return out


# ---- base integrals -------------------------------------------------------------------------


def _node_sets(model: Model, detector: Detector, nucleus, settings) -> list[tuple]:
    """[(axis indices, t_kev, w_kev)]: one set for all axis values, or one per value."""
    values = model.axis_values()
    if not model.axis_dependent_nodes:
        t, w = recoil_nodes_kevnr(detector, nucleus, settings)
        return [(np.arange(len(values)), t, w)]
    out = []
    for a, v in enumerate(values):
        extra = model.recoil_breakpoints_kevnr(nucleus, float(v))
        t, w = recoil_nodes_kevnr(detector, nucleus, settings, extra)
        out.append((np.array([a]), t, w))
    return out


def recoil_integrands(
    model: Model,
    detector: Detector,
    kernels: list[Kernel],
    settings: QuadratureSettings,
    radius_scale: float = 1.0,
    cache: dict | None = None,
) -> list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]]:
    """Per nucleus, per node set: (axis indices, t_kev, I[kernel, component, axis, T]) with
    I = N_n η w_T P_X h h' Σ_p c_p M_p — everything but the bin probabilities P_b(T).

    ``cache`` keeps node sets and flux moments (independent of the radius scale) between
    calls for the radius-nuisance grid."""
    physics = detector.spec.physics
    cache = {} if cache is None else cache
    out = []
    for ni, target in enumerate(detector.targets):
        nucleus = target.nucleus
        per_set = []
        if ("nodes", ni) not in cache:
            cache[("nodes", ni)] = _node_sets(model, detector, nucleus, settings)
        for si, (idx, t_kev, w_kev) in enumerate(cache[("nodes", ni)]):
            t_mev = 1e-3 * t_kev
            values = model.axis_values()[idx]
            scale = target.n_targets * detector.fluence_cm2 * 1e-3 * w_kev
            weights: dict[str, np.ndarray] = {}
            emins: dict[str, np.ndarray] = {}
            moments = cache.setdefault(("moments", ni, si), {})
            block = np.zeros((len(kernels), len(FLUX_COMPONENTS), len(idx), t_kev.size))
            for k, kern in enumerate(kernels):
                for h in kern.weights:
                    if h not in weights:
                        weights[h] = model.weight(h, nucleus, t_mev, values, physics, radius_scale)
                s = kern.structure
                if s not in emins:
                    emins[s] = np.asarray(model.e_min_mev(s, nucleus, t_mev, values))
                pref, c = model.shape(s, nucleus, t_mev, values)
                amp = pref * weights[kern.weights[0]] * weights[kern.weights[1]] * scale
                for fi, comp in enumerate(FLUX_COMPONENTS):
                    key = (s, kern.flux, fi)
                    if key not in moments:
                        if kern.flux:
                            moments[key] = _numeric_moments(
                                model, kern.flux, comp, emins[s], values, detector.spec.distance_m
                            )
                        else:
                            moments[key] = _analytic_moments(comp, emins[s])
                    block[k, fi] = amp * np.einsum("pat,pat->at", c, moments[key])
            per_set.append((idx, t_kev, block))
        out.append(per_set)
    return out


_PROBABILITIES: dict[tuple[str, float, str], np.ndarray] = {}
"""P_b(T) already computed in this process, by (spec hash, efficiency σ, nodes digest)."""
PROBABILITIES_KEPT = 64
"""Entries of ``_PROBABILITIES`` kept (oldest dropped first); < 1 MB each."""


def bin_probabilities(integrands, detector: Detector) -> list[list[np.ndarray]]:
    """P_b(T) at the nodes of every (nucleus, node set) of ``integrands``.

    Node sets per axis value (``Model.axis_dependent_nodes``) differ only in the few panels
    split at a model's breakpoint, so P_b is evaluated once per distinct node of a nucleus
    (each row of ``Response.bin_probabilities`` depends on its own T alone: same numbers),
    and the model tables of one detector, which share its nodes and response variants,
    reuse each other's P_b within a process."""
    out = []
    for per in integrands:
        nodes = [t for _, t, _ in per]
        unique, inverse = np.unique(np.concatenate(nodes), return_inverse=True)
        key = (
            detector.spec.hash(),
            detector.response.efficiency_sigma,
            hashlib.sha256(unique.tobytes()).hexdigest(),
        )
        if key not in _PROBABILITIES:
            while len(_PROBABILITIES) >= PROBABILITIES_KEPT:
                del _PROBABILITIES[next(iter(_PROBABILITIES))]
            _PROBABILITIES[key] = detector.response.bin_probabilities(unique)
        prob = _PROBABILITIES[key][inverse]
        out.append(np.split(prob, np.cumsum([t.size for t in nodes])[:-1]))
    return out


def energy_bin_integrals(integrands, probabilities, n_axis: int) -> np.ndarray:
    """R[a, n, k, f, energy bin] = Σ_T I[k, f, a, T] P_b(T) for one detector response."""
    n_kernels, n_ebins = integrands[0][0][2].shape[0], probabilities[0][0].shape[1]
    out = np.zeros((n_axis, len(integrands), n_kernels, len(FLUX_COMPONENTS), n_ebins))
    for ni, per_set in enumerate(integrands):
        for (idx, _, block), prob in zip(per_set, probabilities[ni], strict=True):
            # prob first: einsum's loops run 25 % faster, same sums in the same order
            out[idx, ni] = np.moveaxis(np.einsum("tb,kfat->kfab", prob, block), 2, 0)
    return out


def electron_tensors(model: Model, detector: Detector, n_couplings: int):
    """ν–e scattering of an electromagnetic model (``Model.electron_terms``) as a quadratic
    form per (component, energy bin): E[f, eb, i, j], with the electron response of
    ``detectors.electrons.electron_detector`` (None unless the model's setting
    ``electron_scattering`` is on and the detector counts electron recoils). Per component
    and T_e, with
    u = g_V + g_A, v = g_V − g_A and the flux moments M_p = ∫ φ E^{−p} (``dsigma_es``):

        ∫ φ dσ/dT = P [M0 u² + (M0 − 2T M1 + T² M2) v² − m_e T M2 u v] + Π (M0/T − M1) μ²

    P = G_F² m_e/2π, Π = πα²/m_e², all linear forms in x (g_V carries ⟨r²⟩ and q_ν/T)."""
    electron = electron_detector(detector)
    if electron is None or not model.settings.get("electron_scattering", False):
        return None
    t_kev, w_kev = electron_nodes_kev()
    t = 1e-3 * t_kev
    scale = electrons_per_target(electron, t_kev) * electron.fluence_cm2 * 1e-3 * w_kev
    weak = G_F_MEV2**2 * M_E_MEV / (2.0 * np.pi) * HBARC_MEV_CM**2
    magnetic = np.pi * ALPHA_EM**2 / M_E_MEV**2 * HBARC_MEV_CM**2
    sin2 = detector.spec.physics["sin2_theta_w"]
    n = 1 + n_couplings
    per_t = np.zeros((len(FLUX_COMPONENTS), t.size, n, n))
    for fi, comp in enumerate(FLUX_COMPONENTS):
        terms = model.electron_terms(comp, sin2)
        m0, m1, m2 = _analytic_moments(comp, electron_e_min_mev(t))
        g_v = terms.g_v_constant[None, :] + terms.g_v_per_t_mev[None, :] / t[:, None]
        e0 = np.eye(n)[0][None, :]
        u, v = g_v + terms.g_a * e0, g_v - terms.g_a * e0
        uu, vv = np.einsum("ti,tj->tij", u, u), np.einsum("ti,tj->tij", v, v)
        uv = 0.5 * (np.einsum("ti,tj->tij", u, v) + np.einsum("ti,tj->tij", v, u))
        mu = np.outer(terms.mu, terms.mu)[None]
        c_v = m0 - 2.0 * t * m1 + t**2 * m2
        per_t[fi] = (
            weak
            * (
                m0[:, None, None] * uu
                + c_v[:, None, None] * vv
                - (M_E_MEV * t * m2)[:, None, None] * uv
            )
            + magnetic * (m0 / t - m1)[:, None, None] * mu
        )
        per_t[fi] *= scale[:, None, None]

    def for_response(efficiency_sigma: float = 0.0) -> np.ndarray:
        varied = electron_detector(Detector(detector.spec, efficiency_sigma=efficiency_sigma))
        prob = varied.response.bin_probabilities(t_kev)  # [T, eb]
        return np.einsum("ftij,tb->fbij", per_t, prob)

    return electron, for_response


def _electron_folded(electron: Detector, per_bin: np.ndarray, time_shift_us: float = 0.0):
    """E[f, eb, i, j] → [bin, i, j] after the electron detector's time folding."""
    folded = electron.fold_time(np.moveaxis(per_bin, (0, 1), (2, 3)), time_shift_us)
    return np.moveaxis(folded.sum(axis=2), -1, 0)  # [i, j, f, bin] → [bin, i, j]


def _tensor(folded: np.ndarray, matrices: np.ndarray) -> np.ndarray:
    """T[a, b, i, j] = Σ_{n, f, k} R[a, n, k, f, b] C[n, f, k, i, j]."""
    return np.einsum("ankfb,nfkij->abij", folded, matrices)


def build_arrays(
    model: Model, name_or_path: str | Path, settings: QuadratureSettings = QuadratureSettings()
) -> tuple[dict[str, np.ndarray], list[Kernel], Detector]:
    """All arrays of a model table (nominal tensor and every shape-nuisance grid)."""
    spec = load_spec(name_or_path)
    unsupported = set(spec.nuisances) - set(SUPPORTED_NUISANCES)
    if unsupported:
        raise ValueError(
            f"model tables support the nuisance axes {SUPPORTED_NUISANCES}; "
            f"{spec.name} also has {sorted(unsupported)}"
        )
    detector = Detector(spec)
    kernels, matrices = collect_terms(model, detector)
    n_axis = len(model.axis_values())
    cache: dict = {}
    nominal = recoil_integrands(model, detector, kernels, settings, cache=cache)
    probs = bin_probabilities(nominal, detector)
    r_e = energy_bin_integrals(nominal, probs, n_axis)
    # [a, n, k, f, eb] → fold_time over (component, energy bin)
    folded = detector.fold_time(r_e)
    es = electron_tensors(model, detector, model.n)
    if es is not None:  # ν–e scattering: added to every tensor (no dependence on the axis)
        electron, es_for = es
        es_nominal = es_for()
    arrays = {
        "tensor": _tensor(folded, matrices)
        + (0.0 if es is None else _electron_folded(electron, es_nominal)),
        "base": folded,
        "matrices": matrices,
        "bin_edges": np.asarray(spec.bin_edges),
        "n_targets": np.asarray([t.n_targets for t in detector.targets]),
    }
    if model.axis is not None:
        arrays["axis_values"] = model.axis_values()
    if spec.timing is not None:
        arrays["time_edges_us"] = np.asarray(spec.timing["edges_us"])
    for axis, grid in spec.nuisances.items():
        tensors = []
        for value in grid:
            if axis == "time_shift_us":
                f = detector.fold_time(r_e, time_shift_us=value)
            elif axis == "radius_scale":  # other integrands, same bin probabilities
                ints = recoil_integrands(model, detector, kernels, settings, value, cache)
                f = detector.fold_time(energy_bin_integrals(ints, probs, n_axis))
            else:  # efficiency_sigma: same integrands, other bin probabilities
                varied = Detector(spec, efficiency_sigma=value)
                varied_probs = bin_probabilities(nominal, varied)
                f = varied.fold_time(energy_bin_integrals(nominal, varied_probs, n_axis))
            tensor = _tensor(f, matrices)
            if es is not None:
                shift = value if axis == "time_shift_us" else 0.0
                sigma = value if axis == "efficiency_sigma" else 0.0
                per_bin = es_for(sigma) if sigma else es_nominal
                tensor = tensor + _electron_folded(electron, per_bin, shift)
            tensors.append(tensor)
        arrays[f"grid_{axis}"] = np.asarray(grid)
        arrays[f"tensor_{axis}"] = np.stack(tensors, axis=1)  # [a, g, b, i, j]
    return arrays, kernels, detector


def build_model_table(
    name_or_path: str | Path,
    model: str | Model,
    settings: QuadratureSettings = QuadratureSettings(),
    directory: Path | None = None,
    force: bool = False,
) -> BuildResult:
    """Build the table of ``model`` for one detector unless an up-to-date one exists."""
    start = time.perf_counter()
    model = get_model(model) if isinstance(model, str) else model
    spec = load_spec(name_or_path)
    digest = model_input_hash(spec, model, settings)
    path = model_table_path(spec, model, directory)
    name = model_table_name(spec.name, model)
    with build_claim(path, digest, force) as needed:
        if needed:
            arrays, kernels, detector = build_arrays(model, name_or_path, settings)
            write_table(path, arrays, _attributes(model, spec, settings, digest, kernels, detector))
    return BuildResult(name, path, needed, time.perf_counter() - start)


def _attributes(model: Model, spec, settings, digest: str, kernels, detector) -> dict:
    """Provenance (``build.provenance``) and model attributes of a model table."""
    return {
        **provenance(spec, settings, digest, detector),
        "model": model.definition(),
        "model_name": model.name,
        "kernels": [k.key for k in kernels],
        "couplings": ["SM", *model.coupling_names],
        "coupling_units": ["1", *[c.unit for c in model.couplings]],
        "axis": model.axis.as_dict() if model.axis else None,
        "base_units": "events per unit matrix entry (see models.terms)",
    }


def build_missing_model_tables(
    pairs: Sequence[tuple[str, str]], directory: Path | None = None, progress: bool = False
) -> list[BuildResult]:
    """Build the missing tables of (detector, model) ``pairs``, in order. ``reproduce`` runs
    this in a worker ahead of the scenario fits; a fit reaching a table still being built
    waits for it (``build_claim``). Stale tables are left to the fits (``rebuild_stale``)."""
    missing = [
        (det, model)
        for det, model in pairs
        if not model_table_path(det, get_model(model), directory).exists()
    ]
    results = []
    with tqdm(missing, desc="model tables", unit="table", position=1, disable=not progress) as bar:
        for det, model in bar:
            bar.set_postfix_str(f"{det} {model}")
            results.append(build_model_table(det, model, directory=directory))
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Build per-model response tables.")
    parser.add_argument("detector", help="detector name or spec path (e.g. csi2021)")
    parser.add_argument("models", nargs="+", help="model names (see cevnsfast.models.scenarios)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    parser.add_argument("--tables-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    for name in args.models:
        try:
            r = build_model_table(args.detector, name, directory=args.tables_dir, force=args.force)
        except (ValueError, TableError) as exc:
            raise SystemExit(f"error: {exc}") from None
        state = "built" if r.built else "up to date"
        print(f"{r.name}: {state} ({r.seconds:.2f} s) → {r.path}")


if __name__ == "__main__":
    main()
