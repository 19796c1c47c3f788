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
