"""Figures of the statistics layer: FC critical values beside Wilks, CLs, posteriors."""

from collections.abc import Sequence

import numpy as np

from cevnsfast.scan.intervals import contour_2d
from cevnsfast.stats.feldman_cousins import fc_intervals


def fc_profile_figure(
    values: np.ndarray,
    delta_chi2: np.ndarray,
    critical: np.ndarray,
    critical_error: np.ndarray,
    wilks: float,
    param: str,
    title: str,
    cl_label: str,
):
    """Δχ²(θ) of the data, the toy critical value c(θ) (±MC error) and the Wilks line."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    ax.plot(values, delta_chi2, color="k", label="Δχ² (data)")
    ax.plot(values, critical, color="tab:red", label=f"FC critical Δχ² ({cl_label})")
    ax.fill_between(
        values, critical - critical_error, critical + critical_error, color="tab:red", alpha=0.25
    )
    ax.axhline(wilks, color="tab:blue", ls="--", label=f"Wilks ({wilks:.2f})")
    for k, iv in enumerate(fc_intervals(values, delta_chi2, critical)):
        ax.axvspan(iv.lo, iv.hi, color="tab:red", alpha=0.08, label="FC set" if k == 0 else None)
    top = max(2.0 * wilks, float(np.nanmax(critical)) * 1.3)
    ax.set_ylim(0, top)
    ax.set_xlabel(param)
    ax.set_ylabel("Δχ²")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def fc_region_figure(
    x: np.ndarray,
    y: np.ndarray,
    delta_chi2: np.ndarray,
    critical: np.ndarray,
    wilks: float,
    names: Sequence[str],
    title: str,
):
    """2D: the FC region (Δχ² = c(θ)) and the Wilks region (Δχ² = χ²₂ quantile); the
    critical value as a colour map."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.6, 4.4))
    mesh = ax.pcolormesh(x, y, critical.T, shading="nearest", cmap="Reds", alpha=0.6)
    fig.colorbar(mesh, ax=ax, label="FC critical Δχ²")
    for line in contour_2d(x, y, delta_chi2 - critical + 1.0, 1.0, min_chi2=0.0):
        ax.plot(line[:, 0], line[:, 1], color="tab:red")
    for line in contour_2d(x, y, delta_chi2, wilks, min_chi2=0.0):
        ax.plot(line[:, 0], line[:, 1], color="tab:blue", ls="--")
    ax.plot([], [], color="tab:red", label="Feldman–Cousins")
    ax.plot([], [], color="tab:blue", ls="--", label=f"Wilks (Δχ² = {wilks:.2f})")
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    return fig


def cls_figure(limits, title: str):
    """CLs(θ) observed (asymptotic and toys) with the expected ±1σ/±2σ bands."""
    import matplotlib.pyplot as plt

    from cevnsfast.plots import log_scale

    fig, ax = plt.subplots(figsize=(5.6, 4.0))
    v = limits.values
    bands = limits.expected_cls
    ax.fill_between(v, bands[-2], bands[2], color="yellow", label="expected ±2σ")
    ax.fill_between(v, bands[-1], bands[1], color="limegreen", label="expected ±1σ")
    ax.plot(v, bands[0], color="k", ls="--", label="expected (Asimov)")
    ax.plot(v, limits.cls_asymptotic, color="k", label="observed (asymptotic)")
    if limits.cls_toys is not None:
        ax.plot(v, limits.cls_toys, "o", ms=3, color="tab:red", label="observed (toys)")
    ax.axhline(1 - limits.cl, color="tab:blue", lw=0.8)
    log_scale(ax, "y")
    ax.set_ylim(1e-3, 1.05)
    ax.set_xlabel(limits.param)
    ax.set_ylabel("CLs")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    return fig


def corner_figure(samples: np.ndarray, weights: np.ndarray, names: Sequence[str], title: str):
    """Corner plot: weighted 1D marginal histograms on the diagonal, 2D below."""
    import matplotlib.pyplot as plt

    k = samples.shape[1]
    fig, axes = plt.subplots(k, k, figsize=(2.6 * k + 1, 2.6 * k + 0.6), squeeze=False)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(samples[:, i], bins=40, weights=weights, color="tab:blue", histtype="step")
                ax.set_yticks([])
            else:
                ax.hist2d(samples[:, j], samples[:, i], bins=40, weights=weights, cmap="Blues")
            if i == k - 1:
                ax.set_xlabel(names[j])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i])
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return fig
