"""One generic two-way binding between a parameter field and its editor row.

:class:`FieldEditor` is built from a :class:`~sweepgui.params.FieldInfo` alone (kind, unit,
bounds, description, choices): no code per field.  It writes edits into the
:class:`~sweepgui.ui.forms.sweep_model.SweepModel` and redraws itself from the model's draft when
the model changes, so a file opened, a preset applied or a mode switched all show up the same
way.  Each field can be fixed or swept (a list, or linspace/logspace/arange for numbers).
The widget of a fixed value comes from :data:`FIELD_EDITORS`, one entry per field kind.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from sweepgui.params import FieldInfo, iter_fields
from sweepgui.sweep import EOS, GENERATORS, generate
from sweepgui.sweep.draft import bounds_phrase, format_list, format_number
from sweepgui.ui.forms.sweep_model import SweepModel
from sweepgui.ui.widgets import WheelSafeComboBox, error_label, set_invalid, show_error

MODE_LABELS = {"fixed": "fixed", "list": "list", "linspace": "linspace",
               "logspace": "logspace", "arange": "arange"}
_GEN_LABELS = {"linspace": ("from", "to", "count"), "logspace": ("10^", "to 10^", "count"),
               "arange": ("from", "to", "step")}
_GEN_TIPS = {"linspace": ("first value", "last value (included)", "number of values"),
             "logspace": ("exponent of the first value (10^a)", "exponent of the last value (10^b)",
                          "number of values"),
             "arange": ("first value", "stop (excluded)", "step between values")}


# a typical value of each generator box: its room from the start (start, stop, count/step)
_GEN_TYPICAL = ("-0.0015", "-0.0015", "0.0015")


def _text_width(edit: QLineEdit, text: str) -> int:
    """The width a QLineEdit needs to show ``text`` whole (frame, margins and cursor included)."""
    from PySide6.QtWidgets import QStyle, QStyleOptionFrame

    opt = QStyleOptionFrame()
    edit.initStyleOption(opt)
    frame = edit.style().pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, opt, edit)
    margins = edit.textMargins()
    # QLineEdit keeps 2 px on each side of its text, plus the cursor's pixel
    return (edit.fontMetrics().horizontalAdvance(text) + 2 * frame + margins.left()
            + margins.right() + 4 + 2)


def _fit_text(edit: QLineEdit) -> None:
    """Grow a generator box for a value longer than the typical one (never below its base)."""
    width = max(int(edit.property("baseWidth") or 0), _text_width(edit, edit.text()))
    if width != edit.minimumWidth():
        edit.setMinimumWidth(width)


_MODE_BOX_WIDTH: dict[str, int] = {}


def _mode_box_width(like: QComboBox) -> int:
    """Width of a combo box that shows every mode name in full (computed once per font)."""
    key = like.font().key()
    if key not in _MODE_BOX_WIDTH:
        probe = QComboBox()
        probe.setFont(like.font())
        probe.addItems(list(MODE_LABELS.values()))
        probe.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        _MODE_BOX_WIDTH[key] = probe.sizeHint().width()
        probe.deleteLater()
    return _MODE_BOX_WIDTH[key]


def display_unit(info: FieldInfo) -> str:
    """The unit the forms show: the field's own, or what a dimensionless position is measured
    in ("fraction of length", said by the field's description while sweepgui.params gives the
    unit as "")."""
    if info.unit:
        return info.unit
    if "fraction of the length" in info.description.lower():
        return "fraction of length"
    return ""


def _label_counts() -> dict[str, int]:
    counts: dict[str, int] = {}
    for f in iter_fields():
        counts[f.label] = counts.get(f.label, 0) + 1
    return counts


_LABELS: dict[str, int] = {}


def field_title(info: FieldInfo) -> str:
    """How messages name a field: its form label (with the group where two groups share the
    label: "Fluid density") and its unit, e.g. "Drive position (fraction of length)"."""
    if not _LABELS:
        _LABELS.update(_label_counts())
    title = info.label or info.name
    if _LABELS.get(title, 0) > 1:
        title = f"{info.group.capitalize()} {title[:1].lower()}{title[1:]}"
    unit = display_unit(info)
    return f"{title} ({unit})" if unit else title


def tooltip_for(info: FieldInfo) -> str:
    # rich text: every piece is escaped ("<= 1" once read as a tag hid the upper bound)
    esc = html.escape
    parts = [f"<b>{esc(info.label or info.name)}</b> ({esc(info.path)})", esc(info.description or "")]
    unit = display_unit(info)
    if unit:
        parts.append(f"unit: {esc(unit)}")
    rule = bounds_phrase(info.ge, info.gt, info.le, info.lt)
    if rule:
        parts.append(f"allowed: {esc(rule)}")
    if info.choices:
        parts.append("choices: " + esc(", ".join(info.choices)))
    if info.kind == "optional-float":
        parts.append("empty: taken from the equation of state")
    default = "empty" if info.default is None else format_number(info.default)
    parts.append(f"default: {esc(default)}")
    return "<br>".join(p for p in parts if p)


# -- the fixed-value editor of each field kind -------------------------------------------------
# magicgui's type map: one table from a field's kind to the widget that edits one value of it.
# A new kind of parameter is one class and one entry in FIELD_EDITORS; FieldEditor, the list
# and range pages and the parsing of typed text all go through it.

Picked = Callable[[str], None]


class NumberBox(QLineEdit):
    """A real number, typed (``float`` fields)."""

    def __init__(self, info: FieldInfo, suggestions: Callable[[], list[str]] | None = None):
        super().__init__()
        self.info = info

    @staticmethod
    def parse(text: str, info: FieldInfo) -> Any:
        """The value of one typed entry, or ValueError with a message for the user."""
        text = text.strip()
        if not text:
            raise ValueError("enter a number")
        try:
            return float(text)
        except ValueError:
            raise ValueError(f"{text!r} is not a number") from None

    def show_value(self, value: Any) -> None:
        # text that already means the value stays as typed ("1e3" is not rewritten to "1000")
        if not _means(self, lambda t: self.parse(t, self.info), value):
            self.setText(format_number(value))

    def connect_edits(self, typed: Picked, picked: Picked) -> None:
        self.textEdited.connect(typed)


class WholeNumberBox(NumberBox):
    """A whole number, typed (``int`` fields; "1e3" is 1000, "2.5" is refused)."""

    @staticmethod
    def parse(text: str, info: FieldInfo) -> Any:
        number = NumberBox.parse(text, info)
        if not number.is_integer():
            raise ValueError(f"{text.strip()!r} is not a whole number")
        return int(number)


class OptionalNumberBox(NumberBox):
    """A number or nothing (``optional-float``: empty means "from the equation of state")."""

    def __init__(self, info: FieldInfo, suggestions: Callable[[], list[str]] | None = None):
        super().__init__(info)
        self.setPlaceholderText("from the equation of state")

    @staticmethod
    def parse(text: str, info: FieldInfo) -> Any:
        if text.strip().lower() in ("", EOS):
            return None
        return NumberBox.parse(text, info)

    def show_value(self, value: Any) -> None:
        super().show_value(None if value == EOS else value)


class ChoiceBox(WheelSafeComboBox):
    """One of the field's choices (``choice`` fields: a Literal)."""

    def __init__(self, info: FieldInfo, suggestions: Callable[[], list[str]] | None = None):
        super().__init__()
        self.info = info
        self.addItems(list(info.choices))

    @staticmethod
    def parse(text: str, info: FieldInfo) -> Any:
        text = text.strip()
        if text not in info.choices:
            raise ValueError(f"choose one of {', '.join(info.choices)}")
        return text

    def show_value(self, value: Any) -> None:
        self.setCurrentIndex(max(self.findText("" if value is None else str(value)), 0))

    def connect_edits(self, typed: Picked, picked: Picked) -> None:
        self.currentTextChanged.connect(typed)


