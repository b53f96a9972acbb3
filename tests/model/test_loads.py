"""Axial load from pressure and temperature with fixed ends: f = f0 sqrt(1 - P / P_cr)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweepgui.model import run_point
from tests.model import _refs as R

ALPHA = 1.2e-5


def pp_loaded(n: int, ei: float, mass: float, length: float, p_comp: float) -> float:
    """Mode n of a pinned-pinned beam under axial compression P (Timoshenko & Gere,
    Theory of Elastic Stability, 2.20; Blevins T. 8-1 note): f_n0 sqrt(1 - P / (n^2 P_cr))."""
    p_cr = math.pi**2 * ei / length**2
    f0 = R.eb_frequency(n * math.pi, length=length, ei=ei, mass=mass)
    return f0 * math.sqrt(1 - p_comp / (n * n * p_cr))


@pytest.mark.parametrize("load", [0.3, 0.6, 0.9])
def test_heated_tube_between_fixed_ends(load):
    # Heating by dT: diameters grow by (1 + alpha dT), the span stays L, the tube's mass per
    # length stays (its mass stays between the same supports), and the restrained expansion
    # gives the compression P = E A alpha dT (E constant here: c = 0).
    ei0 = R.E * R.second_moment()
    d_t = load * math.pi**2 * ei0 / R.L**2 / (R.E * R.wall_area() * ALPHA)  # first guess
    g = 1 + ALPHA * d_t
    d, di = R.D * g, R.DI * g
    ei, area = R.E * R.second_moment(d, di), R.wall_area(d, di)
    p_comp = R.E * area * ALPHA * d_t
    p = R.tube("pinned-pinned", pipe={"axial_restraint": "fixed"},
               material={"thermal_expansion": ALPHA},
               state={"temperature": 293.15 + d_t})
    r = run_point(p)
    mass = R.RHO * R.wall_area()
    ref = [pp_loaded(n, ei, mass, R.L, p_comp) for n in (1, 2, 3)]
    np.testing.assert_allclose(r["natural_frequencies"][:3], ref, rtol=2e-5)
    assert r["derived"]["axial_force"] == pytest.approx(-p_comp, rel=1e-9)
    # the same heating with free ends: no load, the tube just grows
    p["pipe"]["axial_restraint"] = "free"
    f_free = run_point(p)["natural_frequencies"][0]
    ref_free = R.eb_frequency(math.pi, length=R.L * g, ei=ei, mass=mass / g)
    assert f_free == pytest.approx(ref_free, rel=2e-5)


@pytest.mark.parametrize("load", [0.3, 0.6])
def test_pressurised_tube_between_fixed_ends(load):
    # Gauge pressure p inside a tube whose ends are held: the effective axial compression is
    # (1 - 2 nu) p A_f (Paidoussis, Fluid-Structure Interactions vol. 1, sec. 3.2.2).
    # The bore and the outside grow elastically (Lame, thick cylinder, plane strain because the
    # ends are held): u(r) = r/E (sigma_theta - nu (sigma_r + sigma_z)), sigma_z = 2 nu p a^2/(b^2-a^2).
    length = 2.0
    a, b = R.DI / 2, R.D / 2
    ei0 = R.E * R.second_moment()
    pg = load * math.pi**2 * ei0 / length**2 / ((1 - 2 * R.NU) * R.bore_area())
    w = b * b - a * a
    sz = 2 * R.NU * pg * a * a / w
    a2 = a * (1 + (pg * (b * b + a * a) / w - R.NU * (-pg + sz)) / R.E)
    b2 = b * (1 + (2 * pg * a * a / w - R.NU * sz) / R.E)
    ei = R.E * R.second_moment(2 * b2, 2 * a2)
    p_comp = (1 - 2 * R.NU) * pg * math.pi * a2 * a2
    p = R.tube("pinned-pinned", pipe={"axial_restraint": "fixed", "length": length},
               state={"pressure": 1e5 + pg})
    r = run_point(p)
    ref = [pp_loaded(n, ei, R.RHO * R.wall_area(), length, p_comp) for n in (1, 2, 3)]
    np.testing.assert_allclose(r["natural_frequencies"][:3], ref, rtol=2e-5)
    assert r["derived"]["gauge_pressure"] == pytest.approx(pg)
    # free ends: the pressure gives no axial force (only the small Lame growth of the section)
    p["pipe"]["axial_restraint"] = "free"
    r_free = run_point(p)
    f0 = R.eb_frequency(math.pi, length=length)
    assert r_free["derived"]["axial_force"] == 0.0
    assert r_free["natural_frequencies"][0] == pytest.approx(f0, rel=5e-4)


def test_buckled_tube_is_unstable_and_does_not_crash():
    ei0 = R.E * R.second_moment()
    d_t = 1.5 * math.pi**2 * ei0 / R.L**2 / (R.E * R.wall_area() * ALPHA)
    p = R.tube("clamped-pinned", pipe={"axial_restraint": "fixed"},
               material={"thermal_expansion": ALPHA}, state={"temperature": 293.15 + 4 * d_t})
    r = run_point(p)
    assert r["stable"] is False and r["natural_frequencies"][0] == 0.0
    assert all(math.isfinite(x) for x in r["spectrum"]["magnitude"])


def test_modulus_falls_with_temperature_as_the_linear_law_says():
    # E(T) = E_ref (1 + c (T - T_ref)). Free ends: the tube grows by g = 1 + alpha dT in
    # every direction and keeps its mass, so f_n = (n pi)^2 / (2 pi (gL)^2) sqrt(E(T) I(g) / (m/g)).
    # Fixed ends: the restrained growth pushes with E(T) A_p alpha dT.
    c, d_t = -4e-4, 150.0
    g = 1 + ALPHA * d_t
    e_t = R.E * (1 + c * d_t)
    p = R.tube("pinned-pinned", material={"thermal_expansion": ALPHA,
                                          "modulus_temperature_coefficient": c},
               state={"temperature": 293.15 + d_t})
    r = run_point(p)
    ei = e_t * R.second_moment(R.D * g, R.DI * g)
    ref = [R.eb_frequency(n * math.pi, length=R.L * g, ei=ei, mass=R.RHO * R.wall_area() / g)
           for n in (1, 2, 3)]
    np.testing.assert_allclose(r["natural_frequencies"][:3], ref, rtol=2e-5)
    assert r["derived"]["youngs_modulus"] == pytest.approx(e_t, rel=1e-12)
    assert r["derived"]["axial_force"] == 0.0

    p["pipe"]["axial_restraint"] = "fixed"
    fixed = run_point(p)["derived"]["axial_force"]
    assert fixed == pytest.approx(-e_t * R.wall_area(R.D * g, R.DI * g) * ALPHA * d_t, rel=1e-9)
