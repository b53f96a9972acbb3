"""Beam theory: the FE tube against closed-form Euler-Bernoulli and Timoshenko results."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweepgui.model import run_point
from tests.model import _refs as R

# beta_n L of uniform Euler-Bernoulli beams (Blevins, Formulas for Natural Frequency and Mode
# Shape, Table 8-1; also Meirovitch, Elements of Vibration Analysis).
ROOTS = {
    "clamped-clamped": [4.730041, 7.853205, 10.995608, 14.137165],
    "pinned-pinned": [math.pi, 2 * math.pi, 3 * math.pi, 4 * math.pi],
    "clamped-free": [1.875104, 4.694091, 7.854757, 10.995541],
    "clamped-pinned": [3.926602, 7.068583, 10.210176, 13.351768],
}


@pytest.mark.parametrize("bc", list(ROOTS))
def test_euler_bernoulli_roots(bc):
    f = run_point(R.tube(bc))["natural_frequencies"]
    ref = [R.eb_frequency(b) for b in ROOTS[bc]]
    assert len(f) == 4
    np.testing.assert_allclose(f, ref, rtol=5e-4)  # 0.05 %



@pytest.mark.parametrize("bc", list(ROOTS))
def test_the_empty_tube_is_the_tube_alone(bc):
    # fluid.density = 0: the empty tube, a densitometer's reference state. Its frequencies
    # are the bare pipe's, m = rho_t A_t (Blevins, Table 8-1); flow of nothing adds nothing.
    for flow in (0.0, 20.0):
        p = R.tube(bc, fluid={"density": 0.0}, state={"flow_velocity": flow})
        r = run_point(p)
        ref = [R.eb_frequency(b, mass=R.RHO * R.wall_area()) for b in ROOTS[bc]]
        np.testing.assert_allclose(r["natural_frequencies"], ref, rtol=5e-4)
        assert r["fluid"]["density"] == 0.0 and r["stable"] is True

def test_timoshenko_approaches_euler_bernoulli_for_a_slender_tube():
    # L/D = 200: shear and rotary inertia change the first three modes by well under 0.5 %
    # (the correction grows like (n D / L)^2: at L/D = 100 mode 3 is already 0.5 % lower).
    length = 2.0
    p = R.tube("clamped-clamped", theory="timoshenko", pipe={"length": length})
    f = run_point(p)["natural_frequencies"][:3]
    ref = [R.eb_frequency(b, length=length) for b in ROOTS["clamped-clamped"][:3]]
    np.testing.assert_allclose(f, ref, rtol=5e-3)
    np.testing.assert_allclose(f[0], ref[0], rtol=5e-4)
    assert all(fi < ri for fi, ri in zip(f, ref))  # Timoshenko is always the softer theory


@pytest.mark.parametrize("length", [0.05, 0.03])
def test_timoshenko_short_thick_tube_against_the_closed_form(length):
    # Elements much shorter than the shear length sqrt(12 EI / kGA) (~25 mm here) behave like
    # shear-beam elements, whose frequencies converge as h^2: 80 elements for 1e-3.
    p = R.tube("pinned-pinned", theory="timoshenko", elements=80, pipe={"length": length},
               analysis={"modes": 3})
    f = run_point(p)["natural_frequencies"]
    ref = [R.timoshenko_pp(n, length) for n in (1, 2, 3)]
    np.testing.assert_allclose(f, ref, rtol=1e-3)
    np.testing.assert_allclose(f[0], ref[0], rtol=1e-4)
    eb = [R.eb_frequency(n * math.pi, length=length) for n in (1, 2, 3)]
    # L/D = 5 or 3: clearly below Euler-Bernoulli (by 10 % and more for the first mode).
    assert f[0] < 0.92 * eb[0] and f[2] < 0.7 * eb[2]


@pytest.mark.parametrize("theory", ["euler-bernoulli", "timoshenko"])
def test_static_compliance_at_mid_span_of_a_clamped_clamped_tube(theory):
    p = R.tube("clamped-clamped", theory=theory, elements=40,
               analysis={"f_min": 0.0, "f_max": 1.0, "damping_ratio": 0.0})
    r = run_point(p)
    ei = R.E * R.second_moment()
    ref = R.L**3 / (192 * ei)  # Roark, Table 8.1 case 1d: y = W L^3 / (192 EI)
    if theory == "timoshenko":
        # plus the shear deflection of each half span carrying W/2: W L / (4 kappa G A)
        ref += R.L / (4 * R.cowper() * R.E / (2 * (1 + R.NU)) * R.wall_area())
    assert r["spectrum"]["frequency"][0] == 0.0
    assert r["spectrum"]["magnitude"][0] == pytest.approx(ref, rel=1e-6)
    assert r["spectrum"]["phase"][0] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("theory,rtol", [("euler-bernoulli", 1e-7), ("timoshenko", 5e-4)])
def test_fluid_added_mass_scales_frequency(theory, rtol):
    rho_f = 1000.0
    dry = run_point(R.tube("clamped-pinned", theory=theory))["natural_frequencies"]
    wet = run_point(R.tube("clamped-pinned", theory=theory,
                           fluid={"density": rho_f}))["natural_frequencies"]
    m_t, m_f = R.RHO * R.wall_area(), rho_f * R.bore_area()
    ratio = math.sqrt(m_t / (m_t + m_f))
    np.testing.assert_allclose(np.array(wet) / np.array(dry), ratio, rtol=rtol)


def test_demo_point_resonance_peak_and_phase():
    """Demo defaults with a given density: first resonance inside the band, phase -pi/2 there."""
    r = run_point({"fluid": {"density": 998.2}})
    f1 = r["natural_frequencies"][0]
    freq = np.array(r["spectrum"]["frequency"])
    mag = np.array(r["spectrum"]["magnitude"])
    assert len(freq) == 4001 and freq[0] == 0.0 and freq[-1] == 2000.0
    i = int(np.argmax(mag[freq < 400]))
    assert freq[i] == pytest.approx(f1, abs=0.5)
    # a mid-span drive cannot excite the antisymmetric mode 2: no peak there
    j = int(np.argmin(abs(freq - r["natural_frequencies"][1])))
    assert mag[j] < 1e-3 * mag[i]
    # receptance phase: in phase with the force well below f1, in opposition just above it
    phase = np.array(r["spectrum"]["phase"])
    below, above = np.argmin(abs(freq - 0.5 * f1)), np.argmin(abs(freq - 1.2 * f1))
    assert abs(phase[below]) < 0.01 and abs(phase[above]) > math.pi - 0.05
    assert r["stable"] is True and r["fluid"]["speed_of_sound"] is None


@pytest.mark.parametrize("f_max", [500.0, 2e5])
def test_fine_mesh_keeps_the_static_compliance_and_the_roots(f_max):
    # 250 elements: only the low modes are computed and the rest enter the spectrum through
    # their static flexibility, which must keep the 0 Hz value exact. A band to 200 kHz needs
    # the modes up to 2 MHz: most of the mesh's, which a dense solver then gives.
    p = R.tube("clamped-clamped", elements=250,
               analysis={"f_min": 0.0, "f_max": f_max, "frequencies": 3})
    r = run_point(p)
    ei = R.E * R.second_moment()
    assert r["spectrum"]["magnitude"][0] == pytest.approx(R.L**3 / (192 * ei), rel=1e-6)
    ref = [R.eb_frequency(b) for b in ROOTS["clamped-clamped"]]
    np.testing.assert_allclose(r["natural_frequencies"], ref, rtol=5e-4)


@pytest.mark.parametrize("bc", list(ROOTS))
def test_a_fine_euler_bernoulli_mesh_meets_the_closed_form_to_nine_digits(bc):
    # Hermite elements converge as h^4: 2000 elements leave ~1e-12 of discretisation error, so
    # what remains is the solver's. (The dense solver of the past lost up to 0.2 % here to
    # cancellation in the stiffness of tiny elements.)
    f = run_point(R.tube(bc, elements=2000))["natural_frequencies"]
    ref = [R.eb_frequency(R.eb_root(bc, n)) for n in (1, 2, 3, 4)]
    np.testing.assert_allclose(f, ref, rtol=1e-9)
