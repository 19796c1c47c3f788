"""plots.save: the PNG cropped from one render equals matplotlib's own tight PNG."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

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


@pytest.mark.parametrize("text_x", [0.8, 1.05], ids=["inside", "beyond the canvas"])
def test_png_matches_a_tight_savefig(tmp_path, text_x):
    png, pdf = plots.save(_figure(text_x), tmp_path / "ours")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    reference = tmp_path / "reference.png"
    _figure(text_x).savefig(reference, dpi=plots.DPI, bbox_inches="tight")
    ours, theirs = plt.imread(png), plt.imread(reference)
    assert abs(ours.shape[0] - theirs.shape[0]) <= 1 and abs(ours.shape[1] - theirs.shape[1]) <= 1
    rows, cols = min(ours.shape[0], theirs.shape[0]), min(ours.shape[1], theirs.shape[1])
    # the crop may sit up to half a pixel from matplotlib's sub-pixel origin: anti-aliased
    # edges differ, the picture does not (a 3 px shift gives 0.035)
    assert np.mean(np.abs(ours[:rows, :cols] - theirs[:rows, :cols])) < 0.005
