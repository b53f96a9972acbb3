"""The one definition of every parameter: pydantic models with unit, bounds and doc.

The model, sweep files, the GUI forms and the JSON contract all use these classes.
"""

from ._canonical import canonical_json, canonical_number
from ._errors import ParameterError, format_validation_error
from ._fields import FieldInfo, field_info, iter_fields, parameter_paths
from ._models import (
    GROUPS,
    Analysis,
    Fluid,
    Material,
    Parameters,
    Pipe,
    State,
)
from ._support import SUPPORTS, Support

__all__ = [
    "GROUPS",
    "Analysis",
    "FieldInfo",
    "Fluid",
    "Material",
    "ParameterError",
    "Parameters",
    "Pipe",
    "SUPPORTS",
    "State",
    "Support",
    "canonical_json",
    "canonical_number",
    "field_info",
    "format_validation_error",
    "iter_fields",
    "parameter_paths",
]