class TextBox(WheelSafeComboBox):
    """Free text with suggestions (``str`` fields: a material preset, a CoolProp fluid)."""

    def __init__(self, info: FieldInfo, suggestions: Callable[[], list[str]] | None = None):
        super().__init__()
        self.info = info
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        if suggestions is not None:
            self.addItems(list(suggestions()))

    @staticmethod
    def parse(text: str, info: FieldInfo) -> Any:
        text = text.strip()
        if not text:
            raise ValueError("must not be empty")
        return text

    def show_value(self, value: Any) -> None:
        text = "" if value is None else str(value)
        if self.currentText() != text:
            self.setEditText(text)

    def connect_edits(self, typed: Picked, picked: Picked) -> None:
        self.lineEdit().textEdited.connect(typed)
        self.activated.connect(lambda index: picked(self.itemText(index)))


#: field kind (``FieldInfo.kind``) -> the widget class that edits one value of it
FIELD_EDITORS: dict[str, type[NumberBox] | type[ChoiceBox] | type[TextBox]] = {
    "float": NumberBox,
    "int": WholeNumberBox,
    "optional-float": OptionalNumberBox,
    "choice": ChoiceBox,
    "str": TextBox,
}


def _means(edit: QLineEdit, parse: Callable[[str], Any], value: Any) -> bool:
    """Whether the text already in ``edit`` reads as ``value``."""
    try:
        return parse(edit.text()) == value
    except (ValueError, TypeError):
        return False


