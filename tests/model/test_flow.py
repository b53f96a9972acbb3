"""Pipe conveying fluid (Paidoussis): divergence velocity and the centrifugal softening."""

from __future__ import annotations

import math

import pytest

from sweepgui.model import run_point
from tests.model import _refs as R

# Dimensionless divergence velocity u_c = U L sqrt(M / EI) of a pipe conveying fluid with
# supported ends, independent of the mass ratio (Paidoussis, Fluid-Structure Interactions
# vol. 1, 2nd ed., sec. 3.3: pi for pinned-pinned, 2 pi for clamped-clamped).
DIVERGENCE = {"pinned-pinned": math.pi, "clamped-clamped": 2 * math.pi}


def critical_velocity(bc: str, rho_f: float, u_guess: float) -> float:
    lo, hi = 0.8 * u_guess, 1.2 * u_guess
    for _ in range(20):  # bracket width 0.4 * 2^-20: about 4e-7 relative
        mid = 0.5 * (lo + hi)
        p = R.tube(bc, elements=30, fluid={"density": rho_f}, state={"flow_velocity": mid},
                   analysis={"frequencies": 2, "modes": 2})
        if run_point(p)["stable"]:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


@pytest.mark.parametrize("bc", list(DIVERGENCE))
@pytest.mark.parametrize("rho_f", [100.0, 1000.0, 20000.0])  # mass ratio M/(m+M): 0.02 to 0.82
def test_divergence_velocity(bc, rho_f):
    m_f = rho_f * R.bore_area()
    ei = R.E * R.second_moment()
    u_ref = DIVERGENCE[bc] / R.L * math.sqrt(ei / m_f)
    u_c = critical_velocity(bc, rho_f, u_ref)
    assert u_c == pytest.approx(u_ref, rel=1e-5)  # as the README states


def test_flow_softens_like_an_axial_compression_at_zero_frequency():
    # At omega = 0 the Coriolis term vanishes and M U^2 acts as a compression P = M U^2.
    # Mid-span deflection of a pinned-pinned beam-column under a central load W and axial
    # compression P (Timoshenko & Gere, Theory of Elastic Stability, eq. 1-11):
    # y = W L^3 / (48 EI) * 3 (tan u - u) / u^3, u = (L/2) sqrt(P / EI).
    rho_f = 1000.0
    m_f = rho_f * R.bore_area()
    ei = R.E * R.second_moment()
    p_comp = 0.5 * math.pi**2 * ei / R.L**2
    velocity = math.sqrt(p_comp / m_f)
    p = R.tube("pinned-pinned", elements=40, fluid={"density": rho_f},
               state={"flow_velocity": velocity},
               analysis={"f_min": 0.0, "f_max": 50.0, "damping_ratio": 0.02})
    r = run_point(p)
    u = R.L / 2 * math.sqrt(p_comp / ei)
    ref = R.L**3 / (48 * ei) * 3 * (math.tan(u) - u) / u**3
    assert r["stable"] is True
    assert r["spectrum"]["magnitude"][0] == pytest.approx(ref, rel=1e-5)


def test_cantilever_with_flow_never_crashes_and_loses_stability_at_high_speed():
    m_t = R.RHO * R.wall_area()
    m_f = m_t * 0.25  # mass ratio 0.2
    rho_f = m_f / R.bore_area()
    ei = R.E * R.second_moment()
    results = []
    for u in (2.0, 4.0, 12.0, 20.0):
        p = R.tube("clamped-free", elements=30, fluid={"density": rho_f},
                   state={"flow_velocity": u / R.L * math.sqrt(ei / m_f)},
                   analysis={"f_max": 200.0, "frequencies": 201})
        r = run_point(p)
        assert len(r["natural_frequencies"]) == 4
        assert all(math.isfinite(x) for x in r["spectrum"]["magnitude"] + r["spectrum"]["phase"])
        results.append(r["stable"])
    # Flutter of the cantilever (Gregory & Paidoussis 1966) lies between u = 4 and 12 here.
    assert results == [True, True, False, False]
