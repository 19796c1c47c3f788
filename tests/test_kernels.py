"""The quadratic-form kernels against numpy's einsum on the stored [bin, i, j] layout."""

import numpy as np

from cevnsfast.kernels import (
    kernel_layout,
    quadratic_form,
    quadratic_form_batch,
    quadratic_form_grids_into,
)


def _symmetric(rng, *shape):
    t = rng.normal(size=(*shape[:-2], shape[-1], shape[-1]))
    return t + np.swapaxes(t, -1, -2)


def test_one_point_equals_einsum_with_zero_couplings():
    rng = np.random.default_rng(3)
    stored = _symmetric(rng, 37, 5, 5)  # [bin, i, j]
    tensor = kernel_layout(stored)
    assert tensor.shape == (5, 5, 37) and tensor.flags.c_contiguous
    for x in ([1, 0.3, -0.2, 0.1, 0.7], [1, 0, 0.5, 0, 0], [0, 0, 0, 0, 0], [1, 0, 0, 0, 0]):
        x = np.asarray(x, dtype=float)
        expected = np.einsum("bij,i,j->b", stored, x, x)
        np.testing.assert_allclose(quadratic_form(tensor, x), expected, rtol=1e-13, atol=1e-12)


def test_layout_of_chosen_couplings_into_a_buffer():
    """Selecting couplings (any order) and writing into a slice of a padded buffer gives the
    stored tensor's own entries, moved to [..., i, j, bin]."""
    rng = np.random.default_rng(5)
    stored = _symmetric(rng, 3, 7, 13, 4, 4)  # [axis, grid point, bin, i, j]
    index = [0, 3, 1]
    expected = np.moveaxis(stored[..., index, :][..., index], -3, -1)
    np.testing.assert_array_equal(kernel_layout(stored, index), expected)
    buffer = np.full((3, 9, 3, 3, 13), -1.0)
    kernel_layout(stored, index, buffer[:, :7])
    np.testing.assert_array_equal(buffer[:, :7], expected)
    assert np.all(buffer[:, 7:] == -1.0)


def test_batch_and_grids_equal_single_points():
    rng = np.random.default_rng(4)
    stored = _symmetric(rng, 2, 3, 11, 4, 4)  # [axis, grid point, bin, i, j]
    tensors = kernel_layout(stored)
    xs = np.column_stack([np.ones(6), rng.normal(size=(6, 3))])
    batch = quadratic_form_batch(tensors[0, 0], xs)
    for p, x in enumerate(xs):
        np.testing.assert_array_equal(batch[p], quadratic_form(tensors[0, 0], x))
    n_grid = np.array([3, 2])  # the second axis has one padding point, left untouched
    out = np.full((2, 3, 11), -1.0)
    quadratic_form_grids_into(tensors, n_grid, xs[1], out)
    expected = np.einsum("kgbij,i,j->kgb", stored, xs[1], xs[1])
    np.testing.assert_allclose(out[0], expected[0], rtol=1e-13, atol=1e-12)
    np.testing.assert_allclose(out[1, :2], expected[1, :2], rtol=1e-13, atol=1e-12)
    assert np.all(out[1, 2] == -1.0)
