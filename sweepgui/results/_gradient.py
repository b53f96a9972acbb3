"""Derivatives on a sweep grid: central differences, one-sided at the edges.

The grid may be non-uniform (logspace, hand-written lists) and may have holes (failed or
not-yet-built points). At each point the three-point formula for unequal spacing is used
when both neighbours are known; with one neighbour missing (a hole or an edge) the
one-sided difference to the other; with both missing the derivative is NaN. So the
field fills in as neighbouring points land.
"""

from __future__ import annotations

import numpy as np


def grid_gradient(f: np.ndarray, x: np.ndarray, axis: int = 0) -> np.ndarray:
    """df/dx of ``f`` sampled at coordinates ``x`` along ``axis``.

    Parameters
    ----------
    f
        Samples; NaN marks an unknown value.
    x
        Coordinates along ``axis`` (any order; equal coordinates give NaN).
    axis
        The axis of ``f`` that ``x`` labels.

    Returns
    -------
    numpy.ndarray
        Same shape as ``f``. Interior points with both neighbours known:
        ``(h1^2 f[i+1] - h2^2 f[i-1] + (h2^2 - h1^2) f[i]) / (h1 h2 (h1 + h2))`` with
        ``h1 = x[i] - x[i-1]``, ``h2 = x[i+1] - x[i]`` (exact for quadratics); otherwise
        the one-sided two-point difference.
    """
    f = np.moveaxis(np.asarray(f, dtype=float), axis, 0)
    x = np.asarray(x, dtype=float)
    n = f.shape[0]
    if x.shape != (n,):
        raise ValueError(f"{x.shape[0] if x.ndim else 0} coordinates for an axis of {n} points")
    out = np.full_like(f, np.nan)
    if n < 2:
        return np.moveaxis(out, 0, axis)
    order = np.argsort(x, kind="stable")
    fs, xs = f[order], x[order]
    h = np.diff(xs).reshape((n - 1,) + (1,) * (f.ndim - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        step = np.diff(fs, axis=0) / h          # step[i] = (f[i+1] - f[i]) / h[i]
        back = np.concatenate([np.full_like(fs[:1], np.nan), step])   # to the left neighbour
        fwd = np.concatenate([step, np.full_like(fs[:1], np.nan)])    # to the right neighbour
        h1 = np.concatenate([np.full_like(h[:1], np.nan), h])
        h2 = np.concatenate([h, np.full_like(h[:1], np.nan)])
        # weighted mean of the two one-sided slopes = the unequal-spacing 3-point formula
        central = (h2 * back + h1 * fwd) / (h1 + h2)
    res = np.where(np.isfinite(central), central, np.where(np.isfinite(fwd), fwd, back))
    res[~np.isfinite(res)] = np.nan
    out[order] = res
    return np.moveaxis(out, 0, axis)
