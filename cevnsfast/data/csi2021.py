"""COHERENT CsI[Na] 2021 data release: loading, validation and binning.

Source: the official release accompanying D. Akimov et al. (COHERENT), arXiv:2110.07730,
read from ``<data_dir>/coherent-csi-2021/`` (``cevnsfast.paths.data_dir()``; by default the
copy bundled in ``cevnsfast/data/releases/``). Conventions and [assumed] settings follow
``docs/physics.md`` §"CsI[Na] 2021":

- reconstructed energy in photoelectrons (PE), recoil time in µs after the beam-on trigger;
- analysis grid of 9 PE bins × 11 time bins (``PE_EDGES``, ``TIME_EDGES_US``; edges from a public
  reproduction [assumed], so every function takes the edges as arguments);
- BRN and NIN expectations inside that grid of 18.4 and 5.6 events [assumed];
- steady-state background (SSB) from the anti-coincidence (AC) sample, whose window has the
  same length as the coincidence (C) window in this release (``SSB_MODELS``: how the AC sample
  becomes an SSB expectation).

All binned arrays have shape ``(n_pe_bins, n_time_bins)`` and bins are left-closed.
"""

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit

from cevnsfast.data import read_only
from cevnsfast.data.errors import (
    DataFormatError,
    DataNotFoundError,
    parse_numeric_row,
    read_release_text,
)
from cevnsfast.data.manifest import release_sha256, verify_release
from cevnsfast.paths import data_dir as default_data_dir

RELEASE_DIRNAME = "coherent-csi-2021"
RELEASE_FILES = (
    "brnPE.txt",
    "brnTrec.txt",
    "dataBeamOnAC.txt",
    "dataBeamOnC.txt",
    "effCoefficients.txt",
    "ninPE.txt",
    "ninTrec.txt",
    "scintRespCoefficients.txt",
)

PE_EDGES = (0, 8, 12, 16, 20, 24, 32, 40, 50, 60)
"""Reconstructed-energy bin edges in PE (physics card; [assumed] from a public reproduction)."""

TIME_EDGES_US = (0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1, 2, 4, 6)
"""Recoil-time bin edges in µs (physics card; edges [assumed] from a public reproduction)."""

N_BRN = 18.4
"""Expected beam-related-neutron events inside the analysis grid (physics card, [assumed])."""

N_NIN = 5.6
"""Expected neutrino-induced-neutron events inside the analysis grid (physics card, [assumed])."""

Coefficients = tuple[float, float, float, float]


# --- parsing ---------------------------------------------------------------------------------


