"""Independent textbook references for the model tests (closed forms, no model code).

A bare tube (fluid density 1e-9 kg/m3: negligible mass) of steel-like material, at its
reference temperature and at ambient pressure, so that the beam-theory formulas apply as
printed in the books.
"""

from __future__ import annotations

import copy
import math

E = 200e9          # Pa
RHO = 8000.0       # kg/m3
NU = 0.3
D = 0.010          # outer diameter, m
T = 0.001          # wall, m
L = 1.0            # m
DI = D - 2 * T


def tube(bc: str, theory: str = "euler-bernoulli", elements: int = 60, **groups: dict) -> dict:
    """Parameters of the reference tube; ``groups`` update single fields of a group."""
    p = {
        "pipe": {"length": L, "outer_diameter": D, "wall_thickness": T, "boundary": bc},
        "material": {"youngs_modulus": E, "density": RHO, "poisson_ratio": NU,
                     "thermal_expansion": 0.0, "modulus_temperature_coefficient": 0.0,
                     "reference_temperature": 293.15},
        "fluid": {"density": 1e-9},
        "state": {"pressure": 1e5, "temperature": 293.15, "flow_velocity": 0.0},
        "analysis": {"theory": theory, "elements": elements, "modes": 4, "frequencies": 2,
                     "ambient_pressure": 1e5},
    }
    p = copy.deepcopy(p)
    for group, values in groups.items():
        p[group].update(values)
    return p


def second_moment(d: float = D, di: float = DI) -> float:
    return math.pi / 64 * (d**4 - di**4)


def wall_area(d: float = D, di: float = DI) -> float:
    return math.pi / 4 * (d**2 - di**2)


def bore_area(di: float = DI) -> float:
    return math.pi / 4 * di**2


def cowper(nu: float = NU, d: float = D, di: float = DI) -> float:
    """Cowper (1966), J. Appl. Mech. 33, 335, Table 1: hollow circle, m = inner/outer radius."""
    m2 = (di / d) ** 2
    return 6 * (1 + nu) * (1 + m2) ** 2 / ((7 + 6 * nu) * (1 + m2) ** 2 + (20 + 12 * nu) * m2)


def eb_frequency(beta_l: float, length: float = L, ei: float | None = None,
                 mass: float | None = None) -> float:
    """f = (beta L)^2 / (2 pi L^2) sqrt(EI/m) (Blevins, Formulas for natural frequency, T. 8-1)."""
    ei = E * second_moment() if ei is None else ei
    mass = RHO * wall_area() if mass is None else mass
    return beta_l**2 / (2 * math.pi * length**2) * math.sqrt(ei / mass)


def timoshenko_pp(n: int, length: float) -> float:
    """Flexural frequency (Hz) of mode n of a simply supported Timoshenko beam.

    With w = W sin(kx), theta = Theta cos(kx), k = n pi / L, the two Timoshenko equations give
    (kGA k^2 - m w^2)(EI k^2 + kGA - J w^2) = (kGA k)^2; the lower root is the bending branch
    (Timoshenko 1921; Han, Benaroya & Wei, J. Sound Vib. 225 (1999) 935, simply supported case).
    """
    ei, m, j = E * second_moment(), RHO * wall_area(), RHO * second_moment()
    kga = cowper() * E / (2 * (1 + NU)) * wall_area()
    k = n * math.pi / length
    a, b, c = m * j, -(m * (ei * k * k + kga) + j * kga * k * k), kga * ei * k**4
    w2 = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * a)
    return math.sqrt(w2) / (2 * math.pi)


def _bisect(f, lo: float, hi: float) -> float:
    flo = f(lo)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        if (f(mid) > 0) == (flo > 0):
            lo, flo = mid, f(mid)
        else:
            hi = mid
    return 0.5 * (lo + hi)


def eb_root(bc: str, n: int) -> float:
    """beta_n L of a uniform Euler-Bernoulli beam, from its frequency equation (Blevins,
    Formulas for Natural Frequency and Mode Shape, Table 8-1) solved to machine precision:
    clamped-clamped cos x cosh x = 1, clamped-free cos x cosh x = -1, clamped-pinned
    tan x = tanh x, pinned-pinned sin x = 0 (scaled by cosh x so that they stay finite)."""
    pi = math.pi
    if bc == "pinned-pinned":
        return n * pi
    if bc == "clamped-clamped":
        return _bisect(lambda x: math.cos(x) - 1.0 / math.cosh(x), n * pi, (n + 1) * pi)
    if bc == "clamped-free":
        return _bisect(lambda x: math.cos(x) + 1.0 / math.cosh(x), (n - 1) * pi, n * pi)
    if bc == "clamped-pinned":
        return _bisect(lambda x: math.sin(x) - math.cos(x) * math.tanh(x), n * pi, (n + 0.5) * pi)
    raise KeyError(bc)
