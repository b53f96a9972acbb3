"""The points of a sweep: checked once per distinct combination, built when asked for.

A million points as pydantic objects take gigabytes and half a minute, so a sweep holds
none. Field values were checked once per distinct value in ``_resolve``; here the rules
*between* fields are checked once per distinct combination of the values they read: each
group's own rules (wall thickness < outer radius, f_min < f_max) over the dimensions that
touch that group, and the rules between groups over the dimensions that touch the fields
they read (``Parameters.CROSS_GROUP_FIELDS``). A bad combination is reported at the first
point (C order) that has it.

:class:`Points` is the sequence a sweep's ``points()`` returns: C order over the
dimensions (last fastest), each point validated into a fresh ``Parameters`` when it is
read (about 10 us), so iterating once costs what building did, and holding it costs
nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, overload

from pydantic import ValidationError

from ..params import GROUPS, Parameters, format_validation_error
from ._errors import SweepError

if TYPE_CHECKING:
    from ._resolve import Resolved
    from ._sweep import Sweep


def _split(path: str) -> tuple[str, str]:
    group, name = path.split(".", 1)
    return group, name


class _Layout:
    """What building any point needs: base values per group, and per dimension the
    (group, name, values) of each path it sets. A point is a tuple of indices, one per
    dimension (no per-value objects: a million-value axis costs only its values)."""

    def __init__(self, sweep: Sweep, r: Resolved):
        self.base: dict[str, dict[str, Any]] = {g: {} for g in GROUPS}
        for path, value in r.base.items():
            g, n = _split(path)
            self.base[g][n] = value
        self.sets = [[(*_split(p), d.values[p]) for p in d.paths] for d in r.dimensions]
        self.sizes = [d.size for d in r.dimensions]
        self.groups = [{_split(p)[0] for p in d.paths} for d in r.dimensions]
        self.touched = sorted(set().union(*self.groups)) if self.groups else []
        self.presets = _variable_presets(sweep, r)
        strides, step = [], 1
        for size in reversed(self.sizes):
            strides.append(step)
            step *= size
        self.strides = strides[::-1]
        self.size = step

    def point(self, ks: tuple[int, ...]) -> dict[str, Any]:
        """The nested input dict of the point at index ``ks[d]`` of each dimension d."""
        point = dict(self.base)
        for g in self.touched:
            point[g] = self.base[g].copy()
        for sets, k in zip(self.sets, ks):
            for g, n, values in sets:
                point[g][n] = values[k]
        if self.presets:
            fill = self.presets.get(point["material"]["name"])
            if fill:
                point["material"].update(fill)
        return point


class Points(Sequence[Parameters]):
    """The points of a checked sweep as ``Parameters``, built on access.

    A read-only sequence in C order over the sweep's dimensions (the last varies fastest):
    ``len``, indexing (negative too), slices (a list), iteration, and ``==`` with any
    sequence of equal points. Each access builds a new ``Parameters``; the sequence keeps
    the values it was made from, so later edits of the sweep do not change it.
    """

    def __init__(self, layout: _Layout):
        self._layout = layout

    def __len__(self) -> int:
        return self._layout.size

    @overload
    def __getitem__(self, index: int) -> Parameters: ...
    @overload
    def __getitem__(self, index: slice) -> list[Parameters]: ...

    def __getitem__(self, index: int | slice) -> Parameters | list[Parameters]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"point {index} is outside 0..{n - 1}")
        lay = self._layout
        ks = tuple((i // stride) % size for stride, size in zip(lay.strides, lay.sizes))
        return Parameters.model_validate(lay.point(ks))

    def __iter__(self) -> Iterator[Parameters]:
        lay = self._layout
        validate = Parameters.model_validate
        for ks in itertools.product(*(range(n) for n in lay.sizes)):
            yield validate(lay.point(ks))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, (str, bytes)):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<{len(self):,} sweep points>"


def build_points(sweep: Sweep, r: Resolved) -> Points:
    """The points of ``sweep`` (already resolved as ``r``), without checking them."""
    return Points(_Layout(sweep, r))


def check_points(sweep: Sweep, r: Resolved) -> None:
    """Raise SweepError for the first point (C order) that breaks a rule between fields."""
    lay = _Layout(sweep, r)
    first: tuple[int, ValidationError, str] | None = None
    for group, cls in GROUPS.items():
        dims = [d for d, groups in enumerate(lay.groups) if group in groups]
        found = _first_failure(lay, dims, lambda p, g=group, c=cls: c.model_validate(p[g]),
                               stop_at=first[0] if first else None)
        if found and (first is None or found[0] < first[0]):
            first = (*found, group)
    cross = set(Parameters.CROSS_GROUP_FIELDS)
    dims = [d for d, dim in enumerate(r.dimensions) if cross & set(dim.paths)]
    found = _first_failure(lay, dims, Parameters.model_validate,
                           stop_at=first[0] if first else None)
    if found and (first is None or found[0] < first[0]):
        first = (*found, "")
    if first is not None:
        raise _point_error(sweep, r, first[1], first[0], first[2])


def _first_failure(lay: _Layout, dims: list[int], validate: Any,
                   stop_at: int | None) -> tuple[int, ValidationError] | None:
    """(point index, error) of the first combination of ``dims`` that ``validate`` refuses,
    the other dimensions at their first value; None if none does (before ``stop_at``)."""
    ranges = [range(lay.sizes[d]) for d in dims]
    picks = [0] * len(lay.sizes)
    for ks in itertools.product(*ranges):
        index = sum(k * lay.strides[d] for d, k in zip(dims, ks))
        if stop_at is not None and index >= stop_at:
            return None  # lexicographic order of ks is point order: nothing earlier follows
        for d, k in zip(dims, ks):
            picks[d] = k
        try:
            validate(lay.point(tuple(picks)))
        except ValidationError as e:
            return index, e
    return None


def _variable_presets(sweep: Sweep, r: Resolved) -> dict[str, dict[str, Any]]:
    """material.name value -> the preset's fields that no fixed or variable field overrides."""
    if not r.variable_presets:
        return {}
    explicit = set(r.fixed) | set(sweep.variables)
    return {name: {_split(p)[1]: v for p, v in fields.items() if p not in explicit}
            for name, fields in r.variable_presets.items()}


def _point_error(sweep: Sweep, r: Resolved, err: ValidationError, index: int,
                 group: str) -> SweepError:
    path, msg = format_validation_error(err)[0]
    if group and not (path == group or path.startswith(group + ".")):
        path = f"{group}.{path}" if path else group  # a group's own error: relative to it
    coords = sweep.coordinates(index)
    group = path.split(".", 1)[0]
    key: str | None
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
