"""One sweep point: parameters (nested dict) in, the result dict of the file contract out."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..params import ParameterError, Parameters, format_validation_error
from . import MODEL_NAME, MODEL_VERSION
from ._errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from ._beam import BeamMatrices
    from ._section import Section
    from ._solve import Solution


def validate(params: Any) -> Parameters:
    """The validated parameters (missing fields take defaults); ParameterError naming fields."""
    if not isinstance(params, dict):
        raise ParameterError([("", "the parameters must be a JSON object with the groups "
                                   f"pipe, material, fluid, state, analysis (got {type(params).__name__})")])
    try:
        return Parameters.model_validate(params)
    except ValidationError as exc:
        raise ParameterError(format_validation_error(exc)) from None


def run_point(params: dict[str, Any]) -> dict[str, Any]:
    """Compute one point. Raises ParameterError (bad input) or ModelError (cannot compute)."""
    p = validate(params)  # also: no more modes than the supports leave degrees of freedom
    an = p.analysis
    import numpy as np

    from ._section import section_at_state

    if p.fluid.density is None:
        from ._fluid import fluid_from_eos
        rho, sound = fluid_from_eos(p.fluid.name, p.state.pressure, p.state.temperature)
    else:
        rho, sound = p.fluid.density, None
    try:
        with np.errstate(all="ignore"):
            sec = section_at_state(p, rho)
            freq, sol = _compute(p, sec)
    except (ArithmeticError, np.linalg.LinAlgError) as exc:
        # e.g. a length of 1e-300 m: valid input, but beyond floating point
        raise ModelError(f"this point is beyond floating-point arithmetic ({type(exc).__name__}: "
                         f"{exc}); check the size of the geometry and material values") from None
    mag = np.abs(sol.receptance)
    phase = np.angle(sol.receptance)
    nat = sol.frequencies[:an.modes]
    if not (np.isfinite(mag).all() and np.isfinite(phase).all() and np.isfinite(nat).all()):
        raise ModelError("the spectrum is not finite for this point (an extreme combination of "
                         "parameters); check the geometry, material and mesh")
    result = {
        "parameters": p.model_dump(mode="json"),
        "fluid": {"density": float(rho), "speed_of_sound": sound},
        "natural_frequencies": nat.tolist(),
        "spectrum": {"frequency": freq.tolist(), "magnitude": mag.tolist(), "phase": phase.tolist()},
        "stable": sol.stable,
        "derived": {
            "tube_mass_per_length": sec.tube_mass,
            "fluid_mass_per_length": sec.fluid_mass,
            "fluid_area": sec.fluid_area,
            "axial_force": sec.axial_force + 0.0,
            "length": sec.length,
            "outer_diameter": sec.outer_diameter,
            "inner_diameter": sec.inner_diameter,
            "youngs_modulus": sec.youngs_modulus,
            "gauge_pressure": sec.gauge_pressure,
        },
        "model": {"name": MODEL_NAME, "version": MODEL_VERSION},
    }
    # the spectrum was checked above as arrays; every other number is checked here, so that
    # a NaN never becomes a result (and the message names the quantity)
    bad = _non_finite({k: v for k, v in result.items() if k != "spectrum"})
    if bad:
        where, value = bad
        raise ModelError(f"the result is not finite: {where} = {value!r} (an extreme combination "
                         "of parameters); check the geometry, material and mesh")
    return result


def _non_finite(obj: Any, path: str = "") -> tuple[str, float] | None:
    """(dotted path, value) of the first NaN or infinity in a result, or None."""
    if isinstance(obj, float):
        return None if math.isfinite(obj) else (path, obj)
    if isinstance(obj, dict):
        items: Any = obj.items()
    elif isinstance(obj, (list, tuple)):
        items = ((f"[{i}]", v) for i, v in enumerate(obj))
    else:
        return None
    for key, value in items:
        sub = f"{path}{key}" if str(key).startswith("[") else f"{path}.{key}" if path else str(key)
        found = _non_finite(value, sub)
        if found:
            return found
    return None


def _beam_of(p: Parameters, sec: Section) -> BeamMatrices:
    """The finite-element matrices of point ``p`` at its operating state."""
    from ._beam import assemble

    an = p.analysis
    return assemble(
        an.elements, sec.length, sec.youngs_modulus * sec.second_moment,
        (sec.shear_coefficient * sec.shear_modulus * sec.tube_area
         if an.theory == "timoshenko" else None),
        sec.tube_mass + sec.fluid_mass, sec.tube_rotary_inertia, p.pipe.boundary,
    )


def _compute(p: Parameters, sec: Section) -> tuple[np.ndarray, Solution]:
    import numpy as np

    from ._solve import solve

    an = p.analysis
    beam = _beam_of(p, sec)
    freq = np.linspace(an.f_min, an.f_max, an.frequencies)
    sol = solve(beam, sec.axial_force, sec.fluid_mass, p.state.flow_velocity, an.damping_ratio,
                2 * np.pi * freq, beam.point_vector(an.excitation_position),
                beam.point_vector(an.response_position), an.modes)
    return freq, sol
