"""The one definition of ``<state_dir>/manifest.json``: what the engine writes, what
``sweepgui.results`` and the tests read.

A manifest is plain JSON, so the schema is a set of ``TypedDict``s (the data stays the dicts
the engine updates in place and writes with the C encoder) checked by pydantic on reading:
``check_manifest`` validates a parsed manifest, including the rules a type cannot say (every
path of a dimension has values, all of one length; point indices inside the grid).

Change the shape only together with ``FORMAT``: a reader refuses a manifest of another
format with a message saying to run the sweep again.

Point entries: ``out`` is the store path holding the point's ``result.json`` (for a point
computed in a group, an output of the group's derivation); ``point`` is the point's own
canonical store path, its identity, which older manifests lack: read it with
:func:`point_path`, which falls back to ``out``.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, NotRequired

from pydantic import TypeAdapter, ValidationError
from typing_extensions import TypedDict  # pydantic reads typing.TypedDict only on Python >= 3.12

from ..sweep.status import Status

FORMAT: Literal[1] = 1
FILENAME = "manifest.json"


class ModelEntry(TypedDict):
    """Which model computed the points."""

    name: str
    version: str
    kind: str                # "builtin" | "custom"
    source_hash: str         # sha256: of the model's files


class InterpreterEntry(TypedDict):
    """The Python that ran the model (an input of every point)."""

    mode: str
    python: str
    description: NotRequired[str]
    identity_hash: NotRequired[str]


class DimensionEntry(TypedDict):
    """One axis of the grid; a zip group is one dimension with several paths."""

    name: str
    paths: list[str]
    values: dict[str, list[Any]]   # path -> its values along the axis (all of one length)
    units: dict[str, str]          # path -> SI unit ("" for none)


class PointEntry(TypedDict):
    """One point of the sweep, C order over the dimensions (``index``)."""

    index: int
    name: str
    coordinates: dict[str, Any]    # swept path -> value at this point
    parameters: dict[str, Any]     # the point's full parameters (group -> field -> value)
    drv: str | None
    out: str | None                # store path holding result.json (None: not planned)
    point: NotRequired[str | None]  # the point's own store path (its identity); default: out
    status: Status
    machine: str
    seconds: float | None
    error: str | None
    exit_code: int | None
    log_tail: list[str]
    finished: str | None           # ISO time the point's result arrived


class GcRootsEntry(TypedDict):
    """Whether the run's results are safe from garbage collection."""

    folder: str
    missing: list[int]             # indices of points without a GC root
    error: str | None


class Manifest(TypedDict):
    """The whole file."""

    format: Literal[1]
    sweep_file: str | None
    sweep_hash: str
    created: str
    updated: str
    model: ModelEntry
    interpreter: InterpreterEntry
    dimensions: list[DimensionEntry]
    points: list[PointEntry]
    gc_roots: NotRequired[GcRootsEntry]


class ManifestError(ValueError):
    """A manifest that does not follow the schema; ``str(exc)`` says where and what."""


@cache
def _adapter() -> TypeAdapter[Manifest]:
    return TypeAdapter(Manifest)


def point_path(entry: PointEntry | dict[str, Any]) -> str | None:
    """A point's own store path (its identity): ``point``, or ``out`` where it is absent."""
    value = entry.get("point") or entry.get("out")
    return str(value) if value else None


def check_manifest(data: object) -> Manifest:
    """``data`` (a parsed manifest.json) as a Manifest, or ManifestError naming the problem.

    The dicts are returned as they are (validation does not copy or convert them), so a
    reader sees exactly what the engine wrote, unknown keys of a newer engine included.
    """
    if not isinstance(data, dict):
        raise ManifestError(f"a JSON {_JSON_NAMES.get(type(data), 'value')} instead of an object")
    if data.get("format") != FORMAT:
        raise ManifestError(f"unknown manifest format {data.get('format')!r} (expected {FORMAT})")
    try:
        _adapter().validate_python(data)
    except ValidationError as exc:
        shown = [f"{_where(e['loc'])}: {e['msg']}" for e in exc.errors()[:3]]
        more = f" and {exc.error_count() - 3} more" if exc.error_count() > 3 else ""
        raise ManifestError("; ".join(shown) + more) from None
    problem = _grid_problem(data)
    if problem:
        raise ManifestError(problem)
    return data  # type: ignore[return-value]  # validated above: it is a Manifest


_JSON_NAMES = {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
               type(None): "null"}


def _where(loc: tuple[int | str, ...]) -> str:
    """('points', 3, 'index') -> points[3].index"""
    text = "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc)
    return text.lstrip(".") or "the manifest"


def _grid_problem(data: dict[str, Any]) -> str | None:
    """What the types cannot say: dimensions with values of one length, indices on the grid."""
    size = 1
    for d in data["dimensions"]:
        paths, values = d["paths"], d["values"]
        if not paths:
            return f"dimension {d['name']!r} has no paths"
        lengths = {len(values[p]) if p in values else -1 for p in paths}
        if len(lengths) != 1 or -1 in lengths:
            return f"dimension {d['name']!r}: every path needs a list of values, all of one length"
        size *= lengths.pop()
    for k, p in enumerate(data["points"]):
        if not 0 <= p["index"] < size:
            return f"points[{k}].index: {p['index']} is outside the grid of {size} points"
    return None


__all__ = [
    "FILENAME",
    "FORMAT",
    "DimensionEntry",
    "GcRootsEntry",
    "InterpreterEntry",
    "Manifest",
    "ManifestError",
    "ModelEntry",
    "PointEntry",
    "check_manifest",
    "point_path",
]
