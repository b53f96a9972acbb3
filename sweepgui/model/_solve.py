"""Natural frequencies, stability and receptance of the tube, with or without flow.

Equation of motion (Paidoussis, *Fluid-Structure Interactions* vol. 1, eq. 3.38, with the
pressure and tension lumped into the effective axial force N):

    EI w'''' + (M U^2 - N) w'' + 2 M U w'_t + (m + M) w_tt = 0

Discretised: M q'' + G q' + K q = 0 with K = K_e + (N - M U^2)(K_g - B), G = 2 M U C_w, where
K_g = int w'w', C_w = int w w' and B the end term w w'|_0^L (non-zero only at a free end, where
it is the follower force of the discharging fluid: a cantilever loses stability by flutter).

Everything is solved in the basis of the modes without flow (K_e + N K_g, M), mass-normalised.
Without flow that basis *is* the answer: frequencies sqrt(lambda), and the receptance is the
modal sum over all modes with modal damping ratio zeta. With flow the gyroscopic problem is put
in state-space form (2n first-order equations, columns scaled by the modal frequencies so that
the matrix is balanced) and solved by a dense eigen-decomposition; natural frequencies are the
imaginary parts of the eigenvalues of the undamped system, ``stable`` means no eigenvalue with
a positive real part (divergence gives a real pair +-s, i.e. a mode of zero frequency), and the
receptance is the modal sum of the damped state-space system (damping zeta in the no-flow
modes, plus the Coriolis matrix).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._band import BandMatrix
from ._beam import BeamMatrices
from ._modes import lowest_modes

_CHUNK = 2_000_000  # complex entries per block of the frequency x mode table


@dataclass(frozen=True)
class Solution:
    frequencies: np.ndarray     # Hz, ascending, all modes
    stable: bool
    receptance: np.ndarray      # complex, m/N, at the requested frequencies


def _static_flexibility(ks: BandMatrix, drive: np.ndarray, pick: np.ndarray) -> float | None:
    """w(pick) under a static unit force at ``drive``: pick' K^-1 drive (None: K is singular)."""
    from scipy.linalg import LinAlgError, solve_banded

    try:
        return float(pick @ solve_banded((ks.width, ks.width), ks.data, drive))
    except LinAlgError:
        return None


def _safe(den: np.ndarray, floor: float) -> np.ndarray:
    """Keep a resonance hit exactly with zero damping finite (huge, not inf)."""
    small = np.abs(den) < floor
    return np.where(small, floor, den) if small.any() else den


def solve(beam: BeamMatrices, axial_force: float, fluid_mass: float, velocity: float,
          damping_ratio: float, omega: np.ndarray, drive: np.ndarray, pick: np.ndarray,
          modes: int) -> Solution:
    """Frequencies (at least ``modes``), stability and receptance w(pick)/F(drive) at the
    angular frequencies ``omega``."""
    ks = beam.symmetric_stiffness(axial_force)
    lam, phi = lowest_modes(ks, beam.mass, modes, (10.0 * float(omega.max())) ** 2)
    w_abs = np.sqrt(np.abs(lam))
    a = phi.T @ drive
    c = phi.T @ pick
    scale = float(np.max(np.abs(lam)))
    residual = 0.0
    if lam.size < ks.n:  # static flexibility of the modes left out
        static = _static_flexibility(ks, drive, pick)
        residual = 0.0 if static is None else static - float(np.sum(c * a / lam))

    if velocity == 0.0 or fluid_mass == 0.0:
        freqs = np.sqrt(np.clip(lam, 0.0, None)) / (2 * np.pi)
        stable = bool(lam.min() > 0.0)
        num = a * c
        damp = 2.0 * damping_ratio * w_abs
        h = np.empty(omega.shape, dtype=complex)
        step = max(1, _CHUNK // lam.size)
        for i in range(0, omega.size, step):
            w = omega[i:i + step, None]
            den = _safe(lam - w * w + 1j * damp * w, 1e-13 * scale)
            h[i:i + step] = (num / den).sum(axis=1)
        return Solution(freqs, stable, h + residual)

    n = lam.size
    mu2 = fluid_mass * velocity * velocity
    kt = np.diag(lam) - mu2 * (phi.T @ (beam.load_stiffness() @ phi))
    gt = 2.0 * fluid_mass * velocity * (phi.T @ (beam.convective @ phi))
    ws = np.maximum(w_abs, 1e-6 * np.sqrt(scale))  # balancing scale of each modal coordinate

    def state(gyro: np.ndarray) -> np.ndarray:
        return np.block([[np.zeros((n, n)), np.diag(ws)], [-kt / ws, -gyro]])

    s = np.linalg.eigvals(state(gt))
    big = float(np.max(np.abs(s)))
    im = s.imag
    oscillating = np.sort(im[im > 1e-9 * big])
    n_zero = n - oscillating.size  # real pairs: modes of zero frequency
    freqs = np.concatenate([np.zeros(max(n_zero, 0)), oscillating[:n]]) / (2 * np.pi)
    stable = bool(s.real.max() <= 1e-9 * big)

    sd, v = np.linalg.eig(state(gt + np.diag(2.0 * damping_ratio * w_abs)))
    b = np.concatenate([np.zeros(n), a])
    cr = np.concatenate([c / ws, np.zeros(n)])
    if np.linalg.cond(v) < 1e12:
        y = np.linalg.solve(v, b)
        num = (cr @ v) * y
        h = np.empty(omega.shape, dtype=complex)
        step = max(1, _CHUNK // sd.size)
        for i in range(0, omega.size, step):
            den = _safe(1j * omega[i:i + step, None] - sd, 1e-13 * big)
            h[i:i + step] = (num / den).sum(axis=1)
    else:  # defective (e.g. exactly at a coalescence): solve the damped system directly
        gd = gt + np.diag(2.0 * damping_ratio * w_abs)
        h = np.array([c @ np.linalg.solve(kt - w * w * np.eye(n) + 1j * w * gd, a)
                      for w in omega])
    return Solution(freqs, stable, h + residual)
