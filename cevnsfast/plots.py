"""matplotlib figures: data with fitted components, Δχ² profiles. PNG and PDF."""

import math
import re
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.colors  # noqa: E402
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.ticker import LogFormatterSciNotation  # noqa: E402
from matplotlib.transforms import Bbox  # noqa: E402

COLOURS = {
    "CEvNS": "tab:red",
    "BRN": "tab:orange",
    "BRN prompt": "tab:orange",
    "BRN delayed": "tab:brown",
    "NIN": "tab:olive",
    "SSB": "tab:gray",
    "SS": "tab:gray",
}


RASTER_MIN_VERTICES = 20_000
"""Artists with more vertices than this (dense filled contours, meshes) are rasterised in the
PDF (at the PNG's ``DPI``): a vector file of 10⁵ tiny polygons is slow to write and to view."""


def _rasterise_dense(fig) -> None:
    for ax in fig.axes:
        for artist in [*ax.collections, *ax.images]:
            paths = artist.get_paths() if hasattr(artist, "get_paths") else []
            if not paths or sum(len(p.vertices) for p in paths) > RASTER_MIN_VERTICES:
                artist.set_rasterized(True)


DPI = 150
"""Resolution of the PNG files (and of the PDF's rasterised layers)."""

_MATHTEXT_POWER = re.compile(r"^\$\\mathdefault\{(-?)(?:([0-9.]+)\\times)?(\d+)\^\{(-?\d+)\}\}\$$")
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


class UnicodeLogFormatter(LogFormatterSciNotation):
    """matplotlib's log-axis tick labels (the same ticks labelled) as plain text, 10⁻² and
    2×10⁻², instead of mathtext: every renderer has its own mathtext parser and cache, so
    each figure and each file parsed its labels afresh with pyparsing (~13 ms a label, ~3 s
    of CPU in ``cevnsfast reproduce``). Labels of any other form stay mathtext."""

    def __call__(self, x, pos=None) -> str:
        label = super().__call__(x, pos)
        match = _MATHTEXT_POWER.match(label)
        if match is None:
            return label
        sign, mantissa, base, exponent = match.groups()
        return (
            ("\N{MINUS SIGN}" if sign else "")
            + (f"{mantissa}×" if mantissa else "")
            + base
            + exponent.translate(_SUPERSCRIPT)
        )


def log_scale(ax, axis: str) -> None:
    """Log scale on ``axis`` ("x" or "y") of ``ax`` with ``UnicodeLogFormatter`` labels."""
    getattr(ax, f"set_{axis}scale")("log")
    target = getattr(ax, f"{axis}axis")
    target.set_major_formatter(UnicodeLogFormatter())
    target.set_minor_formatter(UnicodeLogFormatter(labelOnlyBase=False))


