"""The lowest modes of K phi = lambda M phi (K symmetric, M positive definite), M-normalised.

Small meshes (up to ``DENSE_UP_TO`` dofs): every mode, by a dense eigen-decomposition (a few
milliseconds; the spectrum then needs no correction for modes left out).

Larger meshes: only the lowest modes, up to 10 x the top of the band (at least 2 x the modes
asked, at least 100; the modes left out enter the spectrum through their static flexibility,
see ``_solve``). They come from shift-invert Lanczos (ARPACK's ``eigsh``) on the band
matrices: one band Cholesky factorisation of K - sigma M, with sigma below every eigenvalue
(0 unless the tube is buckled), and products linear in the mesh. 2000 elements take about
0.2 s instead of the 10 s of a dense solver, and scipy is imported only for these meshes.

Either way the eigenvalues of the modes reported are then refined: the Rayleigh quotient of
each float64 mode, evaluated in twice the float64 precision (``BandMatrix.quadratic``), is the
exact eigenvalue of the matrices up to the square of the mode's error. Without it a float64
solver loses digits to cancellation on fine meshes: the dense solver of the past gave the first
frequency of 2000 Euler-Bernoulli elements 0.13 % off (against 4e-11 now), and 1e-8 off for
400 Timoshenko elements (tests/model/test_solver_reference.py).
"""

from __future__ import annotations

import numpy as np

from ._band import BandMatrix

DENSE_UP_TO = 400  # dofs
_MIN_BASIS = 100
_REFINE_CHUNK = 32  # modes refined at once (bounds the memory of the exact products)


def lowest_modes(k: BandMatrix, m: BandMatrix, need: int,
                 lam_cut: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (ascending) and M-normalised modes: all of them for a small mesh, else the
    lowest ones up to ``lam_cut`` (at least ``need``); the lowest ``need`` refined."""
    n = k.n
    if n <= DENSE_UP_TO:
        lam, phi = _dense_all(k.dense(), m.dense())
    else:
        count = min(n, max(2 * need, _MIN_BASIS))
        while True:
            lam, phi = _lowest(k, m, count)
            if count == n or lam[-1] > lam_cut:
                break
            count = min(n, 2 * count)
    return refine(k, m, lam, phi, need)


def refine(k: BandMatrix, m: BandMatrix, lam: np.ndarray, phi: np.ndarray,
           need: int) -> tuple[np.ndarray, np.ndarray]:
    """``lam`` with its first ``need`` values replaced by the Rayleigh quotients of their modes
    in twice the float64 precision (sorted again, with ``phi``)."""
    lam = lam.copy()
    for i in range(0, min(need, lam.size), _REFINE_CHUNK):
        block = phi[:, i:min(need, i + _REFINE_CHUNK)]
        lam[i:i + block.shape[1]] = k.quadratic(block) / m.quadratic(block)
    order = np.argsort(lam, kind="stable")
    return lam[order], phi[:, order]


def _dense_all(k: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    lc = np.linalg.cholesky(m)
    li = np.linalg.inv(lc)
    a = li @ k @ li.T
    lam, z = np.linalg.eigh(0.5 * (a + a.T))
    return lam, li.T @ z


def _lowest(k: BandMatrix, m: BandMatrix, count: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``count`` lowest eigenpairs by shift-invert Lanczos (dense when that is most of them)."""
    n = k.n
    if 2 * count >= n:  # Lanczos needs room beyond the modes it finds
        return _dense_lowest(k, m, count)
    from scipy.linalg.lapack import dpbtrs
    from scipy.sparse.linalg import ArpackError, ArpackNoConvergence, LinearOperator, eigsh

    sigma, factor = _factor_below(k, m)

    def op_inverse(x: np.ndarray) -> np.ndarray:  # (K - sigma M)^-1 x, the factor given
        return np.asarray(dpbtrs(factor, x, lower=0)[0])

    def op_m(x: np.ndarray) -> np.ndarray:
        return m @ x

    def op_k(x: np.ndarray) -> np.ndarray:
        return k @ x

    shape = (n, n)
    # a fixed start vector: the same point always gives the same digits
    v0 = np.random.default_rng(0).standard_normal(n)
    try:
        lam, phi = eigsh(LinearOperator(shape, matvec=op_k, dtype=float), k=count,
                         M=LinearOperator(shape, matvec=op_m, dtype=float), sigma=sigma,
                         which="LM", OPinv=LinearOperator(shape, matvec=op_inverse, dtype=float),
                         v0=v0, tol=0.0)
    except (ArpackError, ArpackNoConvergence):
        return _dense_lowest(k, m, count)
    if not np.all(lam > sigma):  # cannot happen with sigma below the spectrum; be safe
        return _dense_lowest(k, m, count)
    order = np.argsort(lam)
    lam, phi = lam[order], phi[:, order]
    phi = phi / np.sqrt(np.einsum("ij,ij->j", phi, m @ phi))
    return lam, phi


def _dense_lowest(k: BandMatrix, m: BandMatrix, count: int) -> tuple[np.ndarray, np.ndarray]:
    from scipy.linalg import eigh

    lam, phi = eigh(k.dense(), m.dense(), subset_by_index=[0, count - 1], driver="gvx")
    return lam, phi


def _factor_below(k: BandMatrix, m: BandMatrix) -> tuple[float, np.ndarray]:
    """A shift sigma below every eigenvalue, and the band Cholesky factor of K - sigma M.

    0 when K is positive definite (the tube is not buckled). Otherwise the shift doubles from
    a negligible one until K - sigma M is positive definite (Sylvester: then no eigenvalue lies
    below sigma), which leaves sigma within a factor 2 of the lowest eigenvalue: close enough
    for Lanczos to converge fast.
    """
    from scipy.linalg import LinAlgError, cholesky_banded

    diag = np.abs(k.data[k.width]) / m.data[m.width]
    step = float(np.finfo(float).eps * diag.max())
    sigma = 0.0
    while True:
        try:
            return sigma, cholesky_banded((k - sigma * m).upper(), lower=False)
        except LinAlgError:
            if not np.isfinite(step) or step > 1e3 * diag.max():
                raise
            sigma, step = -step, 2.0 * step