def parse_scalar(text: str, info: FieldInfo) -> Any:
    """The value of one typed entry, or ValueError with a message for the user."""
    return FIELD_EDITORS[info.kind].parse(text, info)


def parse_list(text: str, info: FieldInfo) -> list:
    items = [t for t in (s.strip() for s in text.replace(";", ",").split(",")) if t]
    if not items:
        raise ValueError("enter one or more values separated by commas")
    values = [parse_scalar(t, info) for t in items]
    if any(v is None for v in values):
        raise ValueError("a list cannot hold empty values")
    return values


class FieldEditor(QWidget):
    """Editor row of one parameter: value (or sweep), unit, mode switch, count, error.

    Parameters
    ----------
    info : the field's FieldInfo.
    model : the SweepModel it edits.
    suggestions : for text fields, the names an editable combo box offers.
    picked : called with a suggestion the user picked from the list (e.g. a material preset).
    """

    edited = Signal(str)

    def __init__(self, info: FieldInfo, model: SweepModel, parent: QWidget | None = None,
                 suggestions: Callable[[], list[str]] | None = None,
                 picked: Callable[[str], None] | None = None):
        super().__init__(parent)
        self.info, self._model = info, model
        self._updating = False
        tip = tooltip_for(info)
        self.setToolTip(tip)

        self.stack = QStackedWidget()
        self.stack.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        # page 0: fixed value, in the editor of the field's kind
        self.value = FIELD_EDITORS[info.kind](info, suggestions)
        self.value.connect_edits(self._on_fixed, picked or self._on_fixed)
        self.value.setToolTip(tip)
        self.value.setObjectName(f"value:{info.path}")
        self.stack.addWidget(self.value)
        # page 1: list of values
        self.list_edit = QLineEdit()
        self.list_edit.setPlaceholderText("values separated by commas")
        self.list_edit.setToolTip(tip)
        self.list_edit.textEdited.connect(self._on_list)
        self.stack.addWidget(self.list_edit)
        # page 2: a generator's three numbers
        gen_page = QWidget()
        gl = QHBoxLayout(gen_page)
        gl.setContentsMargins(0, 0, 0, 0)
        gl.setSpacing(3)
        self.gen_labels: list[QLabel] = []
        self.gen_edits: list[QLineEdit] = []
        for i in range(3):
            lab, ed = QLabel(), QLineEdit()
            # plain labels (the grey "hint" look read as disabled)
            # room for the widest label of any generator from the start: the row's minimum width
            # (and so the forms') never grows when a field switches mode, which clipped the forms
            widest = max(lab.fontMetrics().horizontalAdvance(t[i]) for t in _GEN_LABELS.values())
            lab.setMinimumWidth(widest + 2)
            lab.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            # room for a typical value from the start (the same on every page, so switching
            # modes never widens the forms), more while a longer one is shown: "100000" once
            # showed as "0000" and 283.15 as "83.15" in a box of 36 px
            ed.setProperty("baseWidth", _text_width(ed, _GEN_TYPICAL[i]))
            ed.setMinimumWidth(ed.property("baseWidth"))
            ed.setToolTip(tip)
            ed.textEdited.connect(self._on_generator)
            ed.textChanged.connect(lambda _t, ed=ed: _fit_text(ed))
            gl.addWidget(lab)
            gl.addWidget(ed, 3 if i < 2 else 2)
            self.gen_labels.append(lab)
            self.gen_edits.append(ed)
        self.stack.addWidget(gen_page)

        self.unit = QLabel(display_unit(info))
        # the widest short unit ("kg/m3") plus a gap, so that units line up and none touches
        # the mode box beside it; a long one ("fraction of length") gets its own width
        fm = self.unit.fontMetrics()
        self.unit.setMinimumWidth(max(fm.horizontalAdvance("kg/m3"),
                                      fm.horizontalAdvance(self.unit.text())) + 6)
        self.unit.setToolTip(tip)
        self.mode = WheelSafeComboBox()
        modes = ["fixed", "list"] + (list(GENERATORS) if info.numeric else [])
        for m in modes:
            self.mode.addItem(MODE_LABELS[m], m)
        self.mode.setToolTip("Fixed value, or sweep this parameter over a list or a range")
        self.mode.setObjectName(f"mode:{info.path}")
        # the same width on every row, so that editors and units line up: the width of the
        # widest mode name (a minimum contents length of 8 made it 30 px wider than that)
        self.mode.setFixedWidth(_mode_box_width(self.mode))
        self.mode.currentIndexChanged.connect(self._on_mode)
        self.count = QLabel()
        self.count.setProperty("role", "hint")
        self.count.setMinimumWidth(self.count.fontMetrics().horizontalAdvance("99 values") + 2)
        self.count.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.error = error_label()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.stack, 1)
        row.addWidget(self.unit)
        row.addWidget(self.mode)
        row.addWidget(self.count)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(1)
        outer.addLayout(row)
        outer.addWidget(self.error)
        self.refresh()

    # -- model -> widgets ------------------------------------------------------------------
    def refresh(self) -> None:
        """Show the model's state (leaves text alone that already means the same value)."""
        draft, path = self._model.draft, self.info.path
        if self._model.input_error(path) is not None:
            return  # the user is typing: keep their text until it parses
        self._updating = True
        try:
            mode = draft.mode(path)
            self.mode.setCurrentIndex(max(self.mode.findData(mode), 0))
            if mode == "fixed":
                self.stack.setCurrentIndex(0)
                self.value.show_value(draft.resolved().get(path))
                self.count.setText("")
            elif mode == "list":
                self.stack.setCurrentIndex(1)
                values = draft.variables[path]
                if not _means(self.list_edit, lambda t: parse_list(t, self.info), values):
                    self.list_edit.setText(format_list(values) if isinstance(values, list) else "")
            else:
                self.stack.setCurrentIndex(2)
                args = draft.variables[path][mode]
                for lab, ed, text, tip in zip(self.gen_labels, self.gen_edits, _GEN_LABELS[mode],
                                              _GEN_TIPS[mode]):
                    lab.setText(text)
                    ed.setPlaceholderText(text)
                    ed.setToolTip(f"<b>{mode}</b>: {tip}<br>{self.toolTip()}")
                for i, ed in enumerate(self.gen_edits):
                    value = args[i] if i < len(args) else None
                    if not _means(ed, lambda t: float(t), value):
                        ed.setText(format_number(value))
            n = draft.count(path)
            if mode != "fixed":
                self.count.setText("invalid" if n is None else f"{n} value{'s' if n != 1 else ''}")
        finally:
            self._updating = False

    def show_problem(self, message: str | None) -> None:
        """Red border and the message under the row (None clears it)."""
        for w in (self.value, self.list_edit, *self.gen_edits):
            set_invalid(w, bool(message))
        show_error(self.error, message)

    # -- widgets -> model ------------------------------------------------------------------
    def _on_fixed(self, text: str) -> None:
        if self._updating:
            return
        try:
            value = parse_scalar(text, self.info)
        except ValueError as exc:
            self._model.set_input_error(self.info.path, str(exc))
            return
        self._model.set_fixed(self.info.path, value)
        self.edited.emit(self.info.path)

    def _on_list(self, text: str) -> None:
        if self._updating:
            return
        try:
            values = parse_list(text, self.info)
        except ValueError as exc:
            self._model.set_input_error(self.info.path, str(exc))
            return
        self._model.set_variable(self.info.path, values)
        self.edited.emit(self.info.path)

    def _on_generator(self, _text: str) -> None:
        if self._updating:
            return
        mode = self.mode.currentData()
        try:
            args = []
            for lab, ed in zip(_GEN_LABELS[mode], self.gen_edits):
                value = float(ed.text())
                args.append(int(value) if lab == "count" and value.is_integer() else value)
            spec = {mode: args}
            generate(spec)
        except ValueError as exc:
            msg = str(exc) if "could not convert" not in str(exc) else f"{mode} needs three numbers"
            self._model.set_input_error(self.info.path, msg)
            return
        self._model.set_variable(self.info.path, spec)
        self.edited.emit(self.info.path)

    def _on_mode(self, _index: int) -> None:
        if self._updating:
            return
        self._model.set_mode(self.info.path, self.mode.currentData())
        self.edited.emit(self.info.path)
