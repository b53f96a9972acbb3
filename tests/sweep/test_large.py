"""Large sweeps: 10,000 points build; past the planning limit (MAX_POINTS) a sweep is refused
at once, naming the limit and what to do."""

import pytest

from sweepgui.sweep import loads_sweep


def test_ten_thousand_points():
    s = loads_sweep('[fixed]\nmaterial.name = "Hastelloy C-22"\n'
                    '[variable]\n"fluid.density" = { linspace = [900.0, 1098.0, 100] }\n'
                    '"state.temperature" = { arange = [280.0, 290.0, 0.1] }\n')
    assert s.shape == (100, 100)
    points = s.points()
    assert len(points) == 10_000
    first, last = points[0], points[-1]
    assert (first.fluid.density, first.state.temperature) == (900.0, 280.0)
    assert (last.fluid.density, last.state.temperature) == (1098.0, 289.9)
    assert points[101].fluid.density == 902.0 and points[101].state.temperature == 280.1
    assert points[5050].state.temperature == 285.0 and points[5050].fluid.density == 1000.0
    assert last.material.youngs_modulus == 206e9 and last.material.name == "Hastelloy C-22"
    assert s.coordinates(9999) == {"fluid.density": 1098.0, "state.temperature": 289.9}
    # a second call builds fresh objects (the first was handed over from the load's check)
    assert s.points()[5050] == points[5050] and s.points()[5050] is not points[5050]


MILLION = ('[variable]\n"fluid.density" = { linspace = [900.0, 1100.0, 1000] }\n'
           '"state.temperature" = { linspace = [280.0, 360.0, 1000] }\n')


def test_a_million_points_are_refused_at_once_with_the_limit_named(tmp_path, monkeypatch):
    """Planning evaluates every point's store path: past MAX_POINTS it cannot fit the budget
    (30 s, 2 GB), so the file is refused when it loads, before any value is expanded."""
    from sweepgui.sweep import MAX_POINTS, SweepError, VariableSpec, load_sweep

    path = tmp_path / "huge.toml"
    path.write_text("# a million points\n" + MILLION)
    monkeypatch.setattr(VariableSpec, "expand", lambda self: pytest.fail("values were expanded"))
    with pytest.raises(SweepError) as info:
        load_sweep(path)
    err = info.value
    assert (err.file, err.line, err.section) == (str(path), 2, "variable")
    text = str(err)
    assert "1,000,000 points = 1,000 (fluid.density) x 1,000 (state.temperature)" in text
    assert f"limit of {MAX_POINTS:,} points" in text and "Split it into sweeps" in text


def test_the_limit_itself_loads_and_zips_do_not_multiply():
    from sweepgui.sweep import MAX_POINTS, SweepError

    side = MAX_POINTS // 100
    s = loads_sweep(f'[variable]\n"fluid.density" = {{ linspace = [900.0, 1100.0, 100] }}\n'
                    f'"state.temperature" = {{ linspace = [280.0, 360.0, {side}] }}\n')
    assert s.size == MAX_POINTS and s.points()[MAX_POINTS - 1].state.temperature == 360.0
    zipped = loads_sweep(f'[variable]\n"state.pressure" = {{ linspace = [1e5, 2e5, {side}] }}\n'
                         f'"state.temperature" = {{ linspace = [280.0, 360.0, {side}] }}\n'
                         '"fluid.density" = { linspace = [900.0, 1100.0, 100] }\n'
                         '[zip]\npt = ["state.pressure", "state.temperature"]\n')
    assert zipped.size == MAX_POINTS
    with pytest.raises(SweepError, match=f"{MAX_POINTS + side:,} points"):
        loads_sweep(f'[variable]\n"fluid.density" = {{ linspace = [900.0, 1100.0, 101] }}\n'
                    f'"state.temperature" = {{ linspace = [280.0, 360.0, {side}] }}\n')
