"""What a scan is: its axes (linear or log), fixed and profiled couplings, chunking and
profiling settings; JSON-able so Dask workers and stores carry it (``ScanSpec.as_dict``)."""

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import product
from typing import Any

import numpy as np

from cevnsfast.scan import store as _store

DEFAULT_CHUNK_POINTS = 10_000
DEFAULT_PROFILE_RANGE = (-1.0, 1.0, 41)

# ---------------------------------------------------------------------------------------------
# Scan definition


@dataclass(frozen=True)
class Axis:
    """``n`` values of parameter ``name`` from ``lo`` to ``hi`` (inclusive), equally spaced
    (``scale="linear"``) or equally spaced in log (``"log"``, for masses and small couplings).

    ``name`` is a coupling (``eps_ee_uV``) or, in a scan of a model, one of the model's
    parameters; :class:`ScanSpec` checks it against the model.
    """

    name: str
    lo: float
    hi: float
    n: int
    scale: str = "linear"

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi) and self.lo < self.hi):
            raise ValueError(f"{self.name}: needs finite LO < HI, got {self.lo}:{self.hi}")
        if self.scale not in ("linear", "log"):
            raise ValueError(f"{self.name}: scale must be 'linear' or 'log', got {self.scale!r}")
        if self.scale == "log" and self.lo <= 0:
            raise ValueError(f"{self.name}: a log axis needs LO > 0, got {self.lo}")
        if isinstance(self.n, bool) or int(self.n) != self.n or self.n < 2:
            raise ValueError(f"{self.name}: needs at least 2 points, got {self.n}")
        object.__setattr__(self, "n", int(self.n))

    @property
    def values(self) -> np.ndarray:
        if self.scale == "log":
            return np.geomspace(self.lo, self.hi, self.n)
        return np.linspace(self.lo, self.hi, self.n)

    @property
    def step(self) -> float:
        """Grid spacing of a linear axis (profiled couplings are minimised on this scale)."""
        if self.scale == "log":
            raise ValueError(f"{self.name}: a log axis has no constant step")
        return (self.hi - self.lo) / (self.n - 1)

    def coordinate(self, value):
        """Where the grid is equally spaced: the value, or its logarithm on a log axis."""
        return np.log(value) if self.scale == "log" else np.asarray(value, dtype=float)

    def from_coordinate(self, u):
        return np.exp(u) if self.scale == "log" else np.asarray(u, dtype=float)

    @classmethod
    def parse(cls, text: str, default: tuple[float, float, int] | None = None) -> "Axis":
        """``NAME=LO:HI:N[:log]`` (or ``NAME`` alone when a ``default`` (LO, HI, N) is given)."""
        usage = (
            f"{text!r} is not NAME=LO:HI:N[:log] (e.g. eps_ee_uV=-0.5:0.5:101, g=1e-5:1e-3:61:log)"
        )
        name, sep, rest = text.partition("=")
        if not sep:
            if default is None:
                raise ValueError(usage)
            return cls(name.strip(), *default)
        parts = rest.split(":")
        if len(parts) not in (3, 4) or (len(parts) == 4 and parts[3] not in ("log", "linear")):
            raise ValueError(usage)
        try:
            lo, hi, n = float(parts[0]), float(parts[1]), int(parts[2])
        except ValueError:
            raise ValueError(f"{text!r}: LO and HI must be numbers and N an integer") from None
        return cls(name.strip(), lo, hi, n, parts[3] if len(parts) == 4 else "linear")

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "lo": self.lo, "hi": self.hi, "n": self.n, "scale": self.scale}

    def __str__(self) -> str:
        tail = ":log" if self.scale == "log" else ""
        return f"{self.name}={self.lo:g}:{self.hi:g}:{self.n}{tail}"


@dataclass(frozen=True)
class ProfileSettings:
    """How profiled couplings are minimised at each grid point (see :func:`profile_min`).

    ``candidates``: local minima of the coarse grid that are polished (the lowest ones);
    ``xtol``: final step relative to each profiled range; ``max_iter``: polish iterations;
    ``max_rows``: largest ``chi2_batch`` call, in points (bounds memory).
    """

    candidates: int = 2
    xtol: float = 1e-7
    max_iter: int = 60
    max_rows: int = 1 << 20

    def as_dict(self) -> dict[str, Any]:
        return {
            "candidates": self.candidates,
            "xtol": self.xtol,
            "max_iter": self.max_iter,
            "max_rows": self.max_rows,
        }


