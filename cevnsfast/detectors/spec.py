"""Detector specs: TOML files describing target, exposure, response and binning.

A spec is validated on load: a missing field, a value outside its range, an unknown nucleus
or a threshold above the largest recoil the SNS flux can produce raises ``SpecError`` naming
the field and the allowed range. Every numeric value must carry a source in the spec's
``[sources]`` table (a dotted-path prefix is enough), so provenance travels with the numbers.

Shipped specs live in ``build_tables/detectors/``; users pass their own file by path.
"""

import copy
import dataclasses
import difflib
import hashlib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cevnsfast.detectors.errors import SpecError
from cevnsfast.nuclei import NATURAL_ABUNDANCE
from cevnsfast.paths import DATA_DIR_ENV, build_package_dir, data_dir
from cevnsfast.physics.cross_sections import WEAK_CHARGE_MODES
from cevnsfast.physics.form_factors import FORM_FACTOR_PARAMS

SHIPPED_SPEC_DIR = build_package_dir() / "detectors"

OBSERVABLES = ("keVnr", "keVee", "pe")
QUENCHING_MODELS = ("none", "constant", "linear_qf", "piecewise_linear_qf", "polynomial_mev")
SMEARING_MODELS = ("none", "gamma_csi", "gaussian")
EFFICIENCY_MODELS = ("constant", "logistic", "curve_file")
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    # table → its allowed keys; a key outside these is an error with a "did you mean" hint
    "": (
        "name",
        "description",
        "target",
        "exposure",
        "response",
        "binning",
        "timing",
        "nuisances",
        "background",
        "statistics",
        "physics",
        "sources",
    ),
    "target": ("formula", "detected_elements", "isotopes", "mass_kg"),
    "exposure": ("pot", "nu_per_flavour_per_pot", "distance_m"),
    "response": ("observable", "light_yield_pe_per_keVee", "quenching", "smearing", "efficiency"),
    "binning": ("edges", "start", "width", "count"),
    "timing": (
        "edges_us",
        "pulse_mean_us",
        "pulse_sigma_us",
        "efficiency_onset_us",
        "efficiency_decay_per_us",
    ),
    "background": ("ckkd", "first_bins", "first_bins_ckkd", "live_days", "reduction"),
    "statistics": ("sigma_alpha", "sigma_beta"),
    "physics": ("sin2_theta_w", "weak_charge", "form_factor", "form_factor_params"),
}
MODEL_KEYS: dict[str, dict[str, tuple[str, ...]]] = {
    # response sub-tables: the keys each model reads (besides ``model``)
    "response.quenching": {
        "none": (),
        "constant": ("qf",),
        "linear_qf": ("a", "b_per_keVnr"),
        "piecewise_linear_qf": ("a", "b_per_keVnr", "t_break_keVnr", "qf_above"),
        "polynomial_mev": ("coefficients",),
    },
    "response.smearing": {
        "none": (),
        "gamma_csi": ("a_keVee", "b_per_keVee"),
        "gaussian": ("s0", "s1", "s2"),
    },
    "response.efficiency": {
        "constant": ("value", "zero_below", "zero_above"),
        "logistic": (
            "a",
            "b",
            "c",
            "d",
            "shift",
            "plus1sigma",
            "minus1sigma",
            "zero_below",
            "zero_above",
        ),
        "curve_file": ("file", "columns", "zero_below", "zero_above"),
    },
}
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
"""Allowed spec names: they name table files and join experiments with '+'."""
NUISANCE_AXES = {
    # name: (allowed range, nominal value) — shape nuisances tabulated on a grid
    "radius_scale": ((0.5, 1.5), 1.0),
    "efficiency_sigma": ((-5.0, 5.0), 0.0),
    "time_shift_us": ((-1.0, 1.0), 0.0),
}


class SpecInputMissing(SpecError, FileNotFoundError):
    """A file the spec names (e.g. a released efficiency curve) is not in the data directory.

    Loading and listing such a spec works; building or integrating it raises this error, whose
    message names the path and how to point cevnsfast at the data.
    """


