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
integrated with 4-point Gauss-Legendre quadrature, exact for the degree-6 products here. The
global matrices are band matrices (``_band``): an element couples four neighbouring dofs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import SUPPORTS
from ._band import BandMatrix

# 4-point Gauss-Legendre rule mapped to [0, 1] (exact up to degree 7).
_G = np.array([0.3399810435848563, 0.8611363115940526])
_GW = np.array([0.6521451548625461, 0.3478548451374538])
GAUSS_X = np.concatenate([0.5 - 0.5 * _G[::-1], 0.5 + 0.5 * _G])
GAUSS_W = np.concatenate([0.5 * _GW[::-1], 0.5 * _GW])

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
    """Global band matrices on the free dofs (supports removed).

    ``stiffness`` is the elastic stiffness, ``mass`` the consistent mass, ``geometric`` the
    integral of w'w' (times an axial force it is the geometric stiffness), ``convective`` the
    integral of w w' (times 2MU it is the Coriolis matrix) and ``end_slope`` the boundary term
    w(L)w'(L) - w(0)w'(0) of integrating w w'' by parts (non-zero only at a free end).
    """

    stiffness: BandMatrix
    mass: BandMatrix
    geometric: BandMatrix
    convective: BandMatrix
    end_slope: BandMatrix
    free: np.ndarray          # indices of the free dofs in the full numbering
    elements: int
    element_length: float
    phi: float

    @property
    def dofs(self) -> int:
        return self.stiffness.n

    def load_stiffness(self) -> BandMatrix:
        """The stiffness per unit of tension: w'w' minus the free end's follower term."""
        return self.geometric - self.end_slope

    def symmetric_stiffness(self, axial_force: float) -> BandMatrix:
        """The symmetric part of the stiffness under the effective ``axial_force`` (tension +)."""
        s = self.stiffness + axial_force * self.load_stiffness()
        return 0.5 * (s + s.T)

    def point_vector(self, position: float) -> np.ndarray:
        """Row that maps free dofs to w at ``position`` (fraction of the length); also the
        consistent load vector of a unit point force there."""
        ne, h = self.elements, self.element_length
        s = min(max(position, 0.0), 1.0) * ne
        e = min(int(s), ne - 1)
        n, _ = shape_w(np.array([s - e]), h, self.phi)
        full = np.zeros(2 * (ne + 1))
        full[2 * e:2 * e + 4] = n[0]
        row: np.ndarray = full[self.free]
        return row


_WIDTH = 3  # an element's four dofs: the band reaches three off the diagonal


def _global(element: np.ndarray, elements: int) -> np.ndarray:
    """The band data of the mesh of ``elements`` equal ``element`` matrices (4 x 4)."""
    w, ndof = _WIDTH, 2 * (elements + 1)
    data = np.zeros((2 * w + 1, ndof))
    for a in range(4):
        for b in range(4):  # entry (2e + a, 2e + b) of every element e
            data[w + a - b, b:b + 2 * elements:2] += element[a, b]
    return data


def _restrict(data: np.ndarray, free: np.ndarray) -> BandMatrix:
    """The band matrix of the rows and columns ``free`` (sorted) of the band ``data``."""
    w, n = _WIDTH, free.size
    out = np.zeros((2 * w + 1, n))
    for k in range(-w, w + 1):  # new diagonal J - I = k
        rows = np.arange(max(0, -k), min(n, n - k))
        i, j = free[rows], free[rows + k]
        near = np.abs(j - i) <= w
        out[w - k, (rows + k)[near]] = data[w + i[near] - j[near], j[near]]
    return BandMatrix(out, w)


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
    held0, held1 = SUPPORTS[boundary].held
    held = set(held0) | {ndof - 2 + d for d in held1}
    free = np.array([i for i in range(ndof) if i not in held])
    k, m, g, c = (_restrict(_global(small, ne), free) for small in (ke, me, ge, ce))

    # w(L) w'(L) - w(0) w'(0): w' at the ends from the first and last element.
    end = np.zeros((2 * _WIDTH + 1, ndof))
    _, d0 = shape_w(np.array([0.0]), h, phi)
    _, d1 = shape_w(np.array([1.0]), h, phi)
    for b in range(4):  # row ndof - 2, columns ndof - 4 .. ndof - 1; row 0, columns 0 .. 3
        end[_WIDTH + 2 - b, ndof - 4 + b] += d1[0, b]
        end[_WIDTH - b, b] -= d0[0, b]
    return BeamMatrices(0.5 * (k + k.T), 0.5 * (m + m.T), g, c, _restrict(end, free), free, ne, h, phi)
