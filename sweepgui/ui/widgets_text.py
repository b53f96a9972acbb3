"""Numbers and rules as the forms and messages write them (Qt-free: the sweep draft uses it)."""

from __future__ import annotations

import math
from typing import Any


def format_number(value: Any) -> str:
    """Shortest text that reads back to the same number; exponents for very large/small ones."""
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if not math.isfinite(value):
        return repr(value)
    a = abs(value)
    if a != 0 and (a >= 1e6 or a < 1e-3):
        mantissa, exp = repr(value).partition("e")[::2] if "e" in repr(value) else (None, None)
        if mantissa is None:  # repr chose positional: rebuild the shortest scientific form
            import numpy as np

            return np.format_float_scientific(value, unique=True, trim="-", exp_digits=1).replace("e+", "e")
        return f"{mantissa}e{int(exp)}"
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def format_list(values: list) -> str:
    return ", ".join(format_number(v) for v in values)


def bounds_phrase(ge=None, gt=None, le=None, lt=None) -> str:
    """A field's allowed range in words: "between 0 and 1", "more than 0 and at most 100"."""
    if ge is not None and le is not None:
        return f"between {format_number(ge)} and {format_number(le)}"
    parts = []
    if gt is not None:
        parts.append(f"more than {format_number(gt)}")
    elif ge is not None:
        parts.append(f"at least {format_number(ge)}")
    if lt is not None:
        parts.append(f"less than {format_number(lt)}")
    elif le is not None:
        parts.append(f"at most {format_number(le)}")
    return " and ".join(parts)
