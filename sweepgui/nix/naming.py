"""Readable store names for points, derived from the parameters alone.

A point's name lists the parameters that differ from the defaults (``density=990.0-
temperature=283.15``). It depends on nothing but the parameters, so the same point has
the same store path in every sweep; it is shortened to fit a store name, and the full
parameters stay the derivation's input.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from .modelsrc import store_safe

_MAX = 90


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    from ..params import Parameters

    return _flatten(json.loads(Parameters().model_dump_json()))


def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            for k2, v2 in v.items():  # parameters are two levels deep: group.field
                if isinstance(v2, dict):
                    out.update(_flatten(v2, f"{prefix}{k}.{k2}."))
                else:
                    out[f"{prefix}{k}.{k2}"] = v2
        else:
            out[f"{prefix}{k}"] = v
    return out


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return repr(v)
    if v is None:
        return "auto"
    return str(v)


def point_name(params: dict[str, Any]) -> str:
    """A store-name-safe summary of ``params`` (nested dict), at most ~90 characters."""
    defaults = _defaults()
    flat = _flatten(params)
    parts = []
    missing = object()
    for key in sorted(k for k, v in flat.items() if defaults.get(k, missing) != v):
        leaf = key.rsplit(".", 1)[-1]
        parts.append(f"{store_safe(leaf, 24)}={store_safe(_fmt(flat[key]), 24)}")
    name = "-".join(parts) or "defaults"
    return store_safe(name, _MAX)
