"""Canonical JSON: equal parameter values give byte-equal text, hence equal store paths.

Python's ``repr`` of a float is the shortest text that round-trips, so 0.1 + 0.2 and
0.30000000000000004 are one value and one text, and 0.3 is another. Integral floats
keep their ``.0`` so that a float field never collides with an int field's text.
Nix never parses these numbers: the text travels as a string attribute.
"""

from __future__ import annotations

import json
import math
from typing import Any


def canonical_number(x: float | int) -> float | int:
    if isinstance(x, bool):
        return x
    if isinstance(x, float):
        if not math.isfinite(x):
            raise ValueError(f"{x!r} is not a finite number")
        if x == 0.0:
            return 0.0  # -0.0 and 0.0 are one parameter value
    return x


def _walk(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _walk(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_walk(v) for v in obj]
    if isinstance(obj, (int, float)):
        return canonical_number(obj)
    return obj


def canonical_json(obj: Any) -> str:
    """Compact, key-sorted, ASCII-only JSON of ``obj`` (a dict or a pydantic model)."""
    if hasattr(obj, "model_dump"):
        obj = obj.model_dump(mode="json")
    return json.dumps(_walk(obj), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=True, allow_nan=False)
