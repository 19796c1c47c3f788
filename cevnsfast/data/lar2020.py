"""COHERENT CENNS-10 liquid-argon 2020 data release (Analysis A): loading and validation.

Source: the official release accompanying D. Akimov et al. (COHERENT), arXiv:2003.10630
(release notes arXiv:2006.12659), read from ``<data_dir>/coherent-lar-2020/``
(``cevnsfast.paths.data_dir()``; by default the copy bundled in ``cevnsfast/data/releases/``).

Release layout (as read and validated here):

- 3D tables ``datanobkgsub.txt`` (observed events, no background subtraction), ``cevnspdf.txt``,
  ``brnpdf.txt`` (prompt beam-related neutrons), ``delbrnpdf.txt`` (delayed BRN) and
  ``bkgpdf.txt`` (steady-state background, SS), plus the systematic variants ``brnpdf±1sig
  BRNTimingMean``, ``brnpdf±1sigEnergy``, ``brnpdfBRNTimingWidthSyst``, ``cevnspdf±1sigF90`` and
  ``cevnspdfCEvNSTimingMeanSyst``. One row per cell: ``E_center[keVee] F90_center
  t_center[µs] value``, 960 rows on a 12 × 8 × 10 grid (energy slowest, time fastest in the
  file; the loader places rows by their centres and does not rely on the order). The PDFs are
  expected events per cell over the full exposure; they already include the acceptance.
- The grid, from the centres (uniform bins; edges are centres ± half a spacing): energy
  0–120 keVee in 10 keVee bins; F90 0.5–0.9 in 0.05 bins; time −0.1–4.9 µs in 0.5 µs bins
  (centres 0.15 … 4.65 µs, so the lower edge −0.1 µs is [derived] from the centres).
- 1D projections ``energydata1d.txt``, ``f90data1d.txt``, ``timingdata1d.txt`` (one header line,
  8 columns: centre, SS-subtracted data, its statistical error, best-fit CEvNS, best-fit BRN
  (prompt + delayed), their sum, systematic band low / high), and ``systerrors1d{energy,psd,
  time}.txt`` (centre, band low / high as ratios to the CEvNS+BRN column).
- ``CENNS10AnlAEfficiency.txt``: 0.5-keVee bins, columns keVee centre, keVnr centre, efficiency.
- ``LArParametersAnlA.yaml``: exposure, geometry, quenching, flux, fitted and predicted
  normalisations, resolution, beam timing (``LArParameters``).

The release holds no background-subtracted 3D table: the background-subtracted data exist only
as the 1D projections (SS subtracted at its best-fit normalisation).

All 3D arrays have shape ``(n_energy, n_f90, n_time)``.
"""

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml

from cevnsfast.data import read_only
from cevnsfast.data.errors import (
    DataFormatError,
    DataNotFoundError,
    parse_numeric_row,
    read_release_text,
)
from cevnsfast.data.manifest import release_sha256, verify_release
from cevnsfast.paths import data_dir as default_data_dir

RELEASE_DIRNAME = "coherent-lar-2020"
DATA_FILE = "datanobkgsub.txt"
PARAMETERS_FILE = "LArParametersAnlA.yaml"
EFFICIENCY_FILE = "CENNS10AnlAEfficiency.txt"

COMPONENTS = ("cevns", "brn_prompt", "brn_delayed", "ss")
"""Release components: CEvNS, prompt and delayed beam-related neutrons, steady-state bkg."""

BACKGROUNDS = ("brn_prompt", "brn_delayed", "ss")

PDF_FILES = {
    "cevns": "cevnspdf.txt",
    "brn_prompt": "brnpdf.txt",
    "brn_delayed": "delbrnpdf.txt",
    "ss": "bkgpdf.txt",
}

VARIANT_FILES = {
    "cevns": {
        "f90_plus1sigma": "cevnspdf+1sigF90.txt",
        "f90_minus1sigma": "cevnspdf-1sigF90.txt",
        "timing_mean": "cevnspdfCEvNSTimingMeanSyst.txt",
    },
    "brn_prompt": {
        "timing_mean_plus1sigma": "brnpdf+1sigBRNTimingMean.txt",
        "timing_mean_minus1sigma": "brnpdf-1sigBRNTimingMean.txt",
        "energy_plus1sigma": "brnpdf+1sigEnergy.txt",
        "energy_minus1sigma": "brnpdf-1sigEnergy.txt",
        "timing_width": "brnpdfBRNTimingWidthSyst.txt",
    },
}
"""Systematic variants per component. Only CEvNS and prompt BRN have variants in the release;
``timing_width`` and the CEvNS ``timing_mean`` are one-sided (a single shifted PDF)."""

