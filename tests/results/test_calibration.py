"""The densitometer calibration rho = A(T, p) tau^2 - B(T, p) against references that are not
the code's own output: synthetic sweeps generated from known polynomials A and B (the fit
must give them back), and the built-in model at one state, where the uniform-beam law gives
A and B from the tube's stiffness and masses."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sweepgui.model import run_point
from sweepgui.results import CalibrationError, calibrate, load_dataset

from .synth import CC_ROOTS, DEMO, section, write_run

RHO = [600.0, 750.0, 900.0, 1050.0, 1200.0]
TEMPS = [283.15, 300.65, 318.15, 335.65, 353.15]
PRESSURES = [1e5, 2.575e6, 5.05e6, 7.525e6, 1e7]
T0, P0 = 318.15, 5.05e6  # the centre of TEMPS x PRESSURES

# Known polynomials in (T - T0, p - p0), by powers (i, j); each term moves the density by
# a visible amount over the grid, so every coefficient is determined to full precision.
# (The demo tube's own quadratic terms are smaller; these are of the same sign.)
TRUE_A = {(0, 0): 1.65e8, (1, 0): -2.2e6, (0, 1): -0.6, (2, 0): 130.0, (1, 1): -3.2e-2,
          (0, 2): -5.5e-9}
TRUE_B = {(0, 0): 4490.0, (1, 0): -0.15, (0, 1): -2.1e-7, (2, 0): -2.8e-3, (1, 1): -2.0e-9,
          (0, 2): -3.0e-14}


def _poly(coef, dt, dp):
    return sum(c * dt**i * dp**j for (i, j), c in coef.items())


def _truncate(coef, order, powers=((0, 0), (1, 0), (0, 1), (2, 0), (1, 1), (0, 2))):
    return {k: v for k, v in coef.items() if sum(k) <= order and k in powers}


def _law(a_coef, b_coef, t0=T0, p0=P0):
    """A result maker: f1 from rho = A tau^2 - B, solved for tau (f2 = 2.76 f1, not used)."""
    def result(params):
        rho = params["fluid"]["density"]
        dt = params["state"]["temperature"] - t0
        dp = params["state"]["pressure"] - p0
        tau = math.sqrt((rho + _poly(b_coef, dt, dp)) / _poly(a_coef, dt, dp))
        return {"fluid": {"density": rho, "speed_of_sound": None},
                "natural_frequencies": [1 / tau, 2.756 / tau], "stable": True,
                "model": {"name": "synthetic-law", "version": "1"}}
    return result


def _grid(tmp_path, result, temps=TEMPS, pressures=PRESSURES, rho=RHO, **kw):
    dims = [("fluid.density", {"fluid.density": rho})]
    if temps is not None:
        dims.append(("state.temperature", {"state.temperature": temps}))
    if pressures is not None:
        dims.append(("state.pressure", {"state.pressure": pressures}))
    return load_dataset(write_run(tmp_path, dims, result=result, **kw), with_spectra=False)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_the_fit_recovers_known_polynomials_of_its_order(tmp_path, order):
    a, b = _truncate(TRUE_A, order), _truncate(TRUE_B, order)
    ds = _grid(tmp_path, _law(a, b))
    cal = calibrate(ds, mode=1, order=order)
    assert cal.reference == {"state.temperature": T0, "state.pressure": P0}
    assert cal.variables == ("state.temperature", "state.pressure")
    names = {f"A_{i}{j}" for i, j in a} | {f"B_{i}{j}" for i, j in b}
    assert set(cal.coefficients) == names
    for (i, j), value in a.items():
        assert cal.coefficients[f"A_{i}{j}"].value == pytest.approx(value, rel=1e-9)
    for (i, j), value in b.items():
        assert cal.coefficients[f"B_{i}{j}"].value == pytest.approx(value, rel=1e-9)
    assert cal.residual_max < 1e-9 and cal.residual_rms < 1e-9
    assert 1 <= cal.condition < 1e4
    # residuals: a DataArray over the sweep's own axes, in kg/m3
    assert cal.residuals.dims == ("fluid.density", "state.temperature", "state.pressure")
    assert cal.residuals.shape == (5, 5, 5) and cal.residuals.attrs["units"] == "kg/m3"
    assert list(cal.residuals["state.pressure"].values) == PRESSURES


def test_units_terms_and_formula(tmp_path):
    cal = calibrate(_grid(tmp_path, _law(TRUE_A, TRUE_B)), order=2)
    c = cal.coefficients
    assert (c["A_00"].unit, c["A_10"].unit, c["A_01"].unit) == (
        "kg/(m3 s2)", "kg/(m3 s2 K)", "kg/(m3 s2 Pa)")
    assert (c["A_20"].unit, c["A_11"].unit, c["B_02"].unit) == (
        "kg/(m3 s2 K2)", "kg/(m3 s2 K Pa)", "kg/(m3 Pa2)")
    assert (c["B_00"].unit, c["B_10"].unit) == ("kg/m3", "kg/(m3 K)")
    assert c["A_11"].term == "(T - T0)*(p - p0)" and c["B_20"].term == "(T - T0)^2"
    f = cal.formula
    assert "A(T, p)*tau^2 - B(T, p)" in f and "tau = 1/f1" in f
    assert "A_11*(T - T0)*(p - p0)" in f and "T0 = 318.15 K" in f and "p0 = 5.05e+06 Pa" in f


def test_an_order_beyond_the_data_finds_zero_for_the_extra_terms(tmp_path):
    a, b = _truncate(TRUE_A, 1), _truncate(TRUE_B, 1)
    cal = calibrate(_grid(tmp_path, _law(a, b)), order=2)
    for name in ("A_20", "A_11", "A_02"):
        c = cal.coefficients[name]
        # relative to what the term could contribute over the grid
        span = 35.0 ** c.powers[0] * 4.95e6 ** c.powers[1]
        assert abs(c.value) * span < 1e-9 * TRUE_A[(0, 0)]
    assert cal.residual_max < 1e-9


def test_a_reference_off_the_centre(tmp_path):
    """Polynomials written about (300.65 K, 1 bar) are recovered about that state."""
    t0, p0 = 300.65, 1e5
    a, b = _truncate(TRUE_A, 2), _truncate(TRUE_B, 2)
    ds = _grid(tmp_path, _law(a, b, t0, p0))
    cal = calibrate(ds, order=2, reference={"state.temperature": t0, "state.pressure": p0})
    assert cal.reference == {"state.temperature": t0, "state.pressure": p0}
    for (i, j), value in a.items():
        assert cal.coefficients[f"A_{i}{j}"].value == pytest.approx(value, rel=1e-9)
    for (i, j), value in b.items():
        assert cal.coefficients[f"B_{i}{j}"].value == pytest.approx(value, rel=1e-9)
    # the uncompensated instrument is calibrated exactly at that grid state
    assert cal.uncompensated["state"] == {"state.temperature": t0, "state.pressure": p0}
    assert cal.uncompensated["coefficients"]["A_00"]["value"] == pytest.approx(a[(0, 0)], rel=1e-9)


def test_uncompensated_residuals_are_the_reference_calibration_applied_everywhere(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B))
    cal = calibrate(ds, order=2)
    # reference: order 0 at (T0, p0) is exactly A(T0, p0) = A_00, B(T0, p0) = B_00
    a0, b0 = TRUE_A[(0, 0)], TRUE_B[(0, 0)]
    r = cal.uncompensated_residuals
    for k, rho in enumerate(RHO):
        for m, t in enumerate(TEMPS):
            for n, p in enumerate(PRESSURES):
                dt, dp = t - T0, p - P0
                tau2 = (rho + _poly(TRUE_B, dt, dp)) / _poly(TRUE_A, dt, dp)
                assert r.values[k, m, n] == pytest.approx(a0 * tau2 - b0 - rho, abs=1e-7)
    assert cal.uncompensated["points"] == 5
    ref = np.abs(r.values).max()
    assert cal.uncompensated_max == pytest.approx(ref) and ref > 100  # this law moves a lot
    assert abs(r.sel({"state.temperature": T0, "state.pressure": P0})).max() < 1e-8


def test_the_nearest_grid_state_when_the_reference_is_off_the_grid(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B))
    cal = calibrate(ds, order=1, reference={"state.temperature": 305.0, "state.pressure": 2e6})
    assert cal.uncompensated["state"] == {"state.temperature": 300.65, "state.pressure": 2.575e6}


def test_predict_broadcasts_like_numpy(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B))
    cal = calibrate(ds, order=2)
    f = np.array([180.0, 190.0, 200.0])[:, None]
    t = np.array([290.0, 310.0, 330.0, 350.0])
    got = cal.predict(f, t, 3e6)
    assert got.shape == (3, 4)
    want = _poly(TRUE_A, t - T0, 3e6 - P0) / f**2 - _poly(TRUE_B, t - T0, 3e6 - P0)
    np.testing.assert_allclose(got, want, rtol=1e-10)
    # defaults: the reference state; a scalar in, a float out
    one = cal.predict(200.0)
    assert isinstance(one, float)
    assert one == pytest.approx(TRUE_A[(0, 0)] / 200.0**2 - TRUE_B[(0, 0)], rel=1e-10)


def test_to_json_is_plain_json(tmp_path):
    cal = calibrate(_grid(tmp_path, _law(TRUE_A, TRUE_B)), order=2)
    doc = json.loads(json.dumps(cal.to_json(), allow_nan=False))
    assert {"mode", "order", "reference", "coefficients", "formula", "condition", "residual",
            "points"} <= set(doc)
    assert doc["points"] == 125 and doc["order"] == 2 and doc["mode"] == 1
    assert doc["coefficients"]["A_10"]["unit"] == "kg/(m3 s2 K)"
    assert set(doc["residual"]) >= {"uncompensated_max", "compensated_max", "compensated_rms", "unit"}


def test_only_temperature_swept(tmp_path):
    """Pressure fixed: A and B are polynomials in T alone."""
    a = {(0, 0): 1.6e8, (1, 0): -2.0e6, (2, 0): 150.0}
    b = {(0, 0): 4500.0, (1, 0): -0.2, (2, 0): -3e-3}
    ds = _grid(tmp_path, _law(a, b, 318.15, 1e5), pressures=None)
    cal = calibrate(ds, order=2)
    assert cal.variables == ("state.temperature",)
    assert set(cal.coefficients) == {"A_00", "A_10", "A_20", "B_00", "B_10", "B_20"}
    assert cal.reference == {"state.temperature": 318.15, "state.pressure": 1e5}
    assert cal.coefficients["A_20"].value == pytest.approx(150.0, rel=1e-9)
    assert "A(T)*tau^2" in cal.formula and "not compensated (not swept): p = 100000 Pa" in cal.formula


def test_a_coarse_grid_is_flagged(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B), temps=TEMPS[::2], pressures=PRESSURES[::2])
    cal = calibrate(ds, order=2)
    assert any("state.temperature has 3 values" in n and "understates" in n for n in cal.notes)


# -- refusals: a ValueError naming the reason -------------------------------------------
def test_too_few_densities(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B), rho=[900.0, 1000.0])
    with pytest.raises(CalibrationError, match="2 values.*at least 3 densities"):
        calibrate(ds)
    assert issubclass(CalibrationError, ValueError)


def test_an_order_the_states_cannot_resolve(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B), temps=[293.15, 313.15], pressures=None)
    assert calibrate(ds, order=1).residual_max < 1e-6   # 2 terms from 2 states: fine
    with pytest.raises(CalibrationError, match=r"order 2 needs 3 terms.*only 2 distinct states"):
        calibrate(ds, order=2)


def test_states_on_a_line_are_rank_deficient(tmp_path):
    """Temperature and pressure zipped: 3 states for 3 terms, but on a line."""
    dims = [("fluid.density", {"fluid.density": RHO}),
            ("pt", {"state.temperature": [283.15, 318.15, 353.15],
                    "state.pressure": [1e5, 5.05e6, 1e7]})]
    ds = load_dataset(write_run(tmp_path, dims, result=_law(TRUE_A, TRUE_B)), with_spectra=False)
    with pytest.raises(CalibrationError, match="rank-deficient"):
        calibrate(ds, order=1)


def test_failed_points_are_named(tmp_path):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B), statuses={7: "failed", 30: "cancelled"})
    with pytest.raises(CalibrationError) as info:
        calibrate(ds, order=1)
    msg = str(info.value)
    assert "2 of 125 points have no result" in msg
    assert "fluid.density=600, state.temperature=300.65, state.pressure=5.05e+06 (failed" in msg
    assert "fluid.density=750, state.temperature=300.65, state.pressure=100000 (cancelled" in msg


def test_unstable_points_are_named(tmp_path):
    law = _law(TRUE_A, TRUE_B)

    def result(params):
        r = law(params)
        r["stable"] = params["state"]["temperature"] < 350
        return r
    ds = _grid(tmp_path, result)
    with pytest.raises(CalibrationError, match=r"25 points are beyond divergence.*state.temperature=353.15"):
        calibrate(ds)


@pytest.mark.parametrize("kwargs, words", [
    ({"mode": 3}, "modes 1..2"),
    ({"order": -1}, "order -1"),
    ({"order": 1.5}, "order 1.5"),
    ({"reference": {"state.temperature": "warm"}}, "expected a number"),
    ({"reference": {"fluid.density": 1000.0}}, "reference fluid.density"),
])
def test_bad_arguments(tmp_path, kwargs, words):
    ds = _grid(tmp_path, _law(TRUE_A, TRUE_B), temps=TEMPS[:2], pressures=None)
    with pytest.raises(CalibrationError, match=words):
        calibrate(ds, **kwargs)


def test_another_swept_parameter_is_refused(tmp_path):
    dims = [("fluid.density", {"fluid.density": RHO}), ("pipe.length", {"pipe.length": [0.4, 0.5]})]
    ds = load_dataset(write_run(tmp_path, dims, result=_law(TRUE_A, TRUE_B)), with_spectra=False)
    with pytest.raises(CalibrationError, match="pipe.length is swept too"):
        calibrate(ds, order=0)


# -- the built-in model: the uniform-beam law ---------------------------------------------
def test_order_0_on_the_model_is_the_uniform_beam_law(tmp_path):
    """Euler-Bernoulli, clamped-clamped, at the material's reference temperature and ambient
    pressure (no thermal or pressure effect): f1 = (b1 L)^2/(2 pi L^2) sqrt(EI/(m_t + rho A_f)),
    so rho = A tau^2 - B with A = (b1 L)^4 E I / (4 pi^2 L^4 A_f) and B = m_t / A_f."""
    fixed = {"analysis.theory": "euler-bernoulli", "analysis.elements": 80, "analysis.modes": 2,
             "analysis.frequencies": 2, "state.temperature": 293.15, "state.pressure": 1e5}
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": RHO})],
                                fixed=fixed, result=run_point,
                                model={"name": "sweepgui-pipe", "version": "1.0.0", "kind": "builtin",
                                       "source_hash": "x"}), with_spectra=False)
    cal = calibrate(ds, mode=1, order=0)
    s = section(DEMO)
    e, L = DEMO["material"]["youngs_modulus"], DEMO["pipe"]["length"]
    a_ref = CC_ROOTS[0] ** 4 * e * s["I"] / (4 * math.pi**2 * L**4 * s["A_f"])
    b_ref = DEMO["material"]["density"] * s["A_t"] / s["A_f"]
    assert cal.coefficients["A_00"].value == pytest.approx(a_ref, rel=1e-3)
    assert cal.coefficients["B_00"].value == pytest.approx(b_ref, rel=1e-3)
    assert cal.variables == () and cal.residual_max < 1e-6 * 1200
    assert cal.uncompensated_max == pytest.approx(cal.residual_max, abs=1e-9)
    with pytest.raises(CalibrationError, match="varies neither"):
        calibrate(ds, order=1)
