"""Finite-element matrices of a straight tube: Timoshenko or Euler-Bernoulli beam.

Two degrees of freedom per node: transverse displacement w and section rotation theta.
The Timoshenko element is Friedman & Kosmatka's interdependent-interpolation element
(Computers & Structures 47 (1993) 473-481): cubic w and quadratic theta chosen so that the
homogeneous equilibrium equations hold inside the element, which removes shear locking and
makes the stiffness exact for end loads (frequencies converge as h^4 for slender elements and
as h^2 once elements are much shorter than the shear length sqrt(12 EI / kGA), where the
element tends to a linear shear-beam element). With the shear parameter Phi = 0 its shape functions
are the Hermite cubics of the classical Euler-Bernoulli element, which is how Euler-Bernoulli
is obtained (and then there is no rotary inertia).

Every element has the same length, so one element matrix serves the whole mesh. Matrices are
integrated with 4-point Gauss-Legendre quadrature, exact for the degree-6 products here.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# 4-point Gauss-Legendre rule mapped to [0, 1] (exact up to degree 7).
_G = np.array([0.3399810435848563, 0.8611363115940526])
_GW = np.array([0.6521451548625461, 0.3478548451374538])
GAUSS_X = np.concatenate([0.5 - 0.5 * _G[::-1], 0.5 + 0.5 * _G])
GAUSS_W = np.concatenate([0.5 * _GW[::-1], 0.5 * _GW])

# Supports at (x = 0, x = L): which local dofs (0 = w, 1 = theta) are held at each end.
_HELD = {
    "clamped-clamped": ((0, 1), (0, 1)),
    "pinned-pinned": ((0,), (0,)),
    "clamped-free": ((0, 1), ()),
    "clamped-pinned": ((0, 1), (0,)),
}


def shape_w(xi: np.ndarray, h: float, phi: float) -> tuple[np.ndarray, np.ndarray]:
    """Transverse shape functions N_w and their x-derivatives at local coordinates ``xi``.

    Returns two arrays of shape (len(xi), 4) for the dofs (w1, theta1, w2, theta2).
    """
    x = np.asarray(xi, dtype=float)[:, None]
    c = 1.0 / (1.0 + phi)
    n = c * np.hstack([
        2 * x**3 - 3 * x**2 - phi * x + 1 + phi,
        h * (x**3 - (2 + phi / 2) * x**2 + (1 + phi / 2) * x),
        -2 * x**3 + 3 * x**2 + phi * x,
        h * (x**3 - (1 - phi / 2) * x**2 - (phi / 2) * x),
    ])
    dn = c * np.hstack([
        (6 * x**2 - 6 * x - phi) / h,
        3 * x**2 - (4 + phi) * x + (1 + phi / 2),
        (-6 * x**2 + 6 * x + phi) / h,
        3 * x**2 - (2 - phi) * x - phi / 2,
    ])
    return n, dn


def shape_theta(xi: np.ndarray, h: float, phi: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotation shape functions N_theta and their x-derivatives, shape (len(xi), 4)."""
    x = np.asarray(xi, dtype=float)[:, None]
    c = 1.0 / (1.0 + phi)
    n = c * np.hstack([
        6 * (x**2 - x) / h,
        3 * x**2 - (4 + phi) * x + 1 + phi,
        -6 * (x**2 - x) / h,
        3 * x**2 - (2 - phi) * x,
    ])
    dn = c * np.hstack([
        6 * (2 * x - 1) / h**2,
        (6 * x - (4 + phi)) / h,
        -6 * (2 * x - 1) / h**2,
        (6 * x - (2 - phi)) / h,
    ])
    return n, dn


@dataclass(frozen=True)
class BeamMatrices:
    """Global matrices on the free dofs (supports removed).

    ``stiffness`` is the elastic stiffness, ``mass`` the consistent mass, ``geometric`` the
    integral of w'w' (times an axial force it is the geometric stiffness), ``convective`` the
    integral of w w' (times 2MU it is the Coriolis matrix) and ``end_slope`` the boundary term
    w(L)w'(L) - w(0)w'(0) of integrating w w'' by parts (non-zero only at a free end).
    """

    stiffness: np.ndarray
    mass: np.ndarray
    geometric: np.ndarray
    convective: np.ndarray
    end_slope: np.ndarray
    free: np.ndarray          # indices of the free dofs in the full numbering
    elements: int
    element_length: float
    phi: float

    def point_vector(self, position: float) -> np.ndarray:
        """Row that maps free dofs to w at ``position`` (fraction of the length); also the
        consistent load vector of a unit point force there."""
        ne, h = self.elements, self.element_length
        s = min(max(position, 0.0), 1.0) * ne
        e = min(int(s), ne - 1)
        n, _ = shape_w(np.array([s - e]), h, self.phi)
        full = np.zeros(2 * (ne + 1))
        full[2 * e:2 * e + 4] = n[0]
        return full[self.free]


def assemble(elements: int, length: float, bending_stiffness: float, shear_stiffness: float | None,
             mass_per_length: float, rotary_inertia: float, boundary: str) -> BeamMatrices:
    """Assemble the beam on ``elements`` equal elements.

    ``shear_stiffness`` is kappa*G*A (None: Euler-Bernoulli, infinite shear stiffness);
    ``rotary_inertia`` is the mass moment of inertia per length (ignored for Euler-Bernoulli).
    """
    ne = int(elements)
    h = length / ne
    ei = bending_stiffness
    if shear_stiffness is None:
        phi, rot = 0.0, 0.0
    else:
        phi, rot = 12.0 * ei / (shear_stiffness * h * h), rotary_inertia
    nw, dnw = shape_w(GAUSS_X, h, phi)
    nt, dnt = shape_theta(GAUSS_X, h, phi)
    wq = GAUSS_W * h
    ke = ei * (dnt.T * wq) @ dnt
    if shear_stiffness is not None:
        gam = dnw - nt  # constant shear strain inside the element
        ke = ke + shear_stiffness * (gam.T * wq) @ gam
    me = mass_per_length * (nw.T * wq) @ nw + rot * (nt.T * wq) @ nt
    ge = (dnw.T * wq) @ dnw
    ce = (nw.T * wq) @ dnw

    ndof = 2 * (ne + 1)
    mats = [np.zeros((ndof, ndof)) for _ in range(4)]
    for e in range(ne):
        sl = slice(2 * e, 2 * e + 4)
        for big, small in zip(mats, (ke, me, ge, ce)):
            big[sl, sl] += small
    k, m, g, c = mats

    # w(L) w'(L) - w(0) w'(0): w' at the ends from the first and last element.
    end = np.zeros((ndof, ndof))
    _, d0 = shape_w(np.array([0.0]), h, phi)
    _, d1 = shape_w(np.array([1.0]), h, phi)
    end[ndof - 2, ndof - 4:] += d1[0]
    end[0, :4] -= d0[0]

    held0, held1 = _HELD[boundary]
    held = {d for d in held0} | {ndof - 2 + d for d in held1}
    free = np.array([i for i in range(ndof) if i not in held])
    ix = np.ix_(free, free)
    k = 0.5 * (k[ix] + k[ix].T)
    m = 0.5 * (m[ix] + m[ix].T)
    return BeamMatrices(k, m, g[ix], c[ix], end[ix], free, ne, h, phi)