@dataclass(frozen=True)
class DetectorSpec:
    """A validated spec. ``raw`` is the parsed TOML; the typed fields are what the build uses."""

    name: str
    description: str
    elements: dict[str, int]
    detected_elements: tuple[str, ...]
    isotopes: dict[str, dict[str, float]]
    mass_kg: float
    pot: float
    nu_per_flavour_per_pot: float
    distance_m: float
    observable: str
    quenching: dict[str, Any]
    light_yield_pe_per_kev_ee: float | None
    smearing: dict[str, Any]
    efficiency: dict[str, Any]
    bin_edges: tuple[float, ...]
    physics: dict[str, Any]
    raw: dict[str, Any] = field(repr=False)
    timing: dict[str, Any] | None = None
    nuisances: dict[str, tuple[float, ...]] = field(default_factory=dict)
    input_files: dict[str, str | None] = field(default_factory=dict)
    """External files the spec names (dotted field → sha256 of the content, None if missing):
    part of the provenance hash, so a changed file makes the built table stale."""

    @property
    def n_time_bins(self) -> int:
        """Number of arrival-time bins (1 when the detector has no time binning)."""
        return 1 if self.timing is None else len(self.timing["edges_us"]) - 1

    def canonical_json(self) -> str:
        """The spec as canonical JSON: the input to its provenance hash. External files enter
        by content (sha256), not by location, so moving the data directory changes nothing."""
        payload = self.raw
        if self.input_files:
            payload = {**self.raw, "input_files_sha256": self.input_files}
        return json.dumps(payload, sort_keys=True, separators=(",", ":"), allow_nan=False)

    def missing_inputs(self) -> dict[str, str]:
        """External files the spec names that do not exist: dotted field → path."""
        paths = {"response.efficiency.file": self.efficiency.get("path")}
        return {k: paths[k] for k, sha in self.input_files.items() if sha is None}

    def hash(self) -> str:
        """sha256 of the canonical spec."""
        return hashlib.sha256(self.canonical_json().encode()).hexdigest()

    def assumed_values(self) -> dict[str, str]:
        """Sources tagged [assumed]: the values a user may want to revisit."""
        return {k: v for k, v in self.raw.get("sources", {}).items() if "[assumed]" in v}


def shipped_spec_names() -> list[str]:
    """Names of the detector specs shipped with cevnsfast."""
    return sorted(p.stem for p in SHIPPED_SPEC_DIR.glob("*.toml"))