@dataclass(frozen=True)
class ScanSpec:
    """What to scan: experiments (``+``-joined names), grid axes, fixed and profiled couplings.

    ``model``: None scans NSI/GNI couplings (the default model); else a model or scenario of
    ``cevnsfast models``, whose parameters the axes, fixed and profiled names are.
    ``profiled`` axes give each profiled coupling's range and coarse-grid size. ``chunks`` is
    the chunk shape (points per axis); None picks :func:`default_chunks`.
    """

    experiments: str
    axes: tuple[Axis, ...]
    fixed: Mapping[str, float] = field(default_factory=dict)
    profiled: tuple[Axis, ...] = ()
    chunks: tuple[int, ...] | None = None
    profile: ProfileSettings = ProfileSettings()
    model: str | None = None

    def __post_init__(self) -> None:
        from cevnsfast.likelihood.registry import canonical_parameter

        def named(a: Axis) -> Axis:
            return replace(a, name=canonical_parameter(a.name, self.model))

        axes = tuple(named(a if isinstance(a, Axis) else Axis.parse(a)) for a in self.axes)
        prof = tuple(
            named(a if isinstance(a, Axis) else Axis.parse(a, DEFAULT_PROFILE_RANGE))
            for a in self.profiled
        )
        if any(a.scale == "log" for a in prof):
            raise ValueError("profiled parameters are minimised on a linear range: drop ':log'")
        fixed = {canonical_parameter(k, self.model): float(v) for k, v in dict(self.fixed).items()}
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "profiled", prof)
        object.__setattr__(self, "fixed", fixed)
        if not axes:
            raise ValueError("a scan needs at least one axis (NAME=LO:HI:N)")
        names = [a.name for a in axes] + list(fixed) + [a.name for a in prof]
        if len(set(names)) != len(names):
            dup = sorted({n for n in names if names.count(n) > 1})
            raise ValueError(f"couplings named twice (axis, --set or --profile): {dup}")
        chunks = self.chunks if self.chunks is not None else default_chunks(self.shape)
        chunks = tuple(int(c) for c in chunks)
        if len(chunks) != len(axes) or any(c < 1 for c in chunks):
            raise ValueError(f"chunks {chunks} must give a positive size for each of {len(axes)}")
        object.__setattr__(
            self, "chunks", tuple(min(c, a.n) for c, a in zip(chunks, axes, strict=True))
        )

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(a.n for a in self.axes)

    @property
    def axis_names(self) -> list[str]:
        return [a.name for a in self.axes]

    @property
    def coupling_names(self) -> list[str]:
        """Experiment columns: axes, then fixed, then profiled couplings."""
        return self.axis_names + list(self.fixed) + [a.name for a in self.profiled]

    @property
    def chunk_grid(self) -> tuple[int, ...]:
        return tuple(math.ceil(n / c) for n, c in zip(self.shape, self.chunks, strict=True))

    @property
    def n_points(self) -> int:
        return math.prod(self.shape)

    def as_dict(self) -> dict[str, Any]:
        """JSON-able form: stored in the result's attributes and sent to Dask workers."""
        return {
            "experiments": self.experiments,
            "axes": [a.as_dict() for a in self.axes],
            "fixed": dict(self.fixed),
            "profiled": [a.as_dict() for a in self.profiled],
            "chunks": list(self.chunks),
            "profile": self.profile.as_dict(),
            "model": self.model,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ScanSpec":
        return cls(
            experiments=d["experiments"],
            axes=tuple(Axis(**a) for a in d["axes"]),
            fixed=dict(d.get("fixed", {})),
            profiled=tuple(Axis(**a) for a in d.get("profiled", [])),
            chunks=tuple(d["chunks"]) if d.get("chunks") is not None else None,
            profile=ProfileSettings(**d.get("profile", {})),
            model=d.get("model"),
        )


def default_chunks(shape: Sequence[int], target: int = DEFAULT_CHUNK_POINTS) -> tuple[int, ...]:
    """Chunk shape of about ``target`` points, contiguous in C order, equal chunks per axis.

    The last axes are taken whole while they fit; the next axis gets what is left, rounded so
    its chunks have (nearly) equal size: 201×201 → (41, 201), 41⁴ → (1, 5, 41, 41).
    """
    chunks = [1] * len(shape)
    budget = max(1, int(target))
    for i in reversed(range(len(shape))):
        c = max(1, min(shape[i], budget))
        c = math.ceil(shape[i] / math.ceil(shape[i] / c))
        chunks[i] = c
        budget = max(1, budget // c)
    return tuple(chunks)


def chunk_indices(spec: ScanSpec) -> Iterator[tuple[int, ...]]:
    """Every chunk index, in C order."""
    return product(*(range(m) for m in spec.chunk_grid))


def chunk_slices(spec: ScanSpec, index: Sequence[int]) -> tuple[slice, ...]:
    return _store.chunk_slices(index, spec.chunks, spec.shape)
