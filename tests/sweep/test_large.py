"""A 10,000-point sweep builds (the performance budget re-opens one in 3 s end to end)."""

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