def spec_path(name_or_path: str | Path) -> Path:
    """A shipped spec by name, or a spec file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml":
        if not path.is_file():
            raise FileNotFoundError(f"detector spec file not found: {path}")
        return path
    shipped = SHIPPED_SPEC_DIR / f"{name_or_path}.toml"
    if not shipped.is_file():
        raise ValueError(
            f"unknown detector {str(name_or_path)!r}; shipped detectors: "
            f"{', '.join(shipped_spec_names())} (or pass the path of a .toml spec)"
        )
    return shipped


def load_spec(name_or_path: str | Path, overrides: dict[str, Any] | None = None) -> DetectorSpec:
    """Load and validate a spec; ``overrides`` maps dotted paths to replacement values."""
    path = spec_path(name_or_path)
    text = None
    try:
        text = path.read_bytes().decode("utf-8")
        raw = tomllib.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        kind = "is not UTF-8 text" if text is None else "is not valid TOML"
        raise SpecError(path.stem, "(file)", f"{kind}: {err}", source=path) from None
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value)
    return validate_spec(raw, default_name=path.stem, source=path, text=text)


def _set_dotted(raw: dict, dotted: str, value: Any) -> None:
    if dotted.startswith("sources."):  # citation keys are themselves dotted field paths
        raw.setdefault("sources", {})[dotted.removeprefix("sources.")] = value
        return
    *parents, leaf = dotted.split(".")
    node = raw
    for key in parents:
        node = node.setdefault(key, {})
    node[leaf] = value


class _Reader:
    """Typed access to the raw TOML with errors that name the file, line, field and range."""

    def __init__(self, spec_name: str, raw: dict, source: Path | None, text: str | None):
        self.spec_name = spec_name
        self.raw = raw
        self.source = source
        self.lines = (text or "").splitlines()

    def fail(self, path: str, problem: str) -> SpecError:
        return SpecError(self.spec_name, path, problem, self.source, self.line_of(path))

    def line_of(self, dotted: str) -> int | None:
        """1-based line of a dotted field in the TOML text: its ``key =`` line, else the
        header of its table or the closest enclosing one (a missing key); a cheap scan, None
        when nothing matches (e.g. an override)."""
        dotted = re.sub(r"\[\d+\]$", "", dotted)
        table, headers = "", {}
        for number, line in enumerate(self.lines, start=1):
            stripped = line.strip()
            if match := re.fullmatch(r"\[([^\[\]]+)\]\s*(#.*)?", stripped):
                table = match.group(1).strip()
                headers.setdefault(table, number)
                continue
            key = re.match(r'"?([^"=\s]+)"?\s*=', stripped)
            if key and (f"{table}.{key.group(1)}" if table else key.group(1)) == dotted:
                return number
        parts = dotted.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in headers:
                return headers[".".join(parts[:end])]
        return None

    def get(self, path: str, default: Any = ...) -> Any:
        node: Any = self.raw
        for key in path.split("."):
            if not isinstance(node, dict) or key not in node:
                if default is not ...:
                    return default
                raise self.fail(path, "is missing")
            node = node[key]
        return node

    def number(
        self,
        path: str,
        lo: float = -math.inf,
        hi: float = math.inf,
        *,
        lo_open: bool = False,
        default: Any = ...,
    ) -> float:
        value = self.get(path, default)
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise self.fail(path, f"must be a finite number, got {value!r}")
        below = value <= lo if lo_open else value < lo
        if below or value > hi:
            bracket = "(" if lo_open else "["
            raise self.fail(path, f"= {value!r} is outside the allowed range {bracket}{lo}, {hi}]")
        return float(value)

    def choice(self, path: str, allowed: tuple[str, ...], default: Any = ...) -> str:
        value = self.get(path, default)
        if value not in allowed:
            raise self.fail(path, f"= {value!r} must be one of {', '.join(allowed)}")
        return value

    def integer(self, path: str, lo: int, hi: int, default: Any = ...) -> int:
        value = self.get(path, default)
        if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
            raise self.fail(path, f"= {value!r} must be an integer in [{lo}, {hi}]")
        return value

    def known_keys(self, path: str, allowed: tuple[str, ...]) -> None:
        """Reject keys of the table at ``path`` outside ``allowed`` (misspellings, keys of
        another model), suggesting the closest allowed key."""
        node = self.get(path) if path else self.raw
        if not isinstance(node, dict):
            raise self.fail(path, f"must be a table, got {node!r}")
        for key in node:
            if key not in allowed:
                close = difflib.get_close_matches(key, allowed, n=1)
                hint = f"did you mean '{close[0]}'? " if close else ""
                dotted = f"{path}.{key}" if path else key
                raise self.fail(
                    dotted, f"is not a known field; {hint}allowed: {', '.join(allowed)}"
                )

    def numbers(self, path: str, length: int | None = None) -> tuple[float, ...]:
        value = self.get(path)
        if not isinstance(value, list) or (length is not None and len(value) != length):
            need = f"{length} numbers" if length else "a list of numbers"
            raise self.fail(path, f"must be {need}, got {value!r}")
        for i, v in enumerate(value):
            if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v):
                raise self.fail(f"{path}[{i}]", f"must be a finite number, got {v!r}")
        return tuple(float(v) for v in value)


def validate_spec(
    raw: dict,
    default_name: str = "detector",
    source: Path | None = None,
    text: str | None = None,
) -> DetectorSpec:
    """Check every field and build a ``DetectorSpec`` (see module docstring). ``source`` and
    ``text`` (the file and its TOML) let errors name the file and line."""
    raw = copy.deepcopy(raw)
    name = raw.get("name", default_name)
    r = _Reader(str(name), raw, source, text)
    if not isinstance(name, str) or not NAME_PATTERN.fullmatch(name):
        raise r.fail(
            "name",
            f"= {name!r} must start with a letter or digit and contain only letters, digits, "
            "'_' and '-' (it names table files)",
        )
    _check_known_keys(r)

    elements = r.get("target.formula")
    if not isinstance(elements, dict) or not elements:
        raise r.fail("target.formula", "must map element symbols to counts, e.g. {Cs = 1, I = 1}")
    for element, count in elements.items():
        if element not in NATURAL_ABUNDANCE:
            raise r.fail(
                f"target.formula.{element}",
                f"names an unknown element; known: {', '.join(sorted(NATURAL_ABUNDANCE))}",
            )
        if not isinstance(count, int) or count < 1:
            raise r.fail(f"target.formula.{element}", f"= {count!r} must be an integer ≥ 1")
    detected = tuple(r.get("target.detected_elements", list(elements)))
    for element in detected:
        if element not in elements:
            raise r.fail("target.detected_elements", f"lists {element!r}, not in target.formula")
    isotopes = {el: dict(NATURAL_ABUNDANCE[el]) for el in elements}
    for element, fractions in r.get("target.isotopes", {}).items():
        if element not in elements:
            raise r.fail(f"target.isotopes.{element}", "is not an element of target.formula")
        unknown = set(fractions) - set(NATURAL_ABUNDANCE[element])
        if unknown:
            raise r.fail(
                f"target.isotopes.{element}",
                f"names unknown isotopes {sorted(unknown)}; "
                f"known: {sorted(NATURAL_ABUNDANCE[element])}",
            )
        for iso in fractions:
            r.number(f"target.isotopes.{element}.{iso}", 0.0, 1.0)
        if abs(sum(fractions.values()) - 1.0) > 1e-6:
            raise r.fail(f"target.isotopes.{element}", "fractions must sum to 1")
        isotopes[element] = dict(fractions)

    observable = r.choice("response.observable", OBSERVABLES)
    quenching = _quenching(r, observable)
    light_yield = None
    if observable == "pe":
        light_yield = r.number("response.light_yield_pe_per_keVee", 0.0, 1e4, lo_open=True)
    smearing = _smearing(r)
    efficiency = _efficiency(r)
    edges = _bin_edges(r)

    spec = DetectorSpec(
        name=name,
        description=str(raw.get("description", "")),
        elements=dict(elements),
        detected_elements=detected,
        isotopes=isotopes,
        mass_kg=r.number("target.mass_kg", 0.0, 1e7, lo_open=True),
        pot=r.number("exposure.pot", 0.0, 1e30, lo_open=True),
        nu_per_flavour_per_pot=r.number("exposure.nu_per_flavour_per_pot", 0.0, 10.0, lo_open=True),
        distance_m=r.number("exposure.distance_m", 0.0, 1e5, lo_open=True),
        observable=observable,
        quenching=quenching,
        light_yield_pe_per_kev_ee=light_yield,
        smearing=smearing,
        efficiency=efficiency,
        bin_edges=edges,
        physics=_physics(r),
        raw=raw,
    )
    spec = _with_timing_and_nuisances(r, spec)
    if efficiency["model"] == "curve_file":
        spec = dataclasses.replace(
            spec, input_files={"response.efficiency.file": efficiency["sha256"]}
        )
    _check_background_and_statistics(r)
    _check_sources(r)
    if not spec.missing_inputs():  # the threshold check needs the curve; a build reports it
        _check_threshold(r, spec)
    return spec


def _with_timing_and_nuisances(r: _Reader, spec: DetectorSpec) -> DetectorSpec:
    """Optional arrival-time binning and shape-nuisance grids (CsI 2021, arXiv:2211.11905)."""
    timing = None
    if "timing" in r.raw:
        p = "timing"
        edges = r.numbers(f"{p}.edges_us")
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise r.fail(f"{p}.edges_us", "must be at least two strictly increasing times (µs)")
        timing = {
            "edges_us": edges,
            "pulse_mean_us": r.number(f"{p}.pulse_mean_us", -10.0, 10.0),
            "pulse_sigma_us": r.number(f"{p}.pulse_sigma_us", 0.0, 10.0, lo_open=True),
            "efficiency_onset_us": r.number(f"{p}.efficiency_onset_us", -10.0, 100.0),
            "efficiency_decay_per_us": r.number(f"{p}.efficiency_decay_per_us", 0.0, 100.0),
        }
    nuisances = {}
    for name in r.raw.get("nuisances", {}):
        if name not in NUISANCE_AXES:
            known = sorted(NUISANCE_AXES)
            raise r.fail(f"nuisances.{name}", f"is not a known axis; known: {known}")
        (lo, hi), nominal = NUISANCE_AXES[name]
        values = r.numbers(f"nuisances.{name}")
        if len(values) < 3 or any(b <= a for a, b in zip(values, values[1:], strict=False)):
            raise r.fail(f"nuisances.{name}", "must be ≥ 3 strictly increasing grid values")
        if nominal not in values or values[0] < lo or values[-1] > hi:
            raise r.fail(
                f"nuisances.{name}",
                f"must lie in [{lo}, {hi}] and contain the nominal value {nominal}",
            )
        nuisances[name] = values
    if "time_shift_us" in nuisances and timing is None:
        raise r.fail("nuisances.time_shift_us", "needs a [timing] table")
    if "efficiency_sigma" in nuisances and not spec.efficiency.get("variants"):
        raise r.fail(
            "nuisances.efficiency_sigma",
            "needs response.efficiency.plus1sigma and .minus1sigma coefficient tables",
        )
    return dataclasses.replace(spec, timing=timing, nuisances=nuisances)


def _physics(r: _Reader) -> dict[str, Any]:
    """Weak mixing angle, SM weak-charge mode (``tree`` by default or ``radiative``:
    ``physics.cross_sections.WEAK_CHARGE_MODES``) and form factor (with optional parameter
    overrides, e.g. the Klein–Nystrand ``r0_fm`` and ``ak_fm``, whose defaults 1.23 and 0.7 fm
    are [assumed])."""
    name = r.choice("physics.form_factor", tuple(FORM_FACTOR_PARAMS), default="klein_nystrand")
    params = {}
    for key in r.get("physics.form_factor_params", {}):
        if key not in FORM_FACTOR_PARAMS[name]:
            allowed = ", ".join(FORM_FACTOR_PARAMS[name]) or "none"
            raise r.fail(
                f"physics.form_factor_params.{key}",
                f"is not a parameter of {name!r}; allowed: {allowed}",
            )
        params[key] = r.number(f"physics.form_factor_params.{key}", 0.0, 20.0, lo_open=True)
    return {
        "sin2_theta_w": r.number("physics.sin2_theta_w", 0.2, 0.26, default=0.23857),
        "weak_charge": r.choice("physics.weak_charge", WEAK_CHARGE_MODES, default="tree"),
        "form_factor": name,
        "form_factor_params": params,
    }


def _quenching(r: _Reader, observable: str) -> dict[str, Any]:
    model = r.choice("response.quenching.model", QUENCHING_MODELS)
    if (model == "none") != (observable == "keVnr"):
        raise r.fail(
            "response.quenching.model",
            f"= {model!r} does not fit observable {observable!r}: use 'none' exactly when the "
            "observable is keVnr",
        )
    q = {"model": model}
    p = "response.quenching"
    if model == "constant":
        q["qf"] = r.number(f"{p}.qf", 0.0, 1.0, lo_open=True)
    elif model == "linear_qf":
        q["a"] = r.number(f"{p}.a", 0.0, 1.0, lo_open=True)
        q["b_per_keVnr"] = r.number(f"{p}.b_per_keVnr", -0.1, 0.1)
    elif model == "piecewise_linear_qf":
        q["a"] = r.number(f"{p}.a", 0.0, 1.0, lo_open=True)
        q["b_per_keVnr"] = r.number(f"{p}.b_per_keVnr", -0.1, 0.1)
        q["t_break_keVnr"] = r.number(f"{p}.t_break_keVnr", 0.0, 1e4, lo_open=True)
        q["qf_above"] = r.number(f"{p}.qf_above", 0.0, 1.0, lo_open=True)
    elif model == "polynomial_mev":
        q["coefficients"] = r.numbers(f"{p}.coefficients")
        if q["coefficients"][0] <= 0:
            raise r.fail(f"{p}.coefficients[0]", "(the linear term) must be > 0")
    return q


def _smearing(r: _Reader) -> dict[str, Any]:
    model = r.choice("response.smearing.model", SMEARING_MODELS)
    s = {"model": model}
    p = "response.smearing"
    if model == "gamma_csi":
        if r.get("response.observable") != "pe":
            raise r.fail(f"{p}.model", "gamma_csi smears photoelectrons: observable must be 'pe'")
        s["a_keVee"] = r.number(f"{p}.a_keVee", 0.0, 10.0, lo_open=True)
        s["b_per_keVee"] = r.number(f"{p}.b_per_keVee", 0.0, 1e3, lo_open=True)
    elif model == "gaussian":
        # σ(μ) = sqrt(s0² + s1² μ + (s2 μ)²), μ and σ in observable units
        s["s0"] = r.number(f"{p}.s0", 0.0, 1e4)
        s["s1"] = r.number(f"{p}.s1", 0.0, 1e4)
        s["s2"] = r.number(f"{p}.s2", 0.0, 10.0)
        if s["s0"] == s["s1"] == s["s2"] == 0.0:
            raise r.fail(p, "gaussian smearing needs s0, s1 or s2 > 0 (or model = 'none')")
    return s


def _efficiency(r: _Reader) -> dict[str, Any]:
    model = r.choice("response.efficiency.model", EFFICIENCY_MODELS)
    e = {"model": model}
    p = "response.efficiency"
    if model == "constant":
        e["value"] = r.number(f"{p}.value", 0.0, 1.0, lo_open=True)
    elif model == "curve_file":
        e.update(_curve_file(r, p))
    else:
        for key in ("a", "b", "c", "d"):
            e[key] = r.number(f"{p}.{key}")
        e["shift"] = r.number(f"{p}.shift", -1e4, 1e4, default=0.0)
        variants = [v for v in ("plus1sigma", "minus1sigma") if v in r.get(p)]
        if variants:
            if len(variants) != 2:
                raise r.fail(p, "needs both plus1sigma and minus1sigma, or neither")
            e["variants"] = {v: {k: r.number(f"{p}.{v}.{k}") for k in "abcd"} for v in variants}
    e["zero_below"] = r.number(f"{p}.zero_below", 0.0, 1e6, default=0.0)
    # the end of the analysis region (e.g. LAr 2020: 40 keVee, where its efficiency file ends)
    if "zero_above" in r.get(p):
        e["zero_above"] = r.number(f"{p}.zero_above", e["zero_below"], 1e6, lo_open=True)
    return e


def _curve_file(r: _Reader, p: str) -> dict[str, Any]:
    """A tabulated efficiency A(x) read from a file in the data directory (e.g. the LAr 2020
    release's ``CENNS10AnlAEfficiency.txt``): whitespace-separated columns, ``#`` comments;
    ``columns = [x, efficiency]`` picks the two used (0-based), x in observable units.

    ``file`` is relative to the data directory (``$CEVNSFAST_DATA_DIR`` / ``--data-dir``) or
    absolute. The file is hashed here (its sha256 enters the provenance hash) but read only
    when the response needs it, so a spec whose data are absent still loads and lists.
    """
    name = r.get(f"{p}.file")
    if not isinstance(name, str) or not name.strip():
        raise r.fail(
            f"{p}.file", f"must be a file name relative to the data directory, got {name!r}"
        )
    columns = r.get(f"{p}.columns", [0, 1])
    if (
        not isinstance(columns, list)
        or len(columns) != 2
        or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in columns)
        or columns[0] == columns[1]
    ):
        raise r.fail(
            f"{p}.columns",
            f"must be two distinct 0-based column indices [x, efficiency], got {columns!r}",
        )
    path = Path(name).expanduser()
    if not path.is_absolute():
        path = data_dir() / path
    sha = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return {"file": name, "columns": tuple(columns), "path": str(path), "sha256": sha}


def missing_input_error(spec: DetectorSpec, dotted: str) -> SpecInputMissing:
    """The error for an absent external file: names the path and the data-dir settings."""
    path = spec.missing_inputs().get(dotted) or spec.efficiency.get("path")
    return SpecInputMissing(
        spec.name,
        dotted,
        f"names {path}, which does not exist. Paths are relative to the data directory "
        f"(now {data_dir()}); point cevnsfast at the directory holding the COHERENT releases "
        f"with the environment variable {DATA_DIR_ENV} or the CLI option --data-dir",
    )


def _bin_edges(r: _Reader) -> tuple[float, ...]:
    p = "binning"
    if "edges" in r.get(p):
        edges = r.numbers(f"{p}.edges")
    else:
        start = r.number(f"{p}.start", 0.0, 1e6)
        width = r.number(f"{p}.width", 0.0, 1e6, lo_open=True)
        count = int(r.number(f"{p}.count", 1, 10000))
        edges = tuple(start + i * width for i in range(count + 1))
    if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
        raise r.fail(f"{p}.edges", "must be at least two strictly increasing numbers")
    if edges[0] < 0:
        raise r.fail(f"{p}.edges[0]", f"= {edges[0]} must be ≥ 0")
    return edges


def _check_known_keys(r: _Reader) -> None:
    """Every table holds only the keys cevnsfast reads (``KNOWN_KEYS``, ``MODEL_KEYS``)."""
    for path, allowed in KNOWN_KEYS.items():
        if not path or path in r.raw:
            r.known_keys(path, allowed)
    for path, models in MODEL_KEYS.items():
        node = r.get(path, None)
        if isinstance(node, dict) and node.get("model") in models:
            r.known_keys(path, ("model", *models[node["model"]]))
    for variant in ("plus1sigma", "minus1sigma"):
        if isinstance(r.get(f"response.efficiency.{variant}", None), dict):
            r.known_keys(f"response.efficiency.{variant}", ("a", "b", "c", "d"))


def _check_background_and_statistics(r: _Reader) -> None:
    """The Asimov χ² inputs (``likelihood.asimov``): background levels and live time ≥ 0, a
    beam duty-factor reduction > 0, normalisation widths σ ≥ 0 (0 fixes the nuisance)."""
    if "background" in r.raw:
        p = "background"
        r.number(f"{p}.ckkd", 0.0, 1e6)
        r.integer(f"{p}.first_bins", 0, 10_000, default=0)  # more than n_bins: all bins
        r.number(f"{p}.first_bins_ckkd", 0.0, 1e6, default=0.0)
        r.number(f"{p}.live_days", 0.0, 1e5)
        r.number(f"{p}.reduction", 0.0, 1e9, lo_open=True)
    if "background" in r.raw and "statistics" not in r.raw:
        raise r.fail(
            "statistics",
            "is missing: the Asimov χ² of a [background] needs sigma_alpha and sigma_beta",
        )
    if "statistics" in r.raw:
        for key in KNOWN_KEYS["statistics"]:
            r.number(f"statistics.{key}", 0.0, 10.0)


def _numeric_leaves(node: Any, prefix: str = ""):
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _numeric_leaves(value, f"{prefix}.{key}" if prefix else key)
    elif isinstance(node, list) and node and all(isinstance(v, int | float) for v in node):
        yield prefix
    elif isinstance(node, int | float) and not isinstance(node, bool):
        yield prefix


def _all_paths(node: dict, prefix: str = ""):
    """Every dotted path of a nested table: tables and leaves."""
    for key, value in node.items():
        path = f"{prefix}.{key}" if prefix else key
        yield path
        if isinstance(value, dict):
            yield from _all_paths(value, path)


def _check_sources(r: _Reader) -> None:
    sources = r.raw.get("sources", {})
    if not isinstance(sources, dict):
        raise r.fail("sources", "must be a table mapping dotted field paths to citations")
    fields = {k: v for k, v in r.raw.items() if k != "sources"}
    known = set(_all_paths(fields))
    for key in sources:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise r.fail(f"sources.{key}", f"cites a field the spec does not have{hint}")
    for leaf in _numeric_leaves(fields):
        if leaf.startswith("target.formula."):  # stoichiometry needs no citation
            continue
        parts = leaf.split(".")
        if not any(".".join(parts[:i]) in sources for i in range(1, len(parts) + 1)):
            raise r.fail(
                "sources",
                f'has no citation for \'{leaf}\' (add sources."{leaf}" = "paper, eq./table")',
            )


def _check_threshold(r: _Reader, spec: DetectorSpec) -> None:
    """Reject a spec whose lowest bin edge lies above every detected nucleus' largest recoil."""
    from cevnsfast.constants import E_MAX_DELAYED_MEV
    from cevnsfast.detectors.response import Response  # local: response imports this module
    from cevnsfast.nuclei import isotope
    from cevnsfast.physics.cross_sections import t_max_mev

    response = Response(spec)
    masses = [isotope(iso).mass_mev for el in spec.detected_elements for iso in spec.isotopes[el]]
    t_max_kev = 1e3 * float(t_max_mev(E_MAX_DELAYED_MEV, min(masses)))
    largest_obs = float(response.mean_observable(t_max_kev))
    if response.threshold_observable() >= largest_obs and spec.smearing["model"] == "none":
        raise r.fail(
            "binning.edges[0]",
            f"(threshold {response.threshold_observable():g} {spec.observable}) is above the "
            f"largest signal, {largest_obs:.4g} {spec.observable} from a {t_max_kev:.4g} keVnr "
            "recoil (the SNS end point m_μ/2 on the lightest detected nucleus); allowed range: "
            f"[0, {largest_obs:.4g})",
        )
    if spec.bin_edges[0] >= largest_obs + 10.0 * response.width_at(largest_obs):
        raise r.fail(
            "binning.edges[0]",
            f"= {spec.bin_edges[0]:g} {spec.observable} lies above any smeared signal "
            f"(largest mean {largest_obs:.4g} {spec.observable}); allowed range: "
            f"[0, {largest_obs:.4g})",
        )
