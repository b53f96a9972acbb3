"""Checking and converting one parameter value, with messages that name the bound.

Each distinct value of a sweep is checked here once, against the same pydantic field
the parameter models use, so that a bad value is reported at the key that gave it
(file and line) instead of at some point deep in the Cartesian product.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

from ..params import GROUPS, canonical_number, field_info

# TOML has no null: a sweep file writes "eos" where fluid.density (an optional float)
# should come from the equation of state, in [fixed] and in [variable] lists alike.
EOS = "eos"


@cache
def _adapter(path: str) -> TypeAdapter[Any]:
    group, name = path.split(".", 1)
    f = GROUPS[group].model_fields[name]
    field_type: Any = Annotated[f.annotation, f]  # built at run time: no static type to check
    return TypeAdapter(field_type, config=ConfigDict(allow_inf_nan=False))


def _bounds_message(path: str, value: Any) -> str:
    info = field_info(path)
    unit = f" {info.unit}" if info.unit else ""
    return f"{path} = {value!r} is outside its bounds: it must be {info.bounds_text()}{unit}"


def coerce_value(path: str, value: Any) -> Any:
    """``value`` as the parameter at ``path`` holds it (e.g. 990 -> 990.0 for a float field).

    Raises ValueError with a message naming the path, the value and the bound or choices.
    """
    info = field_info(path)
    if info.kind == "optional-float" and (value is None or value == EOS):
        return None
    if info.numeric and (isinstance(value, bool) or not isinstance(value, (int, float))):
        unit = f" in {info.unit}" if info.unit else ""
        extra = f", or \"{EOS}\" to take it from the equation of state" \
            if info.kind == "optional-float" else ""
        return _fail(f"{path} takes a number{unit}{extra}, not {value!r}")
    if not info.numeric and not isinstance(value, str):
        return _fail(f"{path} takes text, not {value!r}")
    try:
        out = _adapter(path).validate_python(value)
    except ValidationError as e:
        kind = e.errors()[0].get("type", "")
        if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            return _fail(_bounds_message(path, value))
        if kind == "literal_error":
            from ._errors import did_you_mean
            return _fail(f"{path} = {value!r} is not one of: {', '.join(info.choices)}"
                         f"{did_you_mean(str(value), info.choices)}")
        if kind == "finite_number":
            return _fail(f"{path} = {value!r} is not a finite number")
        msg = e.errors()[0].get("msg", "invalid value")
        return _fail(f"{path} = {value!r}: {msg}")
    if isinstance(out, (int, float)) and not isinstance(out, bool):
        out = canonical_number(out)
    return out


def _fail(message: str) -> Any:
    raise ValueError(message)

