"""Parameter groups of one sweep point (SI units throughout).

Each numeric field carries its unit in ``json_schema_extra["unit"]`` (and, where the field
name reads badly as a form label, a ``"label"``), a description and its bounds, so that forms,
sweep-file errors and the JSON schema can show them.
Defaults are the demo tube: 316L, OD 10 mm, wall 1 mm, 0.5 m, clamped-clamped, water
at 20 degC and 1 bar, no flow.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, Strict, model_validator
from pydantic_core import PydanticCustomError

from ._support import SUPPORTS
from .presets import material_with_preset

if TYPE_CHECKING:
    from pydantic.config import JsonDict


def _whole_number(value: Any) -> Any:
    """A count takes 40 or 40.0 (a generator's value), never true or "40"."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise PydanticCustomError("int_type", "Input should be a whole number")
    return value


# Numbers are numbers: JSON's true and "0.5" are errors naming the field, not 1.0 and 0.5.
# Strict per field (not the whole model), so that an int still serves a float field
# (TOML's `length = 1`); a count takes an integral float (linspace gives 10.0, 20.0 ...).
Real = Annotated[float, Strict()]
Count = Annotated[int, BeforeValidator(_whole_number)]

if TYPE_CHECKING:
    Boundary = str
else:  # the choices are the support table's names (a new end condition is one entry there)
    Boundary = Literal[tuple(SUPPORTS)]
AxialRestraint = Literal["free", "fixed"]
Theory = Literal["timoshenko", "euler-bernoulli"]


def _q(default: Any, unit: str, description: str, label: str | None = None, **bounds: Any) -> Any:
    """A quantity field: default, unit, description, form label and bounds in one place."""
    extra: JsonDict = {"unit": unit} if label is None else {"unit": unit, "label": label}
    return Field(default, description=description, json_schema_extra=extra, **bounds)


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)


class Pipe(_Group):
    """Geometry and supports of the vibrating tube."""

    length: Real = _q(0.5, "m", "Free span between the supports", gt=0.0, le=100.0)
    outer_diameter: Real = _q(0.010, "m", "Outer diameter of the tube", gt=0.0, le=5.0)
    wall_thickness: Real = _q(
        0.001, "m", "Wall thickness; must be less than the outer radius", gt=0.0, le=1.0
    )
    boundary: Boundary = Field(
        default="clamped-clamped",
        description="End conditions at x=0 and x=L",
        json_schema_extra={"unit": ""},
    )
    axial_restraint: AxialRestraint = Field(
        default="free",
        description=(
            "Axial restraint of the ends: 'fixed' ends turn pressure (Poisson effect) and "
            "temperature (thermal expansion) into axial force; 'free' ends do not"
        ),
        json_schema_extra={"unit": ""},
    )

    @model_validator(mode="after")
    def _wall_below_radius(self) -> Pipe:
        if self.wall_thickness >= self.outer_diameter / 2:
            raise ValueError(
                f"wall_thickness ({self.wall_thickness:g} m) must be less than the outer "
                f"radius ({self.outer_diameter / 2:g} m)"
            )
        return self

    @property
    def inner_diameter(self) -> float:
        return self.outer_diameter - 2 * self.wall_thickness


class Material(_Group):
    """Tube material: a preset (resources/materials.toml), whose values fill the properties
    not given, or a material of your own name with every property given."""

    # A name that is no preset never runs with the defaults' (316L's) values under its label.
    name: str = Field(
        default="316L",
        description=("Material name: a preset (its values fill the properties not given), or "
                     "your own name with every property given"),
        min_length=1, max_length=200, json_schema_extra={"unit": ""},
    )
    youngs_modulus: Real = _q(193e9, "Pa", "Young's modulus at the reference temperature",
                              label="Young's modulus",
                              gt=1e6, le=2e12)
    density: Real = _q(7990.0, "kg/m3", "Density of the tube material", gt=1.0, le=30000.0)
    poisson_ratio: Real = _q(0.27, "", "Poisson's ratio", label="Poisson's ratio", gt=-1.0, lt=0.5)
    thermal_expansion: Real = _q(16.0e-6, "1/K", "Linear thermal expansion coefficient",
                                 ge=-1e-4, le=1e-3)
    modulus_temperature_coefficient: Real = _q(
        -3.9e-4, "1/K", "Relative change of Young's modulus per kelvin: E(T)=E_ref(1+c(T-T_ref))",
        label="E temperature coefficient",
        ge=-1e-2, le=1e-2,
    )
    reference_temperature: Real = _q(293.15, "K", "Temperature at which E and the dimensions are given",
                                     gt=0.0, le=2000.0)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return material_with_preset(data, cls.model_fields["name"].default)
        return data


