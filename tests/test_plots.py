"""plots.save: two renders per figure, and the PNG cut from the first is pixel for pixel the
one matplotlib renders on the same box."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from cevnsfast import plots


def _figure(text_x: float):
    fig, ax = plt.subplots(figsize=(4, 3))
    x = np.logspace(-3, 2, 50)
    ax.plot(x, np.sqrt(x), label="√x")
    ax.set_xscale("log")
    ax.set_xlabel("$m_{Z'}$ [MeV]")
    ax.set_title("a title")
    ax.legend()
    fig.text(text_x, 0.5, "side note")  # beyond the canvas when text_x > 1
    return fig


@pytest.mark.parametrize("text_x", [0.8, 0.97, 1.05], ids=["inside", "edge", "beyond"])
def test_png_equals_savefig_on_the_same_box(tmp_path, text_x):
    png, pdf = plots.save(_figure(text_x), tmp_path / "ours")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    fig = _figure(text_x)
    fig.set_dpi(plots.DPI)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    box = plots.pixel_box(fig.get_tightbbox(canvas.get_renderer()))
    fig.savefig(tmp_path / "same_box.png", dpi=plots.DPI, bbox_inches=box)
    _figure(text_x).savefig(tmp_path / "tight.png", dpi=plots.DPI, bbox_inches="tight")
    ours = plt.imread(png)
    np.testing.assert_array_equal(ours, plt.imread(tmp_path / "same_box.png"))
    tight = plt.imread(tmp_path / "tight.png")  # the box differs by < 1 px on each edge
    assert np.all(np.abs(np.subtract(ours.shape, tight.shape)) <= 2)


def _tick_labels(fig, ax):
    FigureCanvasAgg(fig).draw()
    return [
        (t.get_loc(), t.label1.get_text())
        for axis in (ax.xaxis, ax.yaxis)
        for t in axis.get_major_ticks() + axis.get_minor_ticks()
    ]


@pytest.mark.parametrize("span", [(2e-3, 0.05), (1e-6, 1e3), (0.3, 40.0)])
def test_log_tick_labels_are_plain_text_on_the_same_ticks(span):
    """log_scale labels the ticks matplotlib labels, with plain-text powers (no mathtext)
    whose value is the tick's."""
    labels = []
    for ours in (True, False):
        fig, ax = plt.subplots()
        ax.plot(span, span)
        for axis in "xy":
            plots.log_scale(ax, axis) if ours else getattr(ax, f"set_{axis}scale")("log")
        labels.append(_tick_labels(fig, ax))
        plt.close(fig)
    back = str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹−", "-0123456789-")
    assert len(labels[0]) == len(labels[1]) > 6
    for (loc, text), (_, reference) in zip(*labels, strict=True):
        assert (text == "") == (reference == "")
        if text:
            assert "$" not in text
            mantissa, _, exponent = text.translate(back).rpartition("10")
            value = float(mantissa.rstrip("×") or 1) * 10.0 ** int(exponent)
            assert value == pytest.approx(loc, rel=1e-12)


@pytest.mark.parametrize("window", [None, (-0.3, 0.3, -0.3, 0.3), (-0.275, 0.33, -0.4, 0.1)])
def test_region_fill_draws_the_pixels_of_contourf(window):
    """draw_region fills the region's precomputed area (``contour_and_area_2d``): the same
    picture as matplotlib's contourf of Δχ² below the threshold, in the whole frame and in
    zooms onto the boundary (an inset's window), holes and grid-edge cuts included."""
    from cevnsfast.figures.regions import draw_region
    from cevnsfast.scan.intervals import contour_and_area_2d
    from cevnsfast.scan.results import Region2D

    x, y = np.linspace(-1, 1, 201), np.linspace(-1.1, 0.9, 161)
    xx, yy = np.meshgrid(x, y, indexing="ij")
    chi2 = 30 * ((xx - 0.3 * yy) ** 2 - 0.05) ** 2 / 0.01 + 3 * np.sin(7 * yy) ** 2
    lines, area = contour_and_area_2d(x, y, chi2, 4.61, min_chi2=0.0)
    region = Region2D("a", "b", x, y, chi2, 0.0, 4.61, 0.9, 2, [], area)
    assert len(lines) > 2  # several loops and grid-edge cuts
    pixels = []
    for draw in ("contourf", "area"):
        fig, ax = plt.subplots(figsize=(3, 3))
        if draw == "area":
            draw_region(ax, region, {"color": "tab:red", "fill": True})
        else:
            ax.contourf(x, y, chi2.T, levels=[-1.0, 4.61], colors=["tab:red"], alpha=0.55)
        x0, x1, y0, y1 = window or (-1.0, 1.0, -1.1, 0.9)
        ax.set_xlim(x0, x1)
        ax.set_ylim(y0, y1)
        ax.set_axis_off()
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        pixels.append(np.asarray(canvas.buffer_rgba()).copy())
        plt.close(fig)
    assert 0.05 < np.mean(pixels[0][..., 0] < 250) < 0.95  # a boundary crosses the view
    np.testing.assert_array_equal(pixels[0], pixels[1])