def _require(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(path)
    return path


def _read_rows(path: Path, ncols: int) -> tuple[np.ndarray, list[int], list[str]]:
    """Numeric rows of a whitespace-separated file with ``#`` comments.

    Returns the ``(n, ncols)`` values, the 1-based line number of each row, and for each row the
    text of the last comment line above it (the release labels coefficient rows that way).
    """
    path = _require(path)
    rows, lines, labels = [], [], []
    label = ""
    for lineno, raw in enumerate(read_release_text(path).splitlines(), start=1):
        text = raw.strip()
        if not text:
            continue
        if text.startswith("#"):
            label = text.lstrip("#").strip()
            continue
        rows.append(parse_numeric_row(path, lineno, text, ncols))
        lines.append(lineno)
        labels.append(label)
    return np.array(rows, dtype=float).reshape(-1, ncols), lines, labels


def _as_edges(edges, name: str) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if e.ndim != 1 or e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError(f"{name} must be a strictly increasing sequence of at least 2 edges")
    return e


# --- events ----------------------------------------------------------------------------------


def load_events(path: Path) -> np.ndarray:
    """Selected events of ``dataBeamOnC.txt`` / ``dataBeamOnAC.txt``.

    Returns an ``(n, 2)`` array: reconstructed energy [PE], recoil time [µs].
    Raises ``DataNotFoundError`` (a ``FileNotFoundError``) if the file is missing and
    ``DataFormatError`` (file + line) for a malformed line, a negative energy or no events.
    """
    events, lines, _ = _read_rows(path, 2)
    if len(events) == 0:
        raise DataFormatError(path, None, "no events in file")
    negative = np.flatnonzero(events[:, 0] < 0)
    if negative.size:
        i = negative[0]
        raise DataFormatError(path, lines[i], f"negative energy {events[i, 0]} PE")
    return events


def bin_events(events: np.ndarray, pe_edges=PE_EDGES, time_edges_us=TIME_EDGES_US) -> np.ndarray:
    """Counts of ``(PE, µs)`` events in the grid, shape ``(n_pe, n_time)``.

    Bins are left-closed ``[lo, hi)``, including the last one (unlike ``np.histogram2d``), so an
    event exactly on the upper grid edge is dropped, as is every event outside the grid.
    """
    pe_e, t_e = _as_edges(pe_edges, "pe_edges"), _as_edges(time_edges_us, "time_edges_us")
    events = np.asarray(events, dtype=float).reshape(-1, 2)
    i = np.searchsorted(pe_e, events[:, 0], side="right") - 1
    j = np.searchsorted(t_e, events[:, 1], side="right") - 1
    inside = (i >= 0) & (i < pe_e.size - 1) & (j >= 0) & (j < t_e.size - 1)
    counts = np.zeros((pe_e.size - 1, t_e.size - 1))
    np.add.at(counts, (i[inside], j[inside]), 1.0)
    return counts


def load_binned_events(path: Path, pe_edges=PE_EDGES, time_edges_us=TIME_EDGES_US) -> np.ndarray:
    """``bin_events(load_events(path))``; an empty selection is a ``DataFormatError``."""
    events = load_events(path)
    counts = bin_events(events, pe_edges, time_edges_us)
    if counts.sum() == 0:
        raise DataFormatError(
            path,
            None,
            f"none of the {len(events)} events falls inside the analysis grid "
            f"(PE {pe_edges[0]}–{pe_edges[-1]}, t {time_edges_us[0]}–{time_edges_us[-1]} µs)",
        )
    return counts


SSB_MODELS = ("flat_time", "ac_measurement", "raw_ac")
"""How the anti-coincidence (AC) sample sets the steady-state background (SSB) of the fit:

- ``flat_time`` (default): a steady-state rate, constant in arrival time, seen through the
  timing efficiency ε_T(t) that every event of the selection passes (``ssb_time_fractions``);
  per PE bin it is normalised to the AC count of that bin and spread over the time bins. COHERENT
  treats the SSB as time independent and measures it in the AC window (arXiv:2110.07730). The
  AC sample itself falls with time as ε_T does: k = 0.040 ± 0.008 µs⁻¹ over 0–250 PE (4.8σ from
  flat; ε_T decays at 0.0494 µs⁻¹; docs/validation.md), hence ε_T in the shape.
- ``ac_measurement``: the same shape, but the SSB per PE bin is a free parameter measured by the
  AC counts as a second Poisson observation (``likelihood.csi2021``), so the AC statistics
  enter the fit instead of being taken as exact.
- ``raw_ac``: the raw AC count of each (PE, time) bin as the expectation (the former default,
  kept for comparison: its Poisson noise becomes a fixed "shape")."""


def ssb_template(
    path: Path, pe_edges=PE_EDGES, time_edges_us=TIME_EDGES_US, scale: float = 1.0
) -> np.ndarray:
    """Raw steady-state background expectation per bin: the anti-coincidence count of each bin.

    The AC window of this release has the same length as the coincidence window, so by default
    (``scale=1``) the expectation is the raw AC count per bin — no smoothing, although many bins
    hold only a few events (the ``raw_ac`` model of ``SSB_MODELS``). ``scale`` multiplies it, e.g.
    by a window-length ratio for a release where the windows differ.
    """
    return scale * load_binned_events(path, pe_edges, time_edges_us)


def integrated_timing_efficiency(
    lo_us, hi_us, onset_us: float = 0.52, decay_per_us: float = 0.0494
) -> np.ndarray:
    """∫_lo^hi ε_T(t) dt in µs, in closed form (``timing_efficiency``; lo ≤ hi elementwise)."""
    lo, hi = np.asarray(lo_us, dtype=float), np.asarray(hi_us, dtype=float)
    flat = np.clip(np.minimum(hi, onset_us) - lo, 0.0, None)
    a, b = np.maximum(lo, onset_us), np.maximum(hi, onset_us)
    if decay_per_us == 0.0:
        return flat + (b - a)
    return (
        flat
        + (np.exp(-decay_per_us * (a - onset_us)) - np.exp(-decay_per_us * (b - onset_us)))
        / decay_per_us
    )


def ssb_time_fractions(
    time_edges_us=TIME_EDGES_US,
    apply_timing_efficiency: bool = True,
    onset_us: float = 0.52,
    decay_per_us: float = 0.0494,
) -> np.ndarray:
    """Share of a steady-state background in each time bin, summing to 1 over the grid.

    A constant rate seen through ε_T: f_j ∝ ∫_bin ε_T(t) dt. Without the timing efficiency
    f_j ∝ the bin width.
    """
    e = _as_edges(time_edges_us, "time_edges_us")
    if apply_timing_efficiency:
        w = integrated_timing_efficiency(e[:-1], e[1:], onset_us, decay_per_us)
    else:
        w = np.diff(e)
    return w / w.sum()


def ssb_flat_time(
    ac_counts: np.ndarray, time_fractions: np.ndarray, scale: float = 1.0
) -> np.ndarray:
    """SSB expectation ``(n_pe, n_time)``: each PE bin's AC total spread as ``time_fractions``.

    ``scale`` is the C/AC exposure ratio (1 in this release), so the PE-bin totals are
    ``scale`` × the AC totals.
    """
    return scale * np.outer(np.asarray(ac_counts, dtype=float).sum(axis=1), time_fractions)


# --- background PDFs -------------------------------------------------------------------------


def load_pdf_1d(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A released 1D PDF: ``(centers, values)``.

    ``brnPE.txt``/``ninPE.txt``: 1-PE bins, centers in PE. ``brnTrec.txt``/``ninTrec.txt``: 10-ns
    bins, centers in µs (they span −0.25 to 6.25 µs, wider than the analysis window). Values are
    per fine bin, in arbitrary normalisation (the PE PDFs sum to 1 below 60 PE, the time PDFs do
    not sum to 1). Validated: at least two rows, strictly increasing centers, values ≥ 0.
    """
    table, lines, _ = _read_rows(path, 2)
    if len(table) < 2:
        raise DataFormatError(path, lines[-1] if lines else None, "a PDF needs at least 2 rows")
    centers, values = table[:, 0], table[:, 1]
    bad = np.flatnonzero(np.diff(centers) <= 0)
    if bad.size:
        raise DataFormatError(path, lines[bad[0] + 1], "bin centers are not strictly increasing")
    bad = np.flatnonzero(values < 0)
    if bad.size:
        raise DataFormatError(path, lines[bad[0]], f"negative PDF value {values[bad[0]]}")
    return centers, values


def rebin_fine_bins(centers: np.ndarray, values: np.ndarray, edges) -> np.ndarray:
    """Integrate a histogram given at fine-bin centers over coarse bins ``edges``.

    Fine-bin boundaries are the midpoints between neighbouring centers (the outer ones half a
    spacing beyond the first and last center). A fine bin's content is taken as uniform within
    it, so a fine bin straddling a coarse edge is shared in proportion to the overlap: in the
    release the 10-ns time bins centred on 0.125, 0.375, 0.625 and 0.875 µs are split half and
    half between neighbouring coarse bins, instead of going wholly to one side by rounding.
    Fine bins outside ``edges`` are dropped.
    """
    c = np.asarray(centers, dtype=float)
    mid = 0.5 * (c[1:] + c[:-1])
    lo = np.concatenate([[c[0] - (mid[0] - c[0])], mid])
    hi = np.concatenate([mid, [c[-1] + (c[-1] - mid[-1])]])
    e = _as_edges(edges, "edges")
    overlap = np.minimum(e[1:, None], hi) - np.maximum(e[:-1, None], lo)
    return (np.clip(overlap, 0.0, None) / (hi - lo)) @ np.asarray(values, dtype=float)


def timing_efficiency(t_us, onset_us: float = 0.52, decay_per_us: float = 0.0494) -> np.ndarray:
    """CsI timing efficiency ε_T(t): 1 before ``onset_us``, ``exp(−decay·(t − onset))`` after.

    ``t_us`` in µs, ``decay_per_us`` in µs⁻¹. Source: CsI 2021 release notes as used by public
    reproductions (docs/physics-reference.md §SNS flux).
    """
    t = np.asarray(t_us, dtype=float)
    return np.exp(-decay_per_us * np.maximum(t - onset_us, 0.0))


def pdf_template(
    pe_pdf: tuple[np.ndarray, np.ndarray],
    time_pdf: tuple[np.ndarray, np.ndarray],
    total: float,
    pe_edges=PE_EDGES,
    time_edges_us=TIME_EDGES_US,
    apply_timing_efficiency: bool = True,
) -> np.ndarray:
    """Factorised (PE × time) template from 1D PDFs, summing to ``total`` inside the grid.

    The PE PDF is used as released (it already includes the energy efficiency); the time PDF is
    multiplied by ``timing_efficiency`` at the fine-bin centers when ``apply_timing_efficiency``.
    Each is integrated over the coarse bins with ``rebin_fine_bins``, then the outer product is
    scaled so that the grid sums to ``total`` (counts inside the analysis grid, not the total
    expectation of the process over all PE and times).
    """
    pe = rebin_fine_bins(*pe_pdf, pe_edges)
    t_centers, t_values = time_pdf
    if apply_timing_efficiency:
        t_values = t_values * timing_efficiency(t_centers)
    t = rebin_fine_bins(t_centers, t_values, time_edges_us)
    grid = np.outer(pe, t)
    if grid.sum() <= 0:
        raise ValueError("the PDFs have no weight inside the analysis grid")
    return grid * (total / grid.sum())


def background_templates(
    release_dir: Path,
    pe_edges=PE_EDGES,
    time_edges_us=TIME_EDGES_US,
    *,
    n_brn: float = N_BRN,
    n_nin: float = N_NIN,
    apply_timing_efficiency: bool = True,
) -> dict[str, np.ndarray]:
    """BRN and NIN expectation per bin, ``{"brn": ..., "nin": ...}``, each ``(n_pe, n_time)``.

    Built by ``pdf_template`` from ``brnPE/brnTrec`` and ``ninPE/ninTrec`` in ``release_dir``
    (the ``coherent-csi-2021`` directory). ``n_brn``, ``n_nin``: expected events inside the
    analysis grid (docs/physics-reference.md, [assumed]); each template sums to exactly that.
    """
    release_dir = Path(release_dir)
    out = {}
    for name, total in (("brn", n_brn), ("nin", n_nin)):
        out[name] = pdf_template(
            load_pdf_1d(release_dir / f"{name}PE.txt"),
            load_pdf_1d(release_dir / f"{name}Trec.txt"),
            total,
            pe_edges,
            time_edges_us,
            apply_timing_efficiency,
        )
    return out


# --- response coefficients -------------------------------------------------------------------


def load_efficiency_coefficients(path: Path) -> dict[str, Coefficients]:
    """Energy-efficiency coefficients ``(a, b, c, d)``: keys nominal, plus1sigma, minus1sigma.

    The release file has three rows: nominal, then two rows both labelled "Syst model, +1
    sigma". We read the second systematic row as the −1σ curve: its c (the PE of the turn-on)
    is larger, i.e. the efficiency is shifted to higher PE and lower at threshold. The c
    ordering plus < nominal < minus is checked so that a re-ordered file is not misread.
    """
    rows, lines, _ = _read_rows(path, 4)
    if len(rows) != 3:
        raise DataFormatError(
            path, lines[-1] if lines else None, f"expected 3 coefficient rows, found {len(rows)}"
        )
    nominal, plus, minus = (tuple(float(v) for v in r) for r in rows)
    if not plus[2] < nominal[2] < minus[2]:
        raise DataFormatError(
            path, lines[2], "systematic rows not ordered as +1σ (lower c), −1σ (higher c)"
        )
    return {"nominal": nominal, "plus1sigma": plus, "minus1sigma": minus}


def efficiency_pe(x_pe, coeffs: Coefficients) -> np.ndarray:
    """Energy efficiency ``a/(1 + exp(−b (x − c))) + d`` clipped at 0; ``x_pe`` in PE."""
    a, b, c, d = coeffs
    x = np.asarray(x_pe, dtype=float)
    return np.clip(a * expit(b * (x - c)) + d, 0.0, None)


_SYST_LABEL = re.compile(r"syst model\s*(\d*)\s*,\s*([+-])\s*1\s*sigma", re.IGNORECASE)


def load_quenching_coefficients(path: Path) -> dict[str, Coefficients]:
    """Scintillation-response coefficients: ``E_ee[MeVee] = a x + b x² + c x³ + d x⁴``, x in MeVnr.

    Keys: ``"nominal"`` and, from the comment above each systematic row ("Syst model 0, +1
    sigma"), ``"syst0_plus1sigma"``, ``"syst0_minus1sigma"``, ``"syst1_plus1sigma"``, ... .
    """
    rows, lines, labels = _read_rows(path, 4)
    out: dict[str, Coefficients] = {}
    for row, lineno, label in zip(rows, lines, labels, strict=True):
        if label.lower().startswith("nominal"):
            key = "nominal"
        elif m := _SYST_LABEL.search(label):
            key = f"syst{m[1]}_{'plus' if m[2] == '+' else 'minus'}1sigma"
        else:
            raise DataFormatError(path, lineno, f"unrecognised row label {label!r}")
        if key in out:
            raise DataFormatError(path, lineno, f"duplicate row {key!r}")
        out[key] = tuple(float(v) for v in row)
    if "nominal" not in out:
        raise DataFormatError(path, None, "no nominal row")
    return out


def quenched_energy_mevee(t_mevnr, coeffs: Coefficients) -> np.ndarray:
    """Electron-equivalent energy [MeVee] of a nuclear recoil ``t_mevnr`` [MeVnr]."""
    a, b, c, d = coeffs
    x = np.asarray(t_mevnr, dtype=float)
    return x * (a + x * (b + x * (c + x * d)))


# --- the whole release -----------------------------------------------------------------------


@dataclass(frozen=True)
class CsI2021Data:
    """The CsI 2021 release in the analysis grid; arrays are ``(n_pe, n_time)`` counts."""

    observed: np.ndarray
    """Coincidence-window events per bin."""
    ssb: np.ndarray
    """Steady-state background expectation per bin (``ssb_model`` of ``SSB_MODELS``)."""
    ac: np.ndarray
    """Anti-coincidence events per bin (the SSB sample)."""
    ssb_model: str
    """How ``ssb`` was made from ``ac`` (one of ``SSB_MODELS``)."""
    brn: np.ndarray
    """Beam-related-neutron expectation per bin, summing to ``n_brn``."""
    nin: np.ndarray
    """Neutrino-induced-neutron expectation per bin, summing to ``n_nin``."""
    pe_edges: tuple[float, ...]
    """PE bin edges."""
    time_edges_us: tuple[float, ...]
    """Time bin edges in µs."""
    efficiency: dict[str, Coefficients]
    """``load_efficiency_coefficients`` output (x in PE)."""
    quenching: dict[str, Coefficients]
    """``load_quenching_coefficients`` output (MeVnr → MeVee)."""
    source_dir: Path
    """The ``coherent-csi-2021`` directory that was read."""


_LOADED: dict[tuple, CsI2021Data] = {}
"""Releases already binned in this process, by (directory, ``release_hash``, binning and
background options): the arrays are read-only, so every caller shares one copy."""


def _release_dir(data_dir: Path | None) -> Path:
    release = Path(data_dir if data_dir is not None else default_data_dir()) / RELEASE_DIRNAME
    if not release.is_dir():
        raise DataNotFoundError(release)
    return release


def load_csi2021(
    data_dir: Path | None = None,
    pe_edges=PE_EDGES,
    time_edges_us=TIME_EDGES_US,
    n_brn: float = N_BRN,
    n_nin: float = N_NIN,
    allow_modified_release: bool = False,
    ssb_model: str = "flat_time",
    ssb_timing_efficiency: bool = True,
) -> CsI2021Data:
    """Read and bin ``<data_dir>/coherent-csi-2021/`` (default ``cevnsfast.paths.data_dir()``).

    Files that differ from the official release are refused (``data.manifest``) unless
    ``allow_modified_release``. ``ssb_model`` (``SSB_MODELS``) sets ``ssb``: the raw AC counts
    (``raw_ac``) or the AC totals per PE bin spread over time by ``ssb_time_fractions``
    (``flat_time``, and the starting point of ``ac_measurement``); ``ssb_timing_efficiency``
    whether that spread follows ε_T.
    """
    if ssb_model not in SSB_MODELS:
        raise ValueError(f"ssb_model must be one of {', '.join(SSB_MODELS)}; got {ssb_model!r}")
    release = _release_dir(data_dir)
    verify_release(release, RELEASE_FILES, allow_modified_release)
    # binned once per process, release content and binning (every experiment reads it)
    options = (
        tuple(float(e) for e in pe_edges),
        tuple(float(e) for e in time_edges_us),
        float(n_brn),
        float(n_nin),
        ssb_model,
        bool(ssb_timing_efficiency),
    )
    key = (str(release.resolve()), release_hash(data_dir), options)
    if key not in _LOADED:
        _LOADED[key] = _read_release(release, *options)
    return _LOADED[key]


def _read_release(
    release: Path,
    pe_edges: tuple[float, ...],
    time_edges_us: tuple[float, ...],
    n_brn: float,
    n_nin: float,
    ssb_model: str,
    ssb_timing_efficiency: bool,
) -> CsI2021Data:
    templates = background_templates(release, pe_edges, time_edges_us, n_brn=n_brn, n_nin=n_nin)
    ac = ssb_template(release / "dataBeamOnAC.txt", pe_edges, time_edges_us)
    if ssb_model != "raw_ac":
        fractions = ssb_time_fractions(time_edges_us, ssb_timing_efficiency)
    return CsI2021Data(
        observed=read_only(
            load_binned_events(release / "dataBeamOnC.txt", pe_edges, time_edges_us)
        ),
        ssb=read_only(ac if ssb_model == "raw_ac" else ssb_flat_time(ac, fractions)),
        ac=read_only(ac),
        ssb_model=ssb_model,
        brn=read_only(templates["brn"]),
        nin=read_only(templates["nin"]),
        pe_edges=pe_edges,
        time_edges_us=time_edges_us,
        efficiency=load_efficiency_coefficients(release / "effCoefficients.txt"),
        quenching=load_quenching_coefficients(release / "scintRespCoefficients.txt"),
        source_dir=release,
    )


def release_hash(data_dir: Path | None = None) -> str:
    """SHA-256 (hex) of the ``RELEASE_FILES`` in ``<data_dir>/coherent-csi-2021/``, for
    provenance (framing: ``manifest.release_sha256``)."""
    release = _release_dir(data_dir)
    return release_sha256({name: _require(release / name) for name in RELEASE_FILES})