def save(fig, path: Path) -> list[Path]:
    """Write ``path`` with .png and .pdf suffixes; returns both paths.

    Two renders in all: one Agg render at the PNG's resolution lays the figure out, gives the
    tight bounding box and is the PNG (cut from the canvas), the second writes the PDF.
    (``bbox_inches="tight"`` costs an extra full draw per file.) When an artist reaches
    beyond the canvas, the PNG is rendered again on the tight box.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    png, pdf = path.with_suffix(".png"), path.with_suffix(".pdf")
    _rasterise_dense(fig)
    fig.set_dpi(DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    tight = fig.get_tightbbox(canvas.get_renderer())
    box = pixel_box(tight)
    if (
        tight.x0 >= 0
        and tight.y0 >= 0
        and tight.x1 <= fig.bbox_inches.x1
        and (tight.y1 <= fig.bbox_inches.y1)
    ):
        pixels = _cut(np.asarray(canvas.buffer_rgba()), box, fig.get_facecolor())
        matplotlib.image.imsave(png, pixels, format="png", dpi=DPI)
    else:
        fig.savefig(png, dpi=DPI, bbox_inches=box)
    fig.savefig(pdf, dpi=DPI, bbox_inches=box)
    plt.close(fig)
    return [png, pdf]


def pixel_box(tight: Bbox) -> Bbox:
    """A figure's tight box (inches) padded by ``savefig.pad_inches``, its edges moved out
    onto whole pixels at ``DPI`` (the top and right by half a pixel more, so that every
    rounding of its size in pixels gives the same count): on this box ``savefig`` renders
    pixel for pixel what ``_cut`` takes from the canvas."""
    b = tight.padded(matplotlib.rcParams["savefig.pad_inches"])
    return Bbox.from_extents(
        math.floor(b.x0 * DPI) / DPI,
        math.floor(b.y0 * DPI) / DPI,
        (math.ceil(b.x1 * DPI) + 0.5) / DPI,
        (math.ceil(b.y1 * DPI) + 0.5) / DPI,
    )


def _cut(rgba: np.ndarray, box: Bbox, background) -> np.ndarray:
    """The pixels of ``box`` (``pixel_box``) in a canvas rendered at ``DPI`` (rows from the
    top), placed as ``savefig(bbox_inches=box)`` places them; where the box leaves the canvas
    (the padding around a figure drawn to its edge), the figure's ``background`` colour, as
    ``savefig`` paints it."""
    height, width = rgba.shape[:2]
    out = np.empty((int(box.height * DPI), int(box.width * DPI), 4), np.uint8)
    out[...] = np.round(np.asarray(matplotlib.colors.to_rgba(background)) * 255)
    x0 = round(box.x0 * DPI)
    top = round(height - out.shape[0] - box.y0 * DPI)
    rows = slice(max(top, 0), min(top + out.shape[0], height))
    cols = slice(max(x0, 0), min(x0 + out.shape[1], width))
    out[rows.start - top : rows.stop - top, cols.start - x0 : cols.stop - x0] = rgba[rows, cols]
    return out


def fit_projections(
    components: dict[str, np.ndarray], axes: Sequence[tuple[np.ndarray, str]], title: str = ""
) -> plt.Figure:
    """Stacked fitted components and data projected on each analysis axis (one panel per
    axis: e.g. PE and time for CsI 2021; energy, F90 and time for LAr 2020).

    ``components`` maps a label to counts on the analysis grid, ``"data"`` the observed
    counts; ``axes`` gives each grid axis' (edges, label with unit).
    """
    fig, panels = plt.subplots(1, len(axes), figsize=(5.5 * len(axes), 4.2), squeeze=False)
    stack = [k for k in components if k != "data"][::-1]
    for d, (ax, (edges, label)) in enumerate(zip(panels[0], axes, strict=True)):
        other = tuple(i for i in range(len(axes)) if i != d)
        edges = np.asarray(edges, float)
        widths = np.diff(edges)
        bottom = np.zeros(len(edges) - 1)
        for i, name in enumerate(stack):
            proj = components[name].sum(axis=other)
            ax.bar(
                edges[:-1],
                proj / widths,
                widths,
                bottom=bottom / widths,
                align="edge",
                color=COLOURS.get(name, f"C{i}"),
                alpha=0.75,
                label=f"{name} ({proj.sum():.0f})",
            )
            bottom += proj
        data = components["data"].sum(axis=other)
        centres = 0.5 * (edges[1:] + edges[:-1])
        ax.errorbar(
            centres,
            data / widths,
            np.sqrt(data) / widths,
            fmt="ko",
            ms=4,
            label=f"data ({data.sum():.0f})",
        )
        ax.set_xlabel(label)
        ax.set_ylabel("events / bin width")
        ax.set_xlim(edges[0], edges[-1])
    panels[0, 0].legend(fontsize=8)
    fig.suptitle(title)
    return fig


def profiles(
    curves: Sequence[tuple[str, np.ndarray, np.ndarray, dict]], xlabel: str, ylim: float = 12.0
) -> plt.Figure:
    """Δχ² curves with the 1σ and 90 % C.L. (1 dof) levels; each curve: (label, x, Δχ², style)."""
    fig, ax = plt.subplots(figsize=(5.2, 4))
    for label, x, dchi2, style in curves:
        ax.plot(x, dchi2, label=label, **style)
    for level, text in ((1.0, "1σ"), (2.706, "90 % C.L.")):
        ax.axhline(level, color="k", lw=0.6, ls=":")
        ax.text(ax.get_xlim()[1], level, f" {text}", va="center", fontsize=8)
    ax.set_ylim(0, ylim)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("Δχ²")
    ax.legend(fontsize=8)
    return fig
