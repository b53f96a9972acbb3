"""The tube's cross-section, length, stiffness and axial force at the operating state.

Order of effects (each small, linear elasticity):

1. Temperature: E(T) = E_ref (1 + c (T - T_ref)); diameters grow by (1 + alpha dT); the length
   grows too when the ends are axially free, and is held by the supports when they are fixed.
   The tube's mass per length follows from conservation of mass (m_ref L_ref / L).
2. Pressure (gauge p_g = p - ambient, acting inside): Lame's thick-walled cylinder gives the
   radial displacement of bore and outer surface. The axial stress is that of a closed tube
   (p_g a^2/(b^2 - a^2)) for free ends and the plane-strain value (nu times the constant
   sigma_r + sigma_theta) for fixed ends.
3. Effective axial force (tension +), the force that enters the geometric stiffness
   (Paidoussis' T - p A): fixed ends give -E A_p alpha dT - (1 - 2 nu) p_g A_f; free ends give
   none (the wall tension of a closed tube cancels p_g A_f). Supports with a free end (the
   cantilever; ``Support.free_end``) carry no axial force whatever ``axial_restraint`` says.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..params import SUPPORTS, ParameterError, Parameters
from ._errors import ModelError


@dataclass(frozen=True)
class Section:
    """Everything the beam needs at the operating state (SI units)."""

    length: float
    outer_diameter: float
    inner_diameter: float
    youngs_modulus: float
    shear_modulus: float
    shear_coefficient: float   # Cowper's kappa for a hollow circle
    tube_area: float
    fluid_area: float
    second_moment: float
    tube_mass: float           # per length
    fluid_mass: float          # per length
    tube_rotary_inertia: float  # per length
    axial_force: float         # effective, tension +
    gauge_pressure: float


def cowper_hollow_circle(nu: float, ratio: float) -> float:
    """Cowper's (1966) shear coefficient of a hollow circle, ``ratio`` = inner/outer radius."""
    m2 = ratio * ratio
    s = (1.0 + m2) ** 2
    return 6.0 * (1.0 + nu) * s / ((7.0 + 6.0 * nu) * s + (20.0 + 12.0 * nu) * m2)


def section_at_state(p: Parameters, fluid_density: float) -> Section:
    """Resolve geometry, stiffness, masses and axial force of point ``p``."""
    pipe, mat, st = p.pipe, p.material, p.state
    d_t = st.temperature - mat.reference_temperature
    e = mat.youngs_modulus * (1.0 + mat.modulus_temperature_coefficient * d_t)
    if not e > 0.0:
        raise ParameterError([(
            "material.modulus_temperature_coefficient",
            f"gives a Young's modulus of {e:g} Pa at {st.temperature:g} K; it must stay positive",
        )])
    grow = 1.0 + mat.thermal_expansion * d_t
    if not grow > 0.5:
        raise ParameterError([(
            "material.thermal_expansion",
            f"shrinks the tube by a factor {grow:g} at {st.temperature:g} K; not a linear-elastic state",
        )])
    nu = mat.poisson_ratio
    fixed = pipe.axial_restraint == "fixed" and not SUPPORTS[pipe.boundary].free_end
    length = pipe.length if fixed else pipe.length * grow
    b0, a0 = pipe.outer_diameter / 2, pipe.inner_diameter / 2
    b, a = b0 * grow, a0 * grow

    pg = st.pressure - p.analysis.ambient_pressure
    wall = b * b - a * a
    if not (wall > 0.0 and a * a > 0.0 and (a / b) ** 4 < 1.0 and b * b < math.inf):
        raise ModelError(
            f"the wall ({pipe.wall_thickness:g} m) is too thin against the diameter "
            f"({pipe.outer_diameter:g} m) to compute a cross-section in floating point")
    sig_z = (2.0 * nu if fixed else 1.0) * pg * a * a / wall
    u_a = a / e * (pg * (b * b + a * a) / wall - nu * (-pg + sig_z))
    u_b = b / e * (2.0 * pg * a * a / wall - nu * sig_z)
    a, b = a + u_a, b + u_b
    if not (0.0 < a < b) or abs(u_a) > 0.05 * a or abs(u_b) > 0.05 * b:
        raise ModelError(
            f"the gauge pressure {pg:g} Pa strains the tube by more than 5 % (Lame); "
            "beyond the linear-elastic model")

    area_t = math.pi * (b * b - a * a)
    area_f = math.pi * a * a
    inertia = math.pi / 4.0 * (b**4 - a**4)
    if not (area_t > 0.0 and inertia > 0.0 and math.isfinite(inertia)):
        raise ModelError(
            f"the wall ({pipe.wall_thickness:g} m) is too thin against the diameter "
            f"({pipe.outer_diameter:g} m) to compute a cross-section in floating point")
    tube_mass = mat.density * math.pi * (b0 * b0 - a0 * a0) * pipe.length / length
    axial = 0.0
    if fixed:
        axial = -e * area_t * mat.thermal_expansion * d_t - (1.0 - 2.0 * nu) * pg * area_f
    return Section(
        length=length, outer_diameter=2 * b, inner_diameter=2 * a, youngs_modulus=e,
        shear_modulus=e / (2.0 * (1.0 + nu)), shear_coefficient=cowper_hollow_circle(nu, a / b),
        tube_area=area_t, fluid_area=area_f, second_moment=inertia, tube_mass=tube_mass,
        fluid_mass=fluid_density * area_f, tube_rotary_inertia=tube_mass * inertia / area_t,
        axial_force=axial, gauge_pressure=pg,
    )