PROJECTION_FILES = {
    "energy": ("energydata1d.txt", "systerrors1denergy.txt"),
    "f90": ("f90data1d.txt", "systerrors1dpsd.txt"),
    "time": ("timingdata1d.txt", "systerrors1dtime.txt"),
}

RELEASE_FILES = tuple(
    sorted(
        [DATA_FILE, PARAMETERS_FILE, EFFICIENCY_FILE, *PDF_FILES.values()]
        + [f for v in VARIANT_FILES.values() for f in v.values()]
        + [f for pair in PROJECTION_FILES.values() for f in pair]
    )
)
"""The 21 files read by ``load_lar2020`` (and hashed by ``release_hash``)."""

AXES = ("energy_keVee", "f90", "time_us")
_AXIS_INDEX = {"energy": 0, "f90": 1, "time": 2}

_YAML_COMPONENT_KEYS = {
    "cevns": "cevns",
    "brn_prompt": "promptBeamRelatedNeutron",
    "brn_delayed": "delayedBeamRelatedNeutron",
    "ss": "ssBackground",
}


# --- parsing helpers -------------------------------------------------------------------------


def _require(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise DataNotFoundError(path)
    return path


def _read_table(path: Path, ncols: int, header: bool = False) -> tuple[np.ndarray, list[int]]:
    """Numeric rows of a whitespace-separated file; blank and ``#`` lines are skipped.

    With ``header=True`` the first non-blank line is a column-title line and is skipped (it
    must not parse as numbers). Returns the ``(n, ncols)`` values and each row's 1-based line.
    """
    path = _require(path)
    rows, lines = [], []
    seen_header = not header
    for lineno, raw in enumerate(read_release_text(path).splitlines(), start=1):
        text = raw.strip()
        if not text or text.startswith("#"):
            continue
        if not seen_header:
            seen_header = True
            if not _is_numeric_line(text):
                continue
            raise DataFormatError(path, lineno, "expected a column-title header line")
        rows.append(parse_numeric_row(path, lineno, text, ncols))
        lines.append(lineno)
    if not rows:
        raise DataFormatError(path, None, "no data rows")
    return np.array(rows, dtype=float), lines


def _is_numeric_line(text: str) -> bool:
    try:
        [float(x) for x in text.split()]
    except ValueError:
        return False
    return True


def _check_nonnegative(path: Path, lines: list[int], values: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(values < 0)
    if bad.size:
        i = bad[0]
        raise DataFormatError(path, lines[i], f"negative {what} {values[i]}")


def _key(x: float) -> float:
    return round(float(x), 9)


# --- the 3D grid -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Grid:
    """The release's own binning, from the bin centres of ``datanobkgsub.txt``."""

    energy_centers_keVee: np.ndarray
    f90_centers: np.ndarray
    time_centers_us: np.ndarray
    energy_edges_keVee: np.ndarray
    f90_edges: np.ndarray
    time_edges_us: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.energy_centers_keVee.size, self.f90_centers.size, self.time_centers_us.size)

    def centers(self, axis: str) -> np.ndarray:
        return (self.energy_centers_keVee, self.f90_centers, self.time_centers_us)[
            _AXIS_INDEX[axis]
        ]


def _edges_from_centers(path: Path, centers: np.ndarray, axis: str) -> np.ndarray:
    if centers.size < 2:
        raise DataFormatError(path, None, f"{axis} axis has fewer than 2 bins")
    d = np.diff(centers)
    if not np.allclose(d, d[0], rtol=1e-6, atol=1e-9):
        raise DataFormatError(path, None, f"{axis} bin centres are not uniformly spaced: {centers}")
    w = float(np.mean(d))
    edges = np.concatenate([centers - w / 2, [centers[-1] + w / 2]])
    return np.round(edges, 9) + 0.0  # + 0.0 turns -0.0 into 0.0


def _grid_from_rows(path: Path, rows: np.ndarray) -> Grid:
    centers = [np.unique(np.round(rows[:, k], 9)) for k in range(3)]
    edges = [_edges_from_centers(path, c, ax) for c, ax in zip(centers, _AXIS_INDEX, strict=True)]
    return Grid(*(read_only(c) for c in centers), *(read_only(e) for e in edges))


def _load_3d(
    path: Path, grid: Grid | None = None, *, integer: bool = False
) -> tuple[Grid, np.ndarray]:
    """A 3D release table on its grid: ``(grid, values)`` with values ``(nE, nF90, nt)``.

    ``grid=None`` derives the grid from this file (the data file); otherwise every row must sit
    on ``grid``. Every cell must appear exactly once. Energies and values must be ≥ 0, and with
    ``integer=True`` the values must be whole numbers (event counts).
    """
    rows, lines = _read_table(path, 4)
    _check_nonnegative(path, lines, rows[:, 0], "energy (keVee)")
    _check_nonnegative(path, lines, rows[:, 3], "count" if integer else "expected count")
    if integer:
        bad = np.flatnonzero(rows[:, 3] != np.round(rows[:, 3]))
        if bad.size:
            i = bad[0]
            raise DataFormatError(path, lines[i], f"event count {rows[i, 3]} is not an integer")
    if grid is None:
        grid = _grid_from_rows(path, rows)
    index = [{_key(c): i for i, c in enumerate(grid.centers(ax))} for ax in _AXIS_INDEX]
    values = np.full(grid.shape, np.nan)
    for row, lineno in zip(rows, lines, strict=True):
        try:
            cell = tuple(index[k][_key(row[k])] for k in range(3))
        except KeyError:
            raise DataFormatError(
                path, lineno, f"cell ({row[0]}, {row[1]}, {row[2]}) is not on the release grid"
            ) from None
        if not np.isnan(values[cell]):
            raise DataFormatError(path, lineno, f"duplicate cell ({row[0]}, {row[1]}, {row[2]})")
        values[cell] = row[3]
    missing = np.argwhere(np.isnan(values))
    if missing.size:
        i, j, k = missing[0]
        raise DataFormatError(
            path,
            None,
            f"{len(missing)} grid cells missing, first at E = {grid.energy_centers_keVee[i]} "
            f"keVee, F90 = {grid.f90_centers[j]}, t = {grid.time_centers_us[k]} µs",
        )
    return grid, values


# --- 1D projections --------------------------------------------------------------------------


@dataclass(frozen=True)
class Release1DProjection:
    """One released 1D projection (``<axis>data1d.txt`` + ``systerrors1d<axis>.txt``).

    ``centers`` are in keVee (energy), dimensionless (F90) or µs (time). Counts are summed over
    the other two axes of the 3D grid. The CEvNS and BRN columns are at the release's best-fit
    normalisations (≈ 159.5 CEvNS, ≈ 553 prompt + ≈ 10.7 delayed BRN), and the SS-subtracted
    data are ``datanobkgsub`` minus ``bkgpdf`` scaled to the best-fit SS (≈ 3131.75 events).
    """

    axis: str
    centers: np.ndarray
    ss_subtracted_counts: np.ndarray
    stat_err_counts: np.ndarray
    cevns_fit_counts: np.ndarray
    brn_fit_counts: np.ndarray
    cevns_plus_brn_fit_counts: np.ndarray
    syst_low_counts: np.ndarray
    syst_high_counts: np.ndarray
    syst_low_ratio: np.ndarray
    """``systerrors1d*.txt``: lower band / (CEvNS + BRN)."""
    syst_high_ratio: np.ndarray


def _load_projection(release: Path, axis: str, grid: Grid) -> Release1DProjection:
    data_name, syst_name = PROJECTION_FILES[axis]
    centers = grid.centers(axis)
    cols = {}
    for name, ncols, header in ((data_name, 8, True), (syst_name, 3, False)):
        path = release / name
        rows, lines = _read_table(path, ncols, header=header)
        if len(rows) != centers.size:
            raise DataFormatError(
                path, lines[-1], f"expected {centers.size} {axis} bins, found {len(rows)}"
            )
        for row, lineno, c in zip(rows, lines, centers, strict=True):
            if _key(row[0]) != _key(c):
                raise DataFormatError(
                    path, lineno, f"bin centre {row[0]} does not match the 3D grid ({c})"
                )
        # every column but the SS-subtracted data (column 1 of the data file) is ≥ 0
        for k in range(1, ncols):
            if not (name == data_name and k == 1):
                _check_nonnegative(path, lines, rows[:, k], "value")
        cols[name] = rows
    d, s = cols[data_name], cols[syst_name]
    return Release1DProjection(
        axis=axis,
        centers=read_only(centers),
        ss_subtracted_counts=read_only(d[:, 1]),
        stat_err_counts=read_only(d[:, 2]),
        cevns_fit_counts=read_only(d[:, 3]),
        brn_fit_counts=read_only(d[:, 4]),
        cevns_plus_brn_fit_counts=read_only(d[:, 5]),
        syst_low_counts=read_only(d[:, 6]),
        syst_high_counts=read_only(d[:, 7]),
        syst_low_ratio=read_only(s[:, 1]),
        syst_high_ratio=read_only(s[:, 2]),
    )


# --- efficiency ------------------------------------------------------------------------------


def load_efficiency(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``CENNS10AnlAEfficiency.txt``: ``(e_keVee, t_keVnr, efficiency)`` at the bin centres.

    Validated: 3 columns, energies ≥ 0 and strictly increasing, efficiency in [0, 1].
    """
    rows, lines = _read_table(path, 3)
    _check_nonnegative(path, lines, rows[:, 0], "energy (keVee)")
    _check_nonnegative(path, lines, rows[:, 1], "energy (keVnr)")
    _check_nonnegative(path, lines, rows[:, 2], "efficiency")
    bad = np.flatnonzero(rows[:, 2] > 1)
    if bad.size:
        raise DataFormatError(path, lines[bad[0]], f"efficiency {rows[bad[0], 2]} exceeds 1")
    for k, unit in ((0, "keVee"), (1, "keVnr")):
        bad = np.flatnonzero(np.diff(rows[:, k]) <= 0)
        if bad.size:
            raise DataFormatError(path, lines[bad[0] + 1], f"{unit} not strictly increasing")
    return rows[:, 0], rows[:, 1], rows[:, 2]


# --- parameters (YAML) -----------------------------------------------------------------------


@dataclass(frozen=True)
class Normalisation:
    """An event count over the full exposure inside the Analysis A region, with its 1σ."""

    counts: float
    unc_counts: float


@dataclass(frozen=True)
class LArParameters:
    """``LArParametersAnlA.yaml``. An uncertainty the file calls "negligible" is stored as 0."""

    pot: float
    """Protons on target (the file gives 13.8 in units of E22 POT)."""
    beam_energy_gwh: float | None
    """Integrated beam energy in GWh, from the exposure comment (6.12); None if absent."""
    distance_m: float
    fiducial_mass_kg: float
    fiducial_mass_unc_kg: float
    qf_a: float
    """Quenching factor QF = qf_a + qf_b_per_keVnr · T[keVnr]; E_ee = QF · T."""
    qf_a_unc: float
    qf_b_per_keVnr: float
    qf_b_unc_per_keVnr: float
    nu_per_flavor_per_pot: float
    nu_per_flavor_per_pot_unc: float
    energy_resolution_a_sqrt_keVee: float
    """σ/E = a/√E with E in keVee."""
    pot_trace_mean_ns: float
    """Gaussian proton-on-target trace: mean and its uncertainty, width (ns)."""
    pot_trace_mean_unc_ns: float
    pot_trace_sigma_ns: float
    bestfit: dict[str, Normalisation]
    """After COHERENT's 3D fit, keys ``COMPONENTS``. The CEvNS entry's uncertainty is the
    file's ``uncertainty_stat``, which its comment says includes statistical and systematic."""
    predicted: dict[str, Normalisation]
    """Before the fit (the release PDFs' normalisations), keys ``COMPONENTS``."""
    source_file: Path

    def quenching_factor(self, t_keVnr) -> np.ndarray:
        """QF(T) = a + b T, T in keVnr."""
        return self.qf_a + self.qf_b_per_keVnr * np.asarray(t_keVnr, dtype=float)

    def recoil_keVee(self, t_keVnr) -> np.ndarray:
        """Electron-equivalent energy [keVee] of a nuclear recoil ``t_keVnr`` [keVnr]."""
        t = np.asarray(t_keVnr, dtype=float)
        return self.quenching_factor(t) * t


def _yaml_lines(node, prefix=()) -> dict[tuple, int]:
    """Map each mapping-key path (and list index) to the 1-based line of its value."""
    out = {}
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            path = (*prefix, k.value)
            out[path] = v.start_mark.line + 1
            out.update(_yaml_lines(v, path))
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            out[(*prefix, i)] = v.start_mark.line + 1
            out.update(_yaml_lines(v, (*prefix, i)))
    return out


class _Yaml:
    def __init__(self, path: Path):
        self.path = _require(path)
        text = read_release_text(self.path)
        try:
            self.doc = yaml.safe_load(text)
            self.lines = _yaml_lines(yaml.compose(text, Loader=yaml.SafeLoader))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            raise DataFormatError(self.path, line, f"invalid YAML: {problem}") from None
        if not isinstance(self.doc, dict):
            raise DataFormatError(self.path, None, "expected a YAML mapping at the top level")

    def get(self, *keys):
        node = self.doc
        for i, k in enumerate(keys):
            if isinstance(node, dict) and k in node:
                node = node[k]
            elif isinstance(node, list) and isinstance(k, int) and k < len(node):
                node = node[k]
            else:
                raise DataFormatError(
                    self.path, self.lines.get(keys[:i]), f"missing key {_dotted(keys[: i + 1])}"
                )
        return node

    def number(self, *keys, negligible_ok: bool = False) -> float:
        v = self.get(*keys)
        if negligible_ok and isinstance(v, str) and v.strip().lower() == "negligible":
            return 0.0
        if isinstance(v, bool) or not isinstance(v, int | float) or not np.isfinite(v):
            raise DataFormatError(
                self.path, self.lines.get(keys), f"{_dotted(keys)}: expected a number, got {v!r}"
            )
        if v < 0:
            raise DataFormatError(self.path, self.lines.get(keys), f"{_dotted(keys)}: negative")
        return float(v)

    def units(self, keys: tuple, allowed: tuple[str, ...]) -> str:
        u = str(self.get(*keys, "units")).strip()
        if u.replace(" ", "") not in {a.replace(" ", "") for a in allowed}:
            raise DataFormatError(
                self.path,
                self.lines.get((*keys, "units")),
                f"{_dotted(keys)}: unexpected units {u!r} (expected {' or '.join(allowed)})",
            )
        return u

    def parameter(self, block: str, name: str) -> tuple:
        params = self.get(block, "parameters")
        if not isinstance(params, list):
            raise DataFormatError(
                self.path, self.lines.get((block, "parameters")), f"{block}.parameters: not a list"
            )
        for i, p in enumerate(params):
            if isinstance(p, dict) and p.get("name") == name:
                return (block, "parameters", i)
        raise DataFormatError(
            self.path, self.lines.get((block, "parameters")), f"{block}: no parameter {name!r}"
        )


def _dotted(keys) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in keys).lstrip(".")


def load_parameters(path: Path) -> LArParameters:
    """Read ``LArParametersAnlA.yaml``, checking the units of every value it uses."""
    y = _Yaml(path)

    units = y.units(("beamExposure",), ("E22 POT",))
    exponent = int(re.match(r"E(\d+)", units.replace(" ", "")).group(1))
    comment = str(y.doc["beamExposure"].get("comment", ""))
    gwh = re.search(r"([0-9.]+)\s*GW\s*h", comment, re.IGNORECASE)

    y.units(("distanceToTarget",), ("m",))
    y.units(("fiducialMass",), ("kg",))
    y.units(("neutrinosPerProton",), ("nu/flavor/proton",))
    qa, qb = y.parameter("larQF", "a"), y.parameter("larQF", "b")
    y.units(qb, ("(keVnr)^-1",))
    res = y.parameter("energyResolution", "a")
    y.units(res, ("(keVee)^(1/2)",))
    tmean, twidth = y.parameter("snsPOTTraceTiming", "a"), y.parameter("snsPOTTraceTiming", "b")
    y.units(tmean, ("ns",))
    y.units(twidth, ("ns",))

    def norm(kind: str, comp: str) -> Normalisation:
        key = f"{_YAML_COMPONENT_KEYS[comp]}{kind}Normalization"
        block = y.get(key)
        if not isinstance(block, dict):
            raise DataFormatError(y.path, y.lines.get((key,)), f"{key}: expected a mapping")
        unc = "uncertainty" if "uncertainty" in block else "uncertainty_stat"
        return Normalisation(y.number(key, "value"), y.number(key, unc))

    return LArParameters(
        pot=float(f"{y.number('beamExposure', 'value')!r}e{exponent}"),  # 13.8e22 exactly
        beam_energy_gwh=float(gwh.group(1)) if gwh else None,
        distance_m=y.number("distanceToTarget", "value"),
        fiducial_mass_kg=y.number("fiducialMass", "value"),
        fiducial_mass_unc_kg=y.number("fiducialMass", "uncertainty", negligible_ok=True),
        qf_a=y.number(*qa, "value"),
        qf_a_unc=y.number(*qa, "uncertainty"),
        qf_b_per_keVnr=y.number(*qb, "value"),
        qf_b_unc_per_keVnr=y.number(*qb, "uncertainty"),
        nu_per_flavor_per_pot=y.number("neutrinosPerProton", "value"),
        nu_per_flavor_per_pot_unc=y.number("neutrinosPerProton", "uncertainty"),
        energy_resolution_a_sqrt_keVee=y.number(*res, "value"),
        pot_trace_mean_ns=y.number(*tmean, "value"),
        pot_trace_mean_unc_ns=y.number(*tmean, "uncertainty", negligible_ok=True),
        pot_trace_sigma_ns=y.number(*twidth, "value"),
        bestfit={c: norm("Bestfit", c) for c in COMPONENTS},
        predicted={c: norm("Prediction", c) for c in COMPONENTS},
        source_file=y.path,
    )


# --- the whole release -----------------------------------------------------------------------


@dataclass(frozen=True)
class LAr2020Data:
    """The LAr 2020 release on its own grid; 3D arrays are ``(n_energy, n_f90, n_time)``.

    Arrays are read-only views of the release. The PDFs are expected events per cell at the
    release's *predicted* normalisations (sums ≈ 128 CEvNS, 497 prompt BRN, 33 delayed BRN and
    3152 SS — the YAML's SS prediction is 3154 ± 25).
    """

    grid: Grid
    observed_counts: np.ndarray
    """Beam-on events per cell (``datanobkgsub.txt``, no background subtraction), int64."""
    pdfs: dict[str, np.ndarray]
    """Nominal expected counts per cell, keys ``COMPONENTS``."""
    variants: dict[str, dict[str, np.ndarray]]
    """Systematic variants as released (not renormalised), keyed as ``VARIANT_FILES``."""
    efficiency_e_keVee: np.ndarray
    """Efficiency-curve bin centres in keVee (0.5-keVee bins up to 40 keVee)."""
    efficiency_t_keVnr: np.ndarray
    """The same centres in keVnr (through the release's quenching factor)."""
    efficiency_values: np.ndarray
    projections_1d: dict[str, Release1DProjection]
    """Keys ``"energy"``, ``"f90"``, ``"time"``."""
    params: LArParameters
    source_dir: Path
    release_sha256: str = field(default="")

    @property
    def energy_edges_keVee(self) -> np.ndarray:
        return self.grid.energy_edges_keVee

    @property
    def f90_edges(self) -> np.ndarray:
        return self.grid.f90_edges

    @property
    def time_edges_us(self) -> np.ndarray:
        return self.grid.time_edges_us

    def efficiency(self, e_keVee) -> np.ndarray:
        """Acceptance at ``e_keVee``: linear interpolation between the released centres, held
        at the end values outside them (0 below 0.25 keVee, ≈ 0.96 above 39.75 keVee)."""
        return np.interp(
            np.asarray(e_keVee, dtype=float), self.efficiency_e_keVee, self.efficiency_values
        )


def _release_dir(data_dir: Path | None) -> Path:
    release = Path(data_dir if data_dir is not None else default_data_dir()) / RELEASE_DIRNAME
    if not release.is_dir():
        raise DataNotFoundError(release)
    return release


_LOADED: dict[tuple[str, str], LAr2020Data] = {}
"""Releases already parsed in this process, by (directory, ``release_hash``): the data are
read-only, so every caller shares one copy."""


def load_lar2020(data_dir: Path | None = None, allow_modified_release: bool = False) -> LAr2020Data:
    """Read and validate ``<data_dir>/coherent-lar-2020/`` (default ``paths.data_dir()``).

    Raises ``DataNotFoundError`` (a ``FileNotFoundError`` whose message names the path and the
    ``CEVNSFAST_DATA_DIR`` / ``--data-dir`` settings) for a missing directory or file, and
    ``DataFormatError`` (a ``ValueError`` naming file and line) for a malformed line, negative
    energy or count, non-integer event count, or a cell off the data file's grid. Files that
    differ from the official release are refused (``data.manifest``) unless
    ``allow_modified_release``.
    """
    release = _release_dir(data_dir)
    for name in RELEASE_FILES:
        _require(release / name)
    verify_release(release, RELEASE_FILES, allow_modified_release)
    # parsed once per process and release content (every experiment and scenario fit reads it)
    key = (str(release.resolve()), release_hash(data_dir))
    if key not in _LOADED:
        _LOADED[key] = _read_release(release, key[1])
    return _LOADED[key]


def _read_release(release: Path, sha256: str) -> LAr2020Data:
    grid, observed = _load_3d(release / DATA_FILE, integer=True)
    pdfs = {c: read_only(_load_3d(release / f, grid)[1]) for c, f in PDF_FILES.items()}
    variants = {
        c: {v: read_only(_load_3d(release / f, grid)[1]) for v, f in files.items()}
        for c, files in VARIANT_FILES.items()
    }
    e_ee, t_nr, eff = load_efficiency(release / EFFICIENCY_FILE)
    return LAr2020Data(
        grid=grid,
        observed_counts=read_only(observed.astype(np.int64)),
        pdfs=pdfs,
        variants=variants,
        efficiency_e_keVee=read_only(e_ee),
        efficiency_t_keVnr=read_only(t_nr),
        efficiency_values=read_only(eff),
        projections_1d={ax: _load_projection(release, ax, grid) for ax in PROJECTION_FILES},
        params=load_parameters(release / PARAMETERS_FILE),
        source_dir=release,
        release_sha256=sha256,
    )


def release_hash(data_dir: Path | None = None) -> str:
    """SHA-256 (hex) of the release files in ``<data_dir>/coherent-lar-2020/``, for provenance.

    Only ``RELEASE_FILES`` enter it (framing: ``manifest.release_sha256``); other files in the
    directory (e.g. the release's companion PDF or example code, if downloaded) do not.
    """
    release = _release_dir(data_dir)
    return release_sha256({name: _require(release / name) for name in RELEASE_FILES})


# --- the analysis projection -----------------------------------------------------------------


@dataclass(frozen=True)
class LArAnalysis:
    """Inputs of a binned Poisson likelihood for LAr 2020 (see ``analysis_projection``).

    Arrays have shape ``shape``: ``(n_energy, n_f90, n_time)`` for the full grid or
    ``(n_energy, n_time)`` for the energy × time projection.
    """

    projection: str
    axes: tuple[str, ...]
    energy_edges_keVee: np.ndarray
    f90_edges: np.ndarray | None
    """None for the energy × time projection (F90 summed over the whole 0.5–0.9 region)."""
    time_edges_us: np.ndarray
    observed_counts: np.ndarray
    background_counts: dict[str, np.ndarray]
    """Expected counts per bin, keys ``BACKGROUNDS``, each summing to the YAML prediction."""
    background_unc_frac: dict[str, float]
    """YAML predicted uncertainty / prediction (prompt BRN 0.32, delayed BRN 1.0, SS 0.0079)."""
    background_variants: dict[str, dict[str, np.ndarray]]
    """Prompt-BRN systematic variants, scaled as chosen by ``variant_normalisation``."""
    cevns_release_counts: np.ndarray
    """The release's CEvNS PDF, normalised to the YAML prediction (128): shape cross-check."""
    cevns_release_variants: dict[str, np.ndarray]
    f90_given_energy: np.ndarray | None
    """``(n_energy, n_f90)`` P(F90 bin | energy bin) for nuclear recoils, rows sum to 1."""
    f90_template_source: tuple[str, ...]
    """Per energy bin, which release PDF gave ``f90_given_energy``: ``"cevns"``, or
    ``"brn_prompt"`` where the CEvNS PDF is (nearly) empty, ``"uniform"`` if both are."""

    @property
    def shape(self) -> tuple[int, ...]:
        return self.observed_counts.shape

    def lift(self, signal_energy_time: np.ndarray) -> np.ndarray:
        """An ``(n_energy, n_time)`` prediction on this projection's grid.

        Full grid: each (energy, time) bin is spread over F90 with ``f90_given_energy``
        (counts are conserved). Energy × time: returned unchanged.
        """
        s = np.asarray(signal_energy_time, dtype=float)
        n_e, n_t = self.energy_edges_keVee.size - 1, self.time_edges_us.size - 1
        if s.shape != (n_e, n_t):
            raise ValueError(
                f"expected an (energy, time) array of shape {(n_e, n_t)}, got {s.shape}"
            )
        if self.f90_given_energy is None:
            return s
        return s[:, None, :] * self.f90_given_energy[:, :, None]

    def expected_background(self, scale: dict[str, float] | None = None) -> np.ndarray:
        """Sum of the backgrounds, each multiplied by ``scale[name]`` (default 1)."""
        scale = scale or {}
        return sum(self.background_counts[b] * scale.get(b, 1.0) for b in BACKGROUNDS)


F90_MIN_CEVNS_FRACTION = 1e-4
"""An energy bin takes its F90 shape from the CEvNS PDF only if it holds at least this fraction
of the CEvNS total (below it, e.g. 7e-6 events at 50–60 keVee, the MC shape is noise)."""


def _conditional_f90(pdfs: dict[str, np.ndarray]) -> tuple[np.ndarray, tuple[str, ...]]:
    out, source = [], []
    for i in range(pdfs["cevns"].shape[0]):
        for name in ("cevns", "brn_prompt"):
            row = pdfs[name][i].sum(axis=1)
            if row.sum() > 0 and row.sum() >= F90_MIN_CEVNS_FRACTION * pdfs[name].sum():
                out.append(row / row.sum())
                source.append(name)
                break
        else:
            n = pdfs["cevns"].shape[1]
            out.append(np.full(n, 1.0 / n))
            source.append("uniform")
    return np.array(out), tuple(source)


def analysis_projection(
    data: LAr2020Data,
    projection: str = "energy_f90_time",
    *,
    variant_normalisation: str = "shape",
) -> LArAnalysis:
    """Observed counts and expected backgrounds for a binned Poisson likelihood.

    Two projections; the likelihood's default is energy × time (``LAr2020Settings``: the
    binning of the published phenomenology, De Romeri et al., arXiv:2211.11905), the 3D grid
    is experiment ``lar2020_3d``.

    **The release's full 3D grid** (``projection="energy_f90_time"``, the default here, 12
    energy × 8 F90 × 10 time bins), with F90 kept rather than summed. Its strengths:

    - it is the binning of COHERENT's own 3D fit, whose results the YAML quotes, so the
      release's backgrounds, systematic variants and normalisations are used as intended;
    - F90 is the main handle on the dominant background: SS (≈ 3150 events, mostly ³⁹Ar
      electron recoils leaking into 0.5 < F90 < 0.9) is nearly flat in F90, whereas nuclear
      recoils peak at F90 ≈ 0.65–0.8 with an energy-dependent shape. With the backgrounds at
      their best-fit normalisations, the Poisson Asimov Δχ² between background only and
      background + the predicted 128 CEvNS is ≈ 13.1 on the 3D grid, ≈ 9.7 on energy × time,
      ≈ 7.8 on energy alone and ≈ 5.2 on time alone;
    - the F90 dimension costs the physics engine nothing: in the release CEvNS PDF the F90
      distribution depends on the energy bin only (it factorises exactly in time), so a
      prediction on energy × time is lifted to 3D by ``LArAnalysis.lift`` with
      ``f90_given_energy`` taken from the CEvNS PDF. For a non-SM signal this assumes that F90
      depends only on the recoil energy (a nuclear recoil is a nuclear recoil); energy bins
      where the CEvNS PDF is (nearly) empty (≥ 50 keVee, ``F90_MIN_CEVNS_FRACTION``; reachable
      only by BSM spectra) borrow the prompt-BRN F90 shape, also nuclear recoils;
    - every one of the 960 bins has a positive expectation (the SS PDF is > 0.79 everywhere),
      so the Poisson likelihood is well defined despite many low-count bins. Fitting the
      release CEvNS shape to the observed 3D counts with the backgrounds at their best-fit
      normalisations gives ≈ 160 CEvNS events, reproducing the release's 159 ± 43.

    ``projection="energy_time"`` sums every 3D table (data, PDFs, variants) over F90, the
    whole released region (every event of the release is already inside COHERENT's 0.5–0.9
    nuclear-recoil band): 120 bins, cheaper and weaker; its totals per energy and time bin are
    the 3D ones, and its marginals are the release's 1D projections.

    Backgrounds are the release PDFs rescaled so each sums to the YAML *predicted*
    normalisation (prompt BRN 497 ± 160, delayed BRN 33 ± 33, SS 3154 ± 25; the SS PDF itself
    sums to 3152, the factor is 1.0006). The nuisance widths are in ``background_unc_frac``.

    ``variant_normalisation``: ``"shape"`` (default) rescales each prompt-BRN variant to the
    nominal total, so variants move only the shape and the normalisation is left to the
    component's own nuisance — note the release's ``brnpdf+1sigBRNTimingMean`` sums to ≈ 523.7
    instead of 497 (+5.4 %) while the other variants keep 497; ``"release"`` keeps the release's
    totals (variant × the same factor as the nominal PDF).
    """
    if projection not in ("energy_f90_time", "energy_time"):
        raise ValueError(
            f"projection must be 'energy_f90_time' or 'energy_time', not {projection!r}"
        )
    if variant_normalisation not in ("shape", "release"):
        raise ValueError("variant_normalisation must be 'shape' or 'release'")
    full = projection == "energy_f90_time"

    def proj(a: np.ndarray) -> np.ndarray:
        return read_only(a if full else a.sum(axis=1))

    predicted = data.params.predicted
    factor = {c: predicted[c].counts / data.pdfs[c].sum() for c in COMPONENTS}

    def variant(comp: str, a: np.ndarray) -> np.ndarray:
        if variant_normalisation == "shape":
            return proj(a * (predicted[comp].counts / a.sum()))
        return proj(a * factor[comp])

    f90_given_energy, source = _conditional_f90(data.pdfs)
    return LArAnalysis(
        projection=projection,
        axes=AXES if full else (AXES[0], AXES[2]),
        energy_edges_keVee=data.energy_edges_keVee,
        f90_edges=data.f90_edges if full else None,
        time_edges_us=data.time_edges_us,
        observed_counts=proj(data.observed_counts),
        background_counts={b: proj(data.pdfs[b] * factor[b]) for b in BACKGROUNDS},
        background_unc_frac={b: predicted[b].unc_counts / predicted[b].counts for b in BACKGROUNDS},
        background_variants={
            b: {v: variant(b, a) for v, a in data.variants[b].items()}
            for b in BACKGROUNDS
            if b in data.variants
        },
        cevns_release_counts=proj(data.pdfs["cevns"] * factor["cevns"]),
        cevns_release_variants={v: variant("cevns", a) for v, a in data.variants["cevns"].items()},
        f90_given_energy=read_only(f90_given_energy) if full else None,
        f90_template_source=source if full else (),
    )
