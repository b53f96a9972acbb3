"""Small widget helpers shared by the forms and the machines editor."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

# Red border for invalid input; the property selector lets one stylesheet serve every editor.
INVALID_STYLE = """
QLineEdit[invalid="true"], QComboBox[invalid="true"], QSpinBox[invalid="true"],
QDoubleSpinBox[invalid="true"] { border: 1px solid #d32f2f; border-radius: 2px; }
QLabel[role="error"] { color: #c62828; }
QLabel[role="hint"] { color: palette(mid); }
"""


def set_invalid(widget: QWidget, invalid: bool) -> None:
    """Mark an editor invalid (red border through INVALID_STYLE)."""
    if bool(widget.property("invalid")) == invalid:
        return
    widget.setProperty("invalid", invalid)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
    widget.update()


def error_label(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setProperty("role", "error")
    label.setWordWrap(True)
    label.setVisible(False)
    return label


def show_error(label: QLabel, message: str | None) -> None:
    label.setText(message or "")
    label.setVisible(bool(message))


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
