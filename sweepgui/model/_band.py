"""Band matrices: the beam's matrices without their zeros, and exact quadratic forms.

A finite-element matrix of the tube couples a node only with its neighbours, so every entry
lies within ``width`` (3) of the diagonal. Stored as diagonals, a 2000-element mesh takes
7 x 4000 numbers instead of 4000 x 4000, and every product is linear in the mesh.

Quadratic forms x' A x are evaluated in twice the float64 precision (exact products after
Dekker, error-free sums after Knuth): the stiffness of a fine mesh has entries of EI / h^3
whose products with a smooth mode cancel to a small energy, and float64 loses up to 10
digits of it there (2000 Euler-Bernoulli elements). This is what makes the Rayleigh quotient
of a float64 mode as exact as its matrices (see ``refine``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_SPLIT = 134217729.0  # 2^27 + 1: splits a float64 into two halves of 26 bits (Dekker 1971)


@dataclass(frozen=True)
class BandMatrix:
    """An n x n matrix with no entry farther than ``width`` from the diagonal.

    ``data[width + i - j, j] == a[i, j]``: LAPACK's general band layout (scipy's
    ``solve_banded`` with l = u = width); its first ``width + 1`` rows are the upper band
    layout of a symmetric matrix (``cholesky_banded``, ``eig_banded``).
    """

    data: np.ndarray
    width: int

    @property
    def n(self) -> int:
        return int(self.data.shape[1])

    @property
    def reach(self) -> int:
        """How far from the diagonal entries can be (less than ``width`` in a tiny matrix)."""
        return min(self.width, self.n - 1)

    @property
    def T(self) -> BandMatrix:
        w, out = self.width, np.zeros_like(self.data)
        out[w] = self.data[w]
        for k in range(1, self.reach + 1):
            out[w + k, :self.n - k] = self.data[w - k, k:]
            out[w - k, k:] = self.data[w + k, :self.n - k]
        return BandMatrix(out, w)

    def __add__(self, other: BandMatrix) -> BandMatrix:
        return BandMatrix(self.data + other.data, self.width)

    def __sub__(self, other: BandMatrix) -> BandMatrix:
        return BandMatrix(self.data - other.data, self.width)

    def __rmul__(self, scale: float) -> BandMatrix:
        return BandMatrix(scale * self.data, self.width)

    def upper(self) -> np.ndarray:
        """The upper band layout of this (symmetric) matrix."""
        return self.data[:self.width + 1]

    def dense(self) -> np.ndarray:
        n, w = self.n, self.width
        out = np.zeros((n, n))
        for k in range(-self.reach, self.reach + 1):  # k = j - i
            lo, hi = max(0, -k), min(n, n - k)
            rows = np.arange(lo, hi)
            out[rows, rows + k] = self.data[w - k, rows + k]
        return out

    def __matmul__(self, x: np.ndarray) -> np.ndarray:
        """A @ x for a vector or the columns of a matrix."""
        n, w = self.n, self.width
        d = self.data if x.ndim == 1 else self.data[:, :, None]
        y = d[w] * x
        for k in range(1, self.reach + 1):
            y[:n - k] += d[w - k, k:] * x[k:]
            y[k:] += d[w + k, :n - k] * x[:n - k]
        return np.asarray(y)

    def quadratic(self, x: np.ndarray) -> np.ndarray:
        """x' A x for each column of ``x`` (n, m), to about twice the float64 precision."""
        n, w = self.n, self.width
        hi, lo = [], []
        for k in range(-self.reach, self.reach + 1):  # diagonal j - i = k: a[i, i+k] x_i x_{i+k}
            i0, i1 = max(0, -k), min(n, n - k)
            a = self.data[w - k, i0 + k:i1 + k, None]
            p1, e1 = _two_prod(a, x[i0 + k:i1 + k])
            xi = x[i0:i1]
            p2, e2 = _two_prod(p1, xi)
            hi.append(p2)
            lo.append(e2 + e1 * xi)
        return _sum(np.concatenate(hi), np.concatenate(lo))


def _split(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    t = _SPLIT * a
    h = t - (t - a)
    return h, a - h


def _two_prod(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """p + e == a * b exactly (p the rounded product)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _two_sum(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """s + e == a + b exactly (s the rounded sum)."""
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


def _sum(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """The sum over axis 0 of hi + lo, pairwise with error-free additions of the hi parts."""
    while hi.shape[0] > 1:
        if hi.shape[0] % 2:
            hi = np.concatenate([hi, np.zeros_like(hi[:1])])
            lo = np.concatenate([lo, np.zeros_like(lo[:1])])
        s, e = _two_sum(hi[0::2], hi[1::2])
        hi, lo = s, lo[0::2] + lo[1::2] + e
    return np.asarray(hi[0] + lo[0])
