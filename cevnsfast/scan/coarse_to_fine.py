"""Coarse-to-fine evaluation of χ² on a 2D grid: exact where Δχ² is small, skipped far away.

Every ``stride``-th node of each axis (and the last) is evaluated first; then, repeatedly,
every coarse cell whose closure holds an evaluated point with Δχ² < ``threshold`` (to the
lowest χ² found so far) has all its fine nodes evaluated, until no cell is added. The low
region therefore grows like a flood fill from the coarse nodes: at the end every evaluated
point on the border of the evaluated set has Δχ² ≥ ``threshold``, and every grid point with
Δχ² < ``threshold`` connected to an evaluated low point is evaluated exactly. What can be
missed is only an island with Δχ² < ``threshold`` that touches no evaluated node (narrower
than a coarse cell and ``threshold`` below all its corners). Unevaluated points are NaN.

The dense scan's best fit, its Δχ² < ``threshold`` region and hence every contour below
``threshold`` are unchanged (tests/test_coarse_to_fine.py checks it against dense grids);
far-excluded corners of a plane, where the profile fits are slowest (huge signals that the
normalisation nuisance must cancel), are not computed.
"""

from collections.abc import Callable, Sequence

import numpy as np

STRIDE = 4
"""Fine steps per coarse cell along each axis."""
THRESHOLD = 25.0
"""Δχ² below which a cell is refined: well above the 90 % (4.61) and 3σ (11.8) levels of
2 dof, so every drawn contour lies in refined cells."""


def coarse_nodes(n: int, stride: int) -> np.ndarray:
    """Every ``stride``-th index of an axis of ``n`` nodes, and its last."""
    nodes = np.arange(0, n, stride)
    return nodes if nodes[-1] == n - 1 else np.append(nodes, n - 1)


def coarse_to_fine(
    evaluate: Callable[[np.ndarray], np.ndarray],
    shape: tuple[int, int],
    stride: int = STRIDE,
    threshold: float = THRESHOLD,
) -> np.ndarray:
    """χ² on a grid of ``shape``, NaN where not evaluated. ``evaluate(indices)`` returns χ²
    at integer grid indices (k, 2), given in row-major order (a warm-started profile
    continues along the second axis)."""
    if stride < 2 or not (threshold > 0):
        raise ValueError(f"stride must be ≥ 2 and threshold > 0; got {stride}, {threshold}")
    chi2 = np.full(shape, np.nan)
    rows, cols = coarse_nodes(shape[0], stride), coarse_nodes(shape[1], stride)

    def run(mask: np.ndarray) -> None:
        todo = mask & np.isnan(chi2)
        if todo.any():
            chi2[todo] = evaluate(np.argwhere(todo))

    nodes = np.zeros(shape, dtype=bool)
    nodes[np.ix_(rows, cols)] = True
    run(nodes)
    refined = np.zeros((rows.size - 1, cols.size - 1), dtype=bool)
    while True:
        with np.errstate(invalid="ignore"):
            low = chi2 - np.nanmin(chi2) < threshold  # NaN compares False
        mask = np.zeros(shape, dtype=bool)
        for a in range(refined.shape[0]):
            r = slice(rows[a], rows[a + 1] + 1)
            for b in range(refined.shape[1]):
                c = slice(cols[b], cols[b + 1] + 1)
                if not refined[a, b] and low[r, c].any():
                    refined[a, b] = True
                    mask[r, c] = True
        if not mask.any():
            return chi2
        run(mask)


def coarse_to_fine_sum(
    parts: Sequence[tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]],
    stride: int = STRIDE,
    threshold: float = THRESHOLD,
) -> np.ndarray:
    """χ² of a sum of independent terms (experiments with separate nuisances), coarse to fine
    on the sum itself. ``parts`` are (plane, evaluate) pairs: each part's own coarse-to-fine
    plane (NaN where not evaluated) and its ``evaluate`` as in ``coarse_to_fine``.

    Adding the parts' planes alone is not enough: where the parts pull apart (tension T =
    min Σ − Σ min > 0) the sum's low region can reach points a part skipped (there a part's
    Δχ² can be up to Δχ²_sum + T). So the sum gets its own flood fill; a part's stored values
    are reused and its missing ones computed only where the sum needs them (the parts' planes
    are not changed: they stay what the parts' own fits and figures were made from)."""

    def evaluate(index: np.ndarray) -> np.ndarray:
        total = np.zeros(len(index))
        for plane, evaluate_part in parts:
            values = plane[index[:, 0], index[:, 1]]
            missing = np.isnan(values)
            if missing.any():
                values[missing] = evaluate_part(index[missing])
            total += values
        return total

    return coarse_to_fine(evaluate, parts[0][0].shape, stride, threshold)
