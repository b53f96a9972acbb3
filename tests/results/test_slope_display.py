"""The slope at one grid point (one rule for the CLI and the app) against exact derivatives,
and the display units the app shows values in (files stay SI)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sweepgui.results import load_dataset, sensitivities
from sweepgui.results.display import (
    axis_label,
    display_unit,
    format_value,
    spans_decades,
)
from sweepgui.results.slope import gradient_at, slope_at

from . import synth

A, B = 100.0, 1.0e-12          # f = a + b p^2: df/dp = 2 b p
P = np.array([1.0e5, 1.0e6, 1.0e7])  # logspace 5..7, 3 values


def test_slope_at_the_centre_of_a_logspace_grid_is_the_exact_derivative():
    f = A + B * P**2
    value, unit = slope_at(f, P, 1, "state.pressure")
    assert unit == "Hz/bar"
    assert value == pytest.approx(2 * B * 1.0e6 * 1.0e5, rel=1e-12)   # 2e-6 Hz/Pa = 0.2 Hz/bar
    # the secant between the neighbours would be ~5x too large here
    secant = (f[2] - f[0]) / (P[2] - P[0])
    assert secant == pytest.approx(1.0101e-5, rel=1e-4) and secant / 2e-6 > 5
    # per SI unit, and one-sided next to a missing point
    assert gradient_at(f, P, 1) == pytest.approx(2e-6, rel=1e-12)
    g = gradient_at(np.array([np.nan, f[1], f[2]]), P, 1)
    assert g == pytest.approx((f[2] - f[1]) / (P[2] - P[1]), rel=1e-12)
    assert math.isnan(gradient_at(np.array([np.nan, f[1], np.nan]), P, 1))


def test_the_cli_sensitivity_uses_the_same_rule(tmp_path):
    def result(params):
        r = synth.beam_result(params)
        r["natural_frequencies"] = [A + B * params["state"]["pressure"] ** 2]
        return r
    state = synth.write_run(tmp_path, [("state.pressure", {"state.pressure": list(P)})],
                            fixed={"fluid.density": 998.0}, result=result)
    s = sensitivities(load_dataset(state), allow_model=False)
    row = next(x for x in s if x.parameter == "state.pressure")
    assert row.unit == "Hz/bar"
    assert row.value == pytest.approx(0.2, rel=1e-12)
    assert row.value == slope_at(A + B * P**2, P, 1, "state.pressure")[0]


def test_display_units():
    bar, celsius = display_unit("state.pressure"), display_unit("state.temperature")
    assert (bar.name, bar.to_display(1.1e6), bar.to_si(11.0)) == ("bar", 11.0, 1.1e6)
    assert celsius.name == "°C" and not celsius.ratio_scale
    assert format_value(293.15, celsius) == "20" and format_value(283.15, celsius, with_unit=True) == "10 °C"
    assert format_value(1.1e6, bar, with_unit=True) == "11 bar"
    assert display_unit("material.youngs_modulus").name == "GPa"
    assert display_unit("fluid.density").name == "kg/m3"
    assert format_value("clamped-free", bar) == "clamped-free" and format_value(None) == "eos"
    assert axis_label("state.pressure") == "state.pressure (bar)"
    assert axis_label("material.poisson_ratio") == "material.poisson_ratio"


def test_log_scale_when_positive_values_span_two_decades():
    assert spans_decades([1e5, 1e6, 1e7])
    assert spans_decades([1.0, 100.0])
    assert not spans_decades([1.0, 99.0])
    assert not spans_decades([700.0, 1150.0])
    assert not spans_decades([-1.0, 100.0]) and not spans_decades([0.0, 1e3])
    assert not spans_decades(["a", "b"]) and not spans_decades([5.0])