class Fluid(_Group):
    """The fluid in the tube."""

    name: str = Field(default="Water", description="CoolProp fluid name (e.g. Water, CO2, Nitrogen, Methane)",
                      min_length=1, max_length=200, json_schema_extra={"unit": ""})
    density: Real | None = Field(
        default=None,
        description=(
            "Fluid density; empty (null) takes it from the equation of state at the state's "
            "pressure and temperature, a number overrides it (0 is the empty tube)"
        ),
        ge=0.0, le=30000.0,
        json_schema_extra={"unit": "kg/m3"},
    )


class State(_Group):
    """Operating state of the fluid."""

    pressure: Real = _q(1.0e5, "Pa", "Absolute pressure of the fluid", gt=0.0, le=1e9)
    temperature: Real = _q(293.15, "K", "Temperature of fluid and tube", gt=0.0, le=2000.0)
    flow_velocity: Real = _q(0.0, "m/s", "Mean flow velocity of the fluid", ge=-1000.0, le=1000.0)


class Analysis(_Group):
    """How the model is discretised and which spectrum it reports."""

    theory: Theory = Field(default="timoshenko", description="Beam theory",
                           json_schema_extra={"unit": ""})
    elements: Count = _q(40, "", "Number of finite elements along the tube",
                         label="Finite elements", ge=2, le=2000)
    modes: Count = _q(6, "", "Number of natural frequencies reported", ge=1, le=200)
    f_min: Real = _q(0.0, "Hz", "Lowest frequency of the spectrum",
                     label="Lowest frequency", ge=0.0, le=1e7)
    f_max: Real = _q(2000.0, "Hz", "Highest frequency of the spectrum",
                     label="Highest frequency", gt=0.0, le=1e7)
    frequencies: Count = _q(4001, "", "Number of frequencies in the spectrum",
                            label="Frequency points", ge=2, le=1_000_000)
    damping_ratio: Real = _q(1e-3, "", "Modal damping ratio of every mode", ge=0.0, lt=1.0)
    excitation_position: Real = _q(0.5, "", "Drive position as a fraction of the length",
                                   label="Drive position", ge=0.0, le=1.0)
    response_position: Real = _q(0.5, "", "Pick-up position as a fraction of the length",
                                 label="Pick-up position", ge=0.0, le=1.0)
    ambient_pressure: Real = _q(1.0e5, "Pa", "Pressure outside the tube (gauge = pressure - ambient)",
                                ge=0.0, le=1e9)

    @model_validator(mode="after")
    def _band(self) -> Analysis:
        if self.f_min >= self.f_max:
            raise ValueError(f"f_min ({self.f_min:g} Hz) must be below f_max ({self.f_max:g} Hz)")
        return self


class Parameters(_Group):
    """All parameters of one sweep point."""

    pipe: Pipe = Field(default_factory=Pipe)
    material: Material = Field(default_factory=Material)
    fluid: Fluid = Field(default_factory=Fluid)
    state: State = Field(default_factory=State)
    analysis: Analysis = Field(default_factory=Analysis)

    # The fields that the rules between groups (below) read: a sweep checks each distinct
    # combination of them once, instead of every point (rules inside a group are checked
    # per distinct combination of that group's values). A new rule here lists its fields.
    CROSS_GROUP_FIELDS: ClassVar[tuple[str, ...]] = (
        "pipe.boundary", "analysis.elements", "analysis.modes")

    @model_validator(mode="after")
    def _modes_exist(self) -> Parameters:
        available = SUPPORTS[self.pipe.boundary].degrees_of_freedom(self.analysis.elements)
        if self.analysis.modes > available:
            # "path: message" lets format_validation_error name the field
            raise ValueError(
                f"analysis.modes: {self.analysis.modes} modes asked, but a {self.pipe.boundary} "
                f"tube of {self.analysis.elements} elements has only {available} "
                "degrees of freedom; "
                "add elements or ask for fewer modes"
            )
        return self


GROUPS: dict[str, type[_Group]] = {
    "pipe": Pipe,
    "material": Material,
    "fluid": Fluid,
    "state": State,
    "analysis": Analysis,
}
