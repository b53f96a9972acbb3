"""Sensitivities on synthetic runs whose frequencies follow closed-form beam laws, so that
every derivative has an analytic reference (computed here, independently of the code)."""

import math

import numpy as np
import pytest

from sweepgui.results import load_dataset, sensitivities

from .synth import DEMO, beam_frequencies, section, write_run

NU = DEMO["material"]["poisson_ratio"]


def _params(**over):
    p = {g: dict(v) for g, v in DEMO.items()}
    for path, v in over.items():
        g, n = path.split(".")
        p[g][n] = v
    return p


def _dfdrho(params):
    """Uniform beam: f ~ m^-1/2, m = rho_t A_t + rho_f A_f => df/drho = -f A_f / (2 m)."""
    s = section(params)
    m = params["material"]["density"] * s["A_t"] + params["fluid"]["density"] * s["A_f"]
    return [-f * s["A_f"] / (2 * m) for f in beam_frequencies(params)]


def _by(result, parameter, mode):
    (s,) = [s for s in result if s.parameter == parameter and s.mode == mode]
    return s


def test_density_sensitivity_on_a_non_uniform_grid(tmp_path):
    rho = [600.0, 850.0, 990.0, 1000.0, 1012.0, 1200.0, 1500.0]
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": rho})]))
    for at in (990.0, 1000.0, 1012.0):
        res = sensitivities(ds, at={"fluid.density": at})
        ref = _dfdrho(_params(**{"fluid.density": at}))
        for mode in (1, 2, 3, 4):
            s = _by(res, "fluid.density", mode)
            assert s.value == pytest.approx(ref[mode - 1], rel=2e-4)
            assert s.unit == "Hz/(kg/m3)" and s.relative_unit == "1/(kg/m3)"
            assert s.relative == pytest.approx(ref[mode - 1] / s.frequency, rel=2e-4)
            assert s.apparent_density_error is None
            assert s.at == {"fluid.density": at}


def test_default_point_is_the_grid_centre_and_at_picks_the_nearest(tmp_path):
    rho = [900.0, 1000.0, 1100.0, 1200.0]
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": rho})]))
    assert sensitivities(ds).at == {"fluid.density": 1000.0}
    assert sensitivities(ds, at={"fluid.density": 1160.0}).at == {"fluid.density": 1200.0}
    only = sensitivities(ds, mode=2)
    assert {s.mode for s in only} == {2}
    with pytest.raises(ValueError, match="state.pressure.*not a swept parameter"):
        sensitivities(ds, at={"state.pressure": 2e5})
    with pytest.raises(ValueError, match="modes 1..4"):
        sensitivities(ds, mode=7)


def test_pressure_on_a_pinned_beam_with_fixed_ends_follows_the_axial_load_law(tmp_path):
    """f = f0 sqrt(1 - P/P_cr), P = (1 - 2 nu) p_g A_f; df/dp analytic; apparent density error
    = (df/dp)/(df/drho) with both swept (per bar)."""
    p = [1e5, 5e5, 10e5, 20e5, 30e5, 45e5, 60e5]   # non-uniform, Pa
    rho = [980.0, 1000.0, 1020.0]
    fixed = {"pipe.boundary": "pinned-pinned", "pipe.axial_restraint": "fixed"}
    ds = load_dataset(write_run(tmp_path, [("state.pressure", {"state.pressure": p}),
                                           ("fluid.density", {"fluid.density": rho})], fixed=fixed))
    res = sensitivities(ds, at={"state.pressure": 20e5})
    prm = _params(**fixed, **{"state.pressure": 20e5, "fluid.density": 1000.0})
    s_ = section(prm)
    e, L = prm["material"]["youngs_modulus"], prm["pipe"]["length"]
    p_cr = math.pi**2 * e * s_["I"] / L**2
    force = (1 - 2 * NU) * (20e5 - 1e5) * s_["A_f"]
    dforce_dp = (1 - 2 * NU) * s_["A_f"]
    f = beam_frequencies(prm)
    for n in (1, 2):
        # f_n = f0_n sqrt(1 - P/(n^2 P_cr)) => df/dp = -f_n dP/dp / (2 n^2 P_cr (1 - P/(n^2 P_cr)))
        dfdp = -f[n - 1] * dforce_dp / (2 * n**2 * p_cr * (1 - force / (n**2 * p_cr)))
        s = _by(res, "state.pressure", n)
        assert s.unit == "Hz/bar" and s.apparent_density_error_unit == "(kg/m3)/bar"
        assert s.value == pytest.approx(dfdp * 1e5, rel=1e-3)
        assert s.relative == pytest.approx(dfdp * 1e5 / f[n - 1], rel=1e-3)
        assert s.apparent_density_error == pytest.approx(dfdp * 1e5 / _dfdrho(prm)[n - 1], rel=1e-3)
    assert res.density_derivative_source == "grid"


