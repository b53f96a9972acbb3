"""Fluid properties from CoolProp (real CoolProp, no mocks)."""

from __future__ import annotations

import pytest

from sweepgui.model import ModelError, run_point
from sweepgui.params import ParameterError

FAST = {"analysis": {"elements": 4, "modes": 2, "frequencies": 2}}


def test_water_density_at_20_degC_and_1_bar_is_iapws95():
    # IAPWS-95 (Wagner & Pruss 2002), liquid water at 293.15 K and 0.1 MPa: 998.2065 kg/m3.
    r = run_point({**FAST, "state": {"pressure": 1.0e5, "temperature": 293.15}})
    assert r["fluid"]["density"] == pytest.approx(998.2065, abs=1e-3)
    assert r["parameters"]["fluid"]["density"] is None  # stays as given: from the EOS
    # speed of sound of water there, IAPWS-95: 1482.3 m/s
    assert r["fluid"]["speed_of_sound"] == pytest.approx(1482.3, abs=0.1)
    m_f = r["derived"]["fluid_mass_per_length"]
    assert m_f == pytest.approx(998.2065 * 3.14159265358979 / 4 * 0.008**2, rel=1e-6)


def test_a_given_density_overrides_the_eos():
    r = run_point({**FAST, "fluid": {"name": "Water", "density": 500.0}})
    assert r["fluid"] == {"density": 500.0, "speed_of_sound": None}


def test_unknown_fluid_names_the_field():
    with pytest.raises(ParameterError) as info:
        run_point({**FAST, "fluid": {"name": "Unobtainium"}})
    assert [path for path, _ in info.value.problems] == ["fluid.name"]
    assert "Unobtainium" in str(info.value)


def test_state_the_eos_cannot_handle_is_a_model_error():
    # water below its melting line at 1 bar: outside the validity of the equation of state
    with pytest.raises(ModelError, match="Water"):
        run_point({**FAST, "state": {"temperature": 150.0}})
