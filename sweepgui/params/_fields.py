"""Introspection of the parameter models for forms, sweep files and messages."""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ._models import GROUPS


@dataclass(frozen=True)
class FieldInfo:
    """What a form or an error message needs to know about one parameter."""

    path: str                 # "pipe.length"
    group: str
    name: str
    kind: str                 # "float", "int", "str", "choice", "optional-float"
    unit: str
    description: str
    default: Any
    choices: tuple[str, ...] = ()
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    label: str = ""           # form label: "Young's modulus" (default: from the name)

    @property
    def numeric(self) -> bool:
        return self.kind in ("float", "int", "optional-float")

    def bounds_text(self) -> str:
        parts = []
        if self.gt is not None:
            parts.append(f"> {self.gt:g}")
        if self.ge is not None:
            parts.append(f">= {self.ge:g}")
        if self.lt is not None:
            parts.append(f"< {self.lt:g}")
        if self.le is not None:
            parts.append(f"<= {self.le:g}")
        return ", ".join(parts)


def _kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    origin = typing.get_origin(annotation)
    if origin is typing.Literal:
        return "choice", tuple(typing.get_args(annotation))
    args = typing.get_args(annotation)
    if args and type(None) in args:
        return "optional-float", ()
    if annotation is int:
        return "int", ()
    if annotation is float:
        return "float", ()
    return "str", ()


def iter_fields() -> Iterator[FieldInfo]:
    for group, cls in GROUPS.items():
        for name, f in cls.model_fields.items():
            kind, choices = _kind(f.annotation)
            bounds: dict[str, float | None] = {"ge": None, "gt": None, "le": None, "lt": None}
            for m in f.metadata:
                for key in bounds:
                    if hasattr(m, key) and getattr(m, key) is not None:
                        bounds[key] = getattr(m, key)
            extra = f.json_schema_extra if isinstance(f.json_schema_extra, dict) else {}
            label = str(extra.get("label") or name.replace("_", " ").capitalize())
            yield FieldInfo(
                path=f"{group}.{name}", group=group, name=name, kind=kind,
                unit=str(extra.get("unit", "")), description=f.description or "",
                default=f.get_default(call_default_factory=True), choices=choices, label=label, **bounds,
            )


_BY_PATH: dict[str, FieldInfo] | None = None


def field_info(path: str) -> FieldInfo:
    """The FieldInfo of a dotted path; KeyError if there is none."""
    global _BY_PATH
    if _BY_PATH is None:
        _BY_PATH = {f.path: f for f in iter_fields()}
    return _BY_PATH[path]


def parameter_paths() -> list[str]:
    return [f.path for f in iter_fields()]
