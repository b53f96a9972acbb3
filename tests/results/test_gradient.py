"""Grid derivatives against closed-form derivatives (non-uniform, unsorted, with holes)."""

import numpy as np
import pytest

from sweepgui.results import grid_gradient


def test_quadratic_exact_inside_on_non_uniform_grid():
    x = np.array([0.0, 0.1, 0.35, 0.4, 1.0, 1.7, 3.0])
    f = 2.0 - 3.0 * x + 5.0 * x**2
    g = grid_gradient(f, x)
    exact = -3.0 + 10.0 * x
    np.testing.assert_allclose(g[1:-1], exact[1:-1], rtol=1e-12, atol=1e-12)
    # one-sided two-point differences at the edges: the secant slope
    assert g[0] == pytest.approx((f[1] - f[0]) / (x[1] - x[0]), rel=1e-12)
    assert g[-1] == pytest.approx((f[-1] - f[-2]) / (x[-1] - x[-2]), rel=1e-12)


def test_second_order_convergence_on_log_grid():
    errs = []
    for n in (11, 21, 41):
        x = np.logspace(0, 1, n)
        g = grid_gradient(np.log(x) ** 2, x)
        errs.append(np.max(np.abs(g[1:-1] - 2 * np.log(x[1:-1]) / x[1:-1])))
    assert errs[1] < errs[0] / 3 and errs[2] < errs[1] / 3  # ~4x per halving: second order


def test_unsorted_coordinates_and_other_axes():
    x = np.array([3.0, 1.0, 2.0, 0.0])
    y = np.array([1.0, 2.0])
    f = x[None, :, None] ** 2 * y[:, None, None] + np.zeros((2, 4, 3))
    g = grid_gradient(f, x, axis=1)
    # interior points x=1 and x=2: exact 2*x*y
    for k, xv in enumerate(x):
        if xv in (1.0, 2.0):
            np.testing.assert_allclose(g[:, k, :], (2 * xv * y)[:, None] * np.ones((2, 3)))


def test_holes_fall_back_to_one_sided_and_nan_when_alone():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 6.0])
    f = 3.0 * x + 1.0
    f[2] = np.nan
    f[5] = np.nan
    g = grid_gradient(f, x)
    np.testing.assert_allclose(g[[0, 1, 3, 4]], 3.0)
    assert np.isnan(g[2])
    f2 = np.array([np.nan, 1.0, np.nan])
    assert np.isnan(grid_gradient(f2, np.array([0.0, 1.0, 2.0]))).all()


def test_single_point_gives_nan():
    assert np.isnan(grid_gradient(np.array([1.0]), np.array([2.0]))).all()
