"""Sensitivities of the real built-in model (run in-process, no Nix) against beam theory.

These are the issue's physics checks on data the model computed, with references from
closed-form formulas evaluated here: df1/drho of the demo tube against the uniform-beam
result -f1 A_f / (2 m); the pressure sensitivity of a pinned-pinned tube with fixed ends
against the axial-load law f = f0 sqrt(1 - P/P_cr), P = (1 - 2 nu) p_g A_f.
"""

import math

import pytest

from sweepgui.model import MODEL_NAME, MODEL_VERSION, run_point
from sweepgui.results import load_dataset, sensitivities

from .synth import write_run

BUILTIN = {"name": MODEL_NAME, "version": MODEL_VERSION, "kind": "builtin", "source_hash": "x"}
# the demo tube (parameter defaults): 316L, OD 10 mm, wall 1 mm, 0.5 m
RHO_T, E, NU, L, D_O, WALL = 7990.0, 193e9, 0.27, 0.5, 0.010, 0.001
D_I = D_O - 2 * WALL
A_T = math.pi / 4 * (D_O**2 - D_I**2)
A_F = math.pi / 4 * D_I**2
I_SEC = math.pi / 64 * (D_O**4 - D_I**4)  # second moment of area


def _model(params):
    return run_point(params)


def test_demo_tube_density_sensitivity_matches_the_uniform_beam_result(tmp_path):
    rho = [960.0, 980.0, 1000.0, 1020.0, 1040.0]
    sd = write_run(tmp_path, [("fluid.density", {"fluid.density": rho})], result=_model,
                   fixed={"analysis.frequencies": 11, "analysis.theory": "timoshenko",
                          "analysis.elements": 40, "analysis.modes": 6}, model=BUILTIN)
    res = sensitivities(load_dataset(sd, with_spectra=False), at={"fluid.density": 1000.0})
    s = next(s for s in res if s.parameter == "fluid.density" and s.mode == 1)
    reference = -s.frequency * A_F / (2 * (RHO_T * A_T + 1000.0 * A_F))
    assert s.value == pytest.approx(reference, rel=0.01)
    assert s.unit == "Hz/(kg/m3)"


def test_pinned_tube_with_fixed_ends_follows_the_axial_load_law(tmp_path):
    bar = 1e5
    pressures = [1 * bar, 6 * bar, 11 * bar, 21 * bar, 31 * bar]   # non-uniform steps
    fixed = {"pipe.boundary": "pinned-pinned", "pipe.axial_restraint": "fixed",
             "analysis.theory": "euler-bernoulli", "analysis.frequencies": 11,
             "analysis.modes": 2, "fluid.density": 1000.0}
    sd = write_run(tmp_path, [("state.pressure", {"state.pressure": pressures})], result=_model,
                   fixed=fixed, model=BUILTIN)
    res = sensitivities(load_dataset(sd, with_spectra=False), at={"state.pressure": 11 * bar})
    s = next(s for s in res if s.parameter == "state.pressure" and s.mode == 1)

    m = RHO_T * A_T + 1000.0 * A_F
    f0 = math.pi / (2 * L**2) * math.sqrt(E * I_SEC / m)
    p_cr = math.pi**2 * E * I_SEC / L**2
    force = (1 - 2 * NU) * (11 * bar - 1 * bar) * A_F
    f = f0 * math.sqrt(1 - force / p_cr)
    dfdp = -f0**2 / (2 * f) * (1 - 2 * NU) * A_F / p_cr      # Hz/Pa
    assert s.unit == "Hz/bar"
    assert s.frequency == pytest.approx(f, rel=0.005)
    assert s.value == pytest.approx(dfdp * bar, rel=0.01)
    # density not swept: df/drho comes from re-running the built-in model at the point
    assert res.density_derivative_source == "model"
    dfdrho = -f * A_F / (2 * m)
    assert s.apparent_density_error == pytest.approx(dfdp * bar / dfdrho, rel=0.01)
    assert s.apparent_density_error_unit == "(kg/m3)/bar"


def test_density_from_the_eos_is_not_counted_as_an_error(tmp_path):
    """Water's density from CoolProp rises with pressure; a densitometer should read that.
    The apparent density error per bar must be what the same tube shows at constant
    (given) density: the two sweeps below differ only in where the density comes from."""
    pressures = [1e5, 51e5, 101e5, 151e5, 201e5]
    eos = write_run(tmp_path / "eos", [("state.pressure", {"state.pressure": pressures})], result=_model,
                    fixed={"analysis.frequencies": 11, "fluid.density": None}, model=BUILTIN)
    ds_eos = load_dataset(eos, with_spectra=False)
    rho_centre = float(ds_eos.fluid_density[2])
    assert ds_eos.fluid_density[-1] - ds_eos.fluid_density[0] > 8.0  # ~0.045 kg/m3 per bar
    given = write_run(tmp_path / "given", [("state.pressure", {"state.pressure": pressures})], result=_model,
                      fixed={"analysis.frequencies": 11, "fluid.density": rho_centre}, model=BUILTIN)
    a = sensitivities(ds_eos, mode=1)[0]
    b = sensitivities(load_dataset(given, with_spectra=False), mode=1)[0]
    assert a.value != pytest.approx(b.value, rel=0.1)   # the frequencies do see the density
    assert a.apparent_density_error == pytest.approx(b.apparent_density_error, rel=0.02)


def test_the_empty_tube_gets_its_density_slope_from_the_model(tmp_path):
    """fluid.density = 0 (the empty tube, a densitometer's reference state): df/drho there is
    the uniform-beam -f A_f / (2 m_tube), from re-running the model one-sided at rho >= 0."""
    bar = 1e5
    pressures = [1 * bar, 6 * bar, 11 * bar]
    fixed = {"pipe.boundary": "pinned-pinned", "pipe.axial_restraint": "fixed",
             "analysis.theory": "euler-bernoulli", "analysis.frequencies": 11,
             "analysis.modes": 2, "fluid.density": 0.0}
    sd = write_run(tmp_path, [("state.pressure", {"state.pressure": pressures})], result=_model,
                   fixed=fixed, model=BUILTIN)
    res = sensitivities(load_dataset(sd, with_spectra=False), at={"state.pressure": 6 * bar})
    s = next(s for s in res if s.parameter == "state.pressure" and s.mode == 1)
    m = RHO_T * A_T
    f0 = math.pi / (2 * L**2) * math.sqrt(E * I_SEC / m)
    p_cr = math.pi**2 * E * I_SEC / L**2
    f = f0 * math.sqrt(1 - (1 - 2 * NU) * 5 * bar * A_F / p_cr)
    assert s.frequency == pytest.approx(f, rel=0.005)
    assert res.density_derivative_source == "model"
    assert float(res.density_derivative[0]) == pytest.approx(-f * A_F / (2 * m), rel=0.005)