def test_eos_density_the_instrument_sees_is_no_error(tmp_path):
    """Density from an 'EOS' rho(p, T), not swept: if pressure only compresses the fluid (free
    ends), a densitometer reads the true density change, so the apparent error is ~0; df/drho
    then comes from the uniform-beam law (custom model) and the note says so."""
    p = [1e5, 50e5, 100e5, 150e5, 200e5]
    ds = load_dataset(write_run(tmp_path, [("state.pressure", {"state.pressure": p})]))
    res = sensitivities(ds)
    assert res.density_derivative_source == "uniform-beam formula"
    assert any("uniform-beam formula" in n for n in res.notes)
    for s in res:
        assert s.value < 0  # compressed water is heavier: the frequency drops
        # the pressure-only f(p) is f(rho(p)); the indicated density change per bar
        # equals the true one (4.6e-10/Pa * 998.2 * 1e5 ~ 0.046 kg/m3/bar) to O(h^2)
        indicated = s.value / float(res.density_derivative[s.mode - 1])
        assert indicated == pytest.approx(998.2 * 4.6e-10 * 1e5, rel=1e-3)
        assert abs(s.apparent_density_error) < 1e-4 * indicated


def test_zips_and_words_are_reported_as_notes(tmp_path):
    ds = load_dataset(write_run(tmp_path, [
        ("fluid.density", {"fluid.density": [990.0, 1000.0, 1010.0]}),
        ("pt", {"state.pressure": [1e5, 2e5], "state.temperature": [290.0, 300.0]}),
        ("pipe.boundary", {"pipe.boundary": ["clamped-clamped", "pinned-pinned"]})]))
    res = sensitivities(ds, at={"state.pressure": 2e5, "pipe.boundary": "pinned-pinned"})
    assert {s.parameter for s in res} == {"fluid.density"}
    assert res.at == {"fluid.density": 1000.0, "state.pressure": 2e5, "state.temperature": 300.0,
                      "pipe.boundary": "pinned-pinned"}
    assert any("zip 'pt'" in n for n in res.notes)
    with pytest.raises(ValueError, match="pipe.boundary=free: not one of its swept values"):
        sensitivities(ds, at={"pipe.boundary": "free"})
    ref = _dfdrho(_params(**{"pipe.boundary": "pinned-pinned", "fluid.density": 1000.0}))
    assert _by(res, "fluid.density", 1).value == pytest.approx(ref[0], rel=1e-4)


def test_failed_neighbour_uses_the_one_sided_difference(tmp_path):
    rho = [980.0, 990.0, 1000.0]
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": rho})],
                                statuses={0: "failed"}))
    s = _by(sensitivities(ds, at={"fluid.density": 990.0}), "fluid.density", 1)
    f = [beam_frequencies(_params(**{"fluid.density": r}))[0] for r in rho]
    assert s.value == pytest.approx((f[2] - f[1]) / 10.0, rel=1e-12)
    assert np.isnan(ds.natural_frequency.values[0]).all()


def test_fields_at_every_grid_point_match_the_point_values(tmp_path):
    from sweepgui.results import sensitivity_fields

    p = [1e5, 5e5, 10e5, 20e5]
    rho = [980.0, 1000.0, 1030.0]
    fixed = {"pipe.boundary": "pinned-pinned", "pipe.axial_restraint": "fixed"}
    ds = load_dataset(write_run(tmp_path, [("state.pressure", {"state.pressure": p}),
                                           ("fluid.density", {"fluid.density": rho})],
                                fixed=fixed, statuses={5: "queued"}), with_spectra=False)
    fields = sensitivity_fields(ds)
    assert fields["dfdx.state.pressure"].attrs["units"] == "Hz/bar"
    assert fields["apparent_density_error.state.pressure"].attrs["units"] == "(kg/m3)/bar"
    assert "apparent_density_error.fluid.density" not in fields
    for i, pv in enumerate(p):
        for j, rv in enumerate(rho):
            if i * 3 + j == 5:
                continue
            for s in sensitivities(ds, at={"state.pressure": pv, "fluid.density": rv}):
                name = "dfdx." + s.parameter
                got = float(fields[name].isel({"state.pressure": i, "fluid.density": j, "mode": s.mode - 1}))
                assert got == pytest.approx(s.value, rel=1e-12, nan_ok=True)
                if s.apparent_density_error is not None:
                    ade = fields["apparent_density_error.state.pressure"].isel(
                        {"state.pressure": i, "fluid.density": j, "mode": s.mode - 1})
                    assert float(ade) == pytest.approx(s.apparent_density_error, rel=1e-9, nan_ok=True)
    # the hole itself has no value; its neighbours fall back to one-sided differences
    assert np.isnan(fields["dfdx.state.pressure"].isel({"state.pressure": 1, "fluid.density": 2})).all()
    assert np.isfinite(fields["dfdx.fluid.density"].isel({"state.pressure": 1, "fluid.density": 1})).all()


def test_a_mode_blind_to_density_gives_no_density_error(tmp_path):
    def blind(params):  # a custom model whose frequency ignores the fluid
        from .synth import beam_result

        r = beam_result(params)
        r["natural_frequencies"] = [100.0 + params["state"]["pressure"] * 1e-5]
        return r
    ds = load_dataset(write_run(tmp_path, [("fluid.density", {"fluid.density": [990.0, 1000.0, 1010.0]}),
                                           ("state.pressure", {"state.pressure": [1e5, 2e5, 3e5]})],
                                result=blind))
    s = _by(sensitivities(ds), "state.pressure", 1)
    assert s.value == pytest.approx(1.0) and s.unit == "Hz/bar"
    assert math.isnan(s.apparent_density_error)
    assert s.to_dict()["apparent_density_error"] is None  # JSON: null, never NaN
