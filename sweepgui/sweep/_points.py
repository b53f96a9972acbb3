"""Building the points: nested dicts in C order, each validated as one Parameters.

Field values were checked once per distinct value in ``_resolve``; here every point
still goes through ``Parameters.model_validate`` (about 5 us), because cross-field rules
such as wall thickness < outer radius or modes <= 2 x elements depend on the combination.
Groups no variable touches share one input dict across points, so a point costs one
shallow copy per touched group plus the validation.
"""

from __future__ import annotations

import gc
import itertools
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ..params import GROUPS, Parameters, format_validation_error
from ._errors import SweepError

if TYPE_CHECKING:
    from ._resolve import Resolved
    from ._sweep import Sweep


def _split(path: str) -> tuple[str, str]:
    group, name = path.split(".", 1)
    return group, name


def build_points(sweep: Sweep, r: Resolved) -> list[Parameters]:
    base: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
    for path, value in r.base.items():
        g, n = _split(path)
        base[g][n] = value
    # updates[d][k]: the (group, name, value) triples that index k of dimension d sets
    updates = [[[(*_split(p), d.values[p][k]) for p in d.paths] for k in range(d.size)]
               for d in r.dimensions]
    touched = sorted({_split(p)[0] for d in r.dimensions for p in d.paths})
    presets = _variable_presets(sweep, r)
    validate = Parameters.model_validate
    out: list[Parameters] = []
    # The loop makes no reference cycles, so the cyclic GC would only rescan the growing
    # list of points again and again: it doubled the time of 10,000 points.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _fill(out, base, touched, updates, presets, validate, sweep, r)
    finally:
        if gc_was_enabled:
            gc.enable()
    return out


def _fill(out: list[Parameters], base: dict[str, dict[str, Any]], touched: list[str],
          updates: list[Any], presets: dict[str, dict[str, Any]], validate: Any,
          sweep: Sweep, r: Resolved) -> None:
    for index, combo in enumerate(itertools.product(*updates)):
        point = dict(base)
        for g in touched:
            point[g] = base[g].copy()
        for triples in combo:
            for g, n, v in triples:
                point[g][n] = v
        if presets:
            fill = presets.get(point["material"]["name"])
            if fill:
                point["material"].update(fill)
        try:
            out.append(validate(point))
        except ValidationError as e:
            raise _point_error(sweep, r, e, index) from None


def _variable_presets(sweep: Sweep, r: Resolved) -> dict[str, dict[str, Any]]:
    """material.name value -> the preset's fields that no fixed or variable field overrides."""
    if not r.variable_presets:
        return {}
    explicit = set(r.fixed) | set(sweep.variables)
    return {name: {_split(p)[1]: v for p, v in fields.items() if p not in explicit}
            for name, fields in r.variable_presets.items()}


def _point_error(sweep: Sweep, r: Resolved, err: ValidationError, index: int) -> SweepError:
    path, msg = format_validation_error(err)[0]
    coords = sweep.coordinates(index)
    group = path.split(".", 1)[0]
    if path in coords or path in r.fixed:
        key = path
    else:  # a group-level rule: blame the first variable of the group, else a fixed value
        key = next((p for p in coords if p.startswith(group + ".")), None) or next(
            (p for p in r.fixed if p.startswith(group + ".")), None)
    section = "variable" if key in sweep.variables else "fixed" if key in r.fixed else None
    reason = msg if key == path else f"{path}: {msg}"
    if coords:
        where = ", ".join(f"{p} = {v!r}" for p, v in coords.items())
        reason += f"; first at point {index} of {sweep.size} ({where})"
    return sweep.error(reason, section, key)
