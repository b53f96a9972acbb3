"""The parameter forms: one section per parameter group, generated from the pydantic fields.

Every row is a generic :class:`~sweepgui.ui.forms.binder.FieldEditor`; the only extras are data:
suggestions for text fields (material presets, CoolProp fluids) and what picking one does.
A header shows the point count (and, once the engine planned it, cached / to build) and why
Run is disabled while the input is invalid.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from sweepgui.params import GROUPS, field_info, iter_fields
from sweepgui.params.presets import material_presets
from sweepgui.results import modes_at_nodes
from sweepgui.sweep import EOS, SweepDraft, SweepError
from sweepgui.ui.background import BackgroundCall
from sweepgui.ui.forms.binder import FieldEditor, field_title
from sweepgui.ui.forms.fluids import FLUIDS
from sweepgui.ui.forms.run_settings import RunSettingsBox
from sweepgui.ui.forms.sweep_model import SweepModel
from sweepgui.ui.forms.zips import DimensionsBox
from sweepgui.ui.widgets import INVALID_STYLE, error_label, show_error

GROUP_TITLES = {"pipe": "Pipe", "material": "Material", "fluid": "Fluid",
                "state": "State", "analysis": "Analysis"}
VALIDATE_DELAY_MS = 120  # validate after typing pauses, not on every key
# Up to this many points, and this many swept values in all, the sweep is checked on the GUI
# thread (about 20 ms); more on a thread. The values count too: each value of each axis is
# validated once (0.1-0.3 s for two 4,000-value ranges, which stalled the window).
SYNC_POINTS = 1000
SYNC_VALUES = 300
_DOTTED = re.compile(r"\b(?:" + "|".join(GROUPS) + r")\.[a-z_]+\b")
_SNAKE = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")  # f_min, wall_thickness (not plain words)


def check_draft(draft: SweepDraft, problems: list[tuple[str, str]]) -> tuple[list, Any]:
    """(problems, Sweep or None) of a draft; ``problems`` are the model's own so far.

    Qt-free, so that large sweeps can be checked on a worker thread.
    """
    if problems:
        return problems, None
    try:
        sweep = draft.to_sweep()  # loads_sweep checks every point
    except SweepError as exc:
        return [(exc.key or "", str(exc))], None
    except ValueError as exc:  # a parameter rule of its own (no key to name)
        return [("", str(exc))], None
    return [], sweep


class ParameterForms(QWidget):
    """Forms over a :class:`SweepModel`.

    Signals
    -------
    validityChanged(bool, str) : whether the sweep can run, and if not, why.
    sweepChanged(object) : the validated ``Sweep`` after an edit (None while invalid).
    """

    validityChanged = Signal(bool, str)
    sweepChanged = Signal(object)

    def __init__(self, model: SweepModel, parent: QWidget | None = None):
        super().__init__(parent)
        self._model = model
        self.editors: dict[str, FieldEditor] = {}
        self.group_errors: dict[str, QLabel] = {}
        self.sweep: Any = None
        self.reason = ""
        self._plan_text = ""
        self._labels: list[QLabel] = []
        self.setStyleSheet(INVALID_STYLE)

        # header: point count, plan, run
        self.points_label = QLabel()
        self.points_label.setObjectName("points")
        self.plan_label = QLabel()
        self.plan_label.setProperty("role", "hint")
        self.run_button = QToolButton()
        self.run_button.setToolButtonStyle(self.run_button.toolButtonStyle().ToolButtonTextBesideIcon)
        self.reason_label = error_label()
        self.reason_label.setObjectName("reason")
        head = QHBoxLayout()
        head.addWidget(self.points_label)
        head.addWidget(self.plan_label, 1)
        head.addWidget(self.run_button)

        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(4, 4, 4, 4)
        self.dimensions = DimensionsBox(self._model)
        col.addWidget(self.dimensions)
        for group in GROUPS:
            col.addWidget(self._section(group))
        self.run_settings = RunSettingsBox(self._model)
        col.addWidget(self.run_settings)
        col.addStretch(1)
        # one label column width for all sections, so the editors line up across groups
        width = max(lab.sizeHint().width() for lab in self._labels)
        for lab in self._labels:
            lab.setMinimumWidth(width)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(body)
        # never scroll sideways (rows cut off mid-word); the narrowest dock still shows every column
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._scroll, self._body = scroll, body
        self._fit_scroll()
        # a row that needs more room later (a long value in a range box) widens the dock
        # instead of being cut off at the right
        self._layout_watch = _LayoutWatch(self._fit_scroll, body)
        body.installEventFilter(self._layout_watch)

        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        outer.addLayout(head)
        outer.addWidget(self.reason_label)
        self.other_errors = error_label()  # problems of [zip], [run], [model]: no section of their own
        outer.addWidget(self.other_errors)
        outer.addWidget(scroll, 1)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(VALIDATE_DELAY_MS)
        self._timer.timeout.connect(self._validate_soon)
        self._generation = 0
        self._checking = False  # a check runs on a thread (its result is not shown yet)
        self._closed = False
        self._check_call = BackgroundCall(self, name="sweepgui-check")
        self._check_call.done.connect(self._on_checked)
        model.changed.connect(self._on_model_changed)
        self._on_model_changed()
        self.validate_now()

    # -- building --------------------------------------------------------------------------
    def _section(self, group: str) -> QGroupBox:
        box = QGroupBox(GROUP_TITLES.get(group, group))
        box.setObjectName(f"group:{group}")
        form = QFormLayout(box)
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        for info in iter_fields():
            if info.group != group:
                continue
            suggestions, picked = self._extras(info.path)
            editor = FieldEditor(info, self._model, suggestions=suggestions, picked=picked)
            self.editors[info.path] = editor
            label = QLabel(info.label or info.name)
            label.setToolTip(editor.toolTip())
            label.setBuddy(editor.value)
            self._labels.append(label)
            form.addRow(label, editor)
            if info.path == "fluid.name":
                self.density_given = QCheckBox("density given (not from the equation of state)")
                self.density_given.setToolTip(
                    "Checked: the fluid density below is used as given (and can be swept).\n"
                    "Unchecked: CoolProp computes it from the fluid, pressure and temperature.")
                self.density_given.toggled.connect(self._on_density_given)
                spacer = QLabel("")
                self._labels.append(spacer)
                form.addRow(spacer, self.density_given)
        if group == "analysis":
            # modes the drive or pick-up position cannot show (a node there): said where the
            # positions are set, before anything is built
            self.node_hint = QLabel()
            self.node_hint.setObjectName("nodeHint")
            self.node_hint.setWordWrap(True)
            self.node_hint.setStyleSheet("color: #9a6700;")
            self.node_hint.setVisible(False)
            form.addRow(self.node_hint)
        err = error_label()
        form.addRow(err)
        self.group_errors[group] = err
        return box

    def _extras(self, path: str):
        """Suggestions and pick action of text fields: the only field-specific data."""
        if path == "material.name":
            return (lambda: list(material_presets())), self._model.apply_material_preset
        if path == "fluid.name":
            return (lambda: list(FLUIDS)), None
        return None, None

    def _fit_scroll(self) -> None:
        bar = self._scroll.verticalScrollBar().sizeHint().width()
        need = self._body.minimumSizeHint().width() + bar + 4
        if need != self._scroll.minimumWidth():
            self._scroll.setMinimumWidth(need)
        self._preferred_width = max(self._body.sizeHint().width() + bar + 16, need)

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(max(hint.width(), self._preferred_width))
        return hint

    def set_run_action(self, action: QAction) -> None:
        """Show the window's Run action in the header (enabled state follows validity)."""
        self.run_button.setDefaultAction(action)

    # -- model -> widgets ------------------------------------------------------------------
    def _on_model_changed(self) -> None:
        for editor in self.editors.values():
            editor.refresh()
        draft = self._model.draft
        # a file's fluid.density = "eos" means the same as no value: not given
        given = "fluid.density" in draft.variables or draft.fixed.get("fluid.density") not in (None, EOS)
        self.density_given.blockSignals(True)
        self.density_given.setChecked(given)
        self.density_given.blockSignals(False)
        self.editors["fluid.density"].setEnabled(given)
        self._update_count()
        self._update_node_hint()
        self._timer.start()

    def _update_node_hint(self) -> None:
        """Name the modes whose peaks the drive and pick-up positions hide (fixed values; a
        swept one is marked per point in the run panel's table)."""
        draft = self._model.draft
        paths = ("pipe.boundary", "analysis.excitation_position", "analysis.response_position",
                 "analysis.modes")
        text = ""
        if not draft.model.get("executable") and not any(p in draft.variables for p in paths):
            values = draft.resolved()
            boundary, drive, pick, modes = (values.get(p) for p in paths)
            try:
                hidden = modes_at_nodes(str(boundary), float(drive), float(pick), int(modes))
            except (TypeError, ValueError):
                hidden = ()
            if hidden:
                names = ", ".join(str(m) for m in hidden)
                which = "Mode" if len(hidden) == 1 else "Modes"
                one = len(hidden) == 1
                text = (f"⚠ {which} {names} {'has' if one else 'have'} a node at the drive or "
                        f"pick-up position: {'its peak is' if one else 'their peaks are'} "
                        "missing from the spectrum (the frequencies are still listed). Move the "
                        "positions off the nodes to see them.")
        self.node_hint.setText(text)
        self.node_hint.setVisible(bool(text))

    def _update_count(self) -> None:
        draft = self._model.draft
        n = draft.point_count()
        dims = draft.dimension_counts()
        if n is None:
            text = "<b>? points</b>"
        else:
            text = f"<b>{n:,} point{'s' if n != 1 else ''}</b>"
        if len(dims) > 1 and n is not None:
            text += " = " + " × ".join(str(c) for _, c in dims)
        self.points_label.setText(text)
        self.points_label.setToolTip("\n".join(f"{name}: {c} values" for name, c in dims)
                                     or "No swept parameter: one point")

    def set_plan(self, plan: Any) -> None:
        """Show the engine's plan (``Plan.cached`` / ``Plan.to_build``); None clears it."""
        if plan is None or self.sweep is None:  # a plan of an older, valid sweep: not this one
            self.plan_label.setText("")
            return
        self.plan_label.setText(f"· {plan.cached} cached, {plan.to_build} to build")

    # -- checking --------------------------------------------------------------------------
    def validate_now(self) -> None:
        """Check the sweep here and now: every problem at its field, the Sweep, Run's state."""
        self._timer.stop()
        self._generation += 1
        self._checking = False
        self._apply(*check_draft(self._model.draft, self._model.problems()))

    def is_current(self) -> bool:
        """Whether ``sweep`` and ``reason`` are those of the model as it is now (no check
        waiting for a pause in typing or running on a thread)."""
        return not self._timer.isActive() and not self._checking

    @staticmethod
    def _heavy(draft: SweepDraft) -> bool:
        """Whether checking ``draft`` would stall the window (then it runs on a thread)."""
        points = draft.point_count() or 0
        values = sum(n or 0 for _, n in draft.dimension_counts())
        return points > SYNC_POINTS or values > SYNC_VALUES

    def _validate_soon(self) -> None:
        """After a pause in typing: small sweeps at once, large ones on a worker thread."""
        if self._closed:
            return
        draft = self._model.draft
        if not self._heavy(draft):
            self.validate_now()
            return
        self._generation += 1
        self._checking = True
        generation, copy = self._generation, draft.copy()
        inputs = self._model.input_problems()
        n = draft.point_count()
        self._show_reason(f"Checking {n:,} points…" if n else "Checking the sweep…")
        self.run_button.setEnabled(False)
        # the expensive part (every value of every axis, then the points) on a copy: the
        # thread holds no widget and nothing the user edits meanwhile
        self._check_call.start_latest(
            lambda: (generation, check_draft(copy, inputs + copy.problems())))

    def _on_checked(self, outcome: tuple | None, error: BaseException | None) -> None:
        """A check's result, on the GUI thread."""
        if error is not None:  # check_draft turns what users can cause into problems: a bug
            raise error
        generation, result = outcome
        if generation == self._generation and not self._closed:  # newer edits supersede it
            self._checking = False
            self._apply(*result)

    def _apply(self, problems: list[tuple[str, str]], sweep: Any) -> None:
        by_field: dict[str, list[str]] = {}
        by_group: dict[str, list[str]] = {}
        for path, msg in problems:
            target = self._field_of(path, msg)
            text = self._humanize(path, msg)
            if target:
                by_field.setdefault(target, []).append(text)
            else:
                by_group.setdefault(path.split(".")[0], []).append(
                    f"{self._title(path)}: {text}" if path else text)
        for path, editor in self.editors.items():
            editor.show_problem("; ".join(by_field.get(path, [])) or None)
        for group, label in self.group_errors.items():
            show_error(label, "\n".join(by_group.pop(group, [])) or None)
        leftover = [m for msgs in by_group.values() for m in msgs]
        show_error(self.other_errors, "\n".join(leftover) or None)
        ok = not problems
        reason = ""
        if not ok:
            path, msg = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            target = self._field_of(path, msg)
            text = self._humanize(path, msg)
            if target and target != path:  # a rule of a group that names its field first
                reason = f"Cannot run: {text}{more}"
            elif path and path not in msg:
                # the field as the form names it ("Drive position"), not its dotted path
                reason = f"Cannot run: {self._title(path)}: {text}{more}"
            else:
                reason = f"Cannot run: {text}{more}"
        self.reason = reason
        self._show_reason(reason)
        if sweep is None:
            self.set_plan(None)
        changed = (sweep is None) != (self.sweep is None) or (
            sweep is not None and (sweep != self.sweep or sweep.source != self.sweep.source))
        self.sweep = sweep
        self.validityChanged.emit(ok, reason)
        if changed:
            self.sweepChanged.emit(sweep)

    def shutdown(self) -> None:
        """Stop checking (the window is closing): no more validity or sweep signals."""
        self._timer.stop()
        self._layout_watch.callback = None
        self._generation += 1  # results of checks still on their way are dropped
        self._check_call.cancel_pending()
        self._closed = True

    def _show_reason(self, reason: str) -> None:
        show_error(self.reason_label, reason or None)
        self.reason_label.setToolTip(reason)

    @staticmethod
    def _humanize(path: str, msg: str) -> str:
        """A message in the form's words: field names (``f_min``, ``analysis.modes``) of the
        parameters' own rules become the labels the form shows ("Lowest frequency")."""
        group = path.split(".", 1)[0]
        if path not in GROUPS:
            try:
                field_info(path)
            except KeyError:  # e.g. an unknown key of a sweep file: its words are the file's
                return msg

        def label(info, first: bool) -> str:
            text = info.label or info.name
            return text if first else text[:1].lower() + text[1:]

        def dotted(m: re.Match) -> str:
            try:
                return label(field_info(m.group(0)), m.start() == 0)
            except KeyError:
                return m.group(0)

        def bare(m: re.Match) -> str:
            try:
                return label(field_info(f"{group}.{m.group(0)}"), m.start() == 0)
            except KeyError:
                return m.group(0)

        if group not in GROUPS:  # e.g. a sweep file's message: its keys are the file's words
            return msg
        return _SNAKE.sub(bare, _DOTTED.sub(dotted, msg))

    @staticmethod
    def _title(path: str) -> str:
        """A field's name in messages: its form label and unit; other paths as they are."""
        try:
            return field_title(field_info(path))
        except KeyError:
            return path

    def _field_of(self, path: str, msg: str) -> str | None:
        """The field a problem belongs to; a group's cross-field message names its field first."""
        if path in self.editors:
            return path
        if path in GROUPS:
            first = msg.split(" ", 1)[0]
            candidate = f"{path}.{first}"
            try:
                field_info(candidate)
                return candidate
            except KeyError:
                return None
        return None

    # -- special rows ----------------------------------------------------------------------
    def _on_density_given(self, checked: bool) -> None:
        if checked:
            # start from the density of water, a value in range the user then edits
            self._model.set_fixed("fluid.density", 1000.0)
        else:
            self._model.set_fixed("fluid.density", None)


class _LayoutWatch(QObject):
    """Calls ``callback`` when the watched widget's layout asks for a new size."""

    def __init__(self, callback, parent: QObject | None = None):
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, obj, event) -> bool:
        if event.type() == QEvent.Type.LayoutRequest and self.callback is not None:
            self.callback()
        return False
