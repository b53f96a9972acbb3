"""The ``[run]`` and ``[model]`` tables of the sweep in the forms: jobs, machines file, model.

Paths are written as the user gives them; relative ones are relative to the sweep file's
folder (as in the file), so the chooser offers paths relative to it when it can.
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QToolButton,
    QWidget,
)

from sweepgui.ui.forms.sweep_model import SweepModel
from sweepgui.ui.widgets import WheelSafeSpinBox

AUTO = -1  # the spin box's "default" value: the key is left out of the file


class RunSettingsBox(QGroupBox):
    """Local jobs, machines file and custom model executable of the sweep."""

    def __init__(self, model: SweepModel, parent: QWidget | None = None):
        super().__init__("Run", parent)
        self.setObjectName("group:run")
        self._model = model
        self._updating = False
        self.jobs = WheelSafeSpinBox()
        self.jobs.setRange(AUTO, 4096)
        self.jobs.setSpecialValueText("default (Nix's max-jobs)")
        self.jobs.setMaximumWidth(260)
        self.jobs.setToolTip("Points built at once on this computer; 0 = only on the build "
                             "machines (then give a machines file)")
        self.jobs.valueChanged.connect(self._on_jobs)
        self.machines = self._path_row("run", "machines", "Nix machines file for this sweep "
                                       "(relative to the sweep file); empty: the build machines "
                                       "tab's file if it is in use, else this computer only")
        self.executable = self._path_row("model", "executable", "A custom model script with the "
                                         "seed's contract (params JSON in, output path out); empty: "
                                         "the built-in pipe model")
        form = QFormLayout(self)
        form.addRow("Local jobs", self.jobs)
        form.addRow("Machines file", self.machines.parentWidget())
        form.addRow("Model executable", self.executable.parentWidget())
        model.changed.connect(self.refresh)
        self.refresh()

    def _path_row(self, section: str, key: str, tip: str) -> QLineEdit:
        row = QWidget(self)  # parented: the row outlives this method
        edit = QLineEdit(row)
        edit.setToolTip(tip)
        edit.setPlaceholderText("(none)")
        edit.editingFinished.connect(lambda: self._model.set_setting(section, key, edit.text().strip()))
        button = QToolButton(row)
        button.setText("…")
        button.setToolTip("Choose the file")
        button.clicked.connect(lambda: self._choose(section, key, edit))
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(edit, 1)
        layout.addWidget(button)
        return edit

    def _choose(self, section: str, key: str, edit: QLineEdit) -> None:
        base = self._model.source.parent if self._model.source else Path.cwd()
        path, _ = QFileDialog.getOpenFileName(self, "Choose a file", str(base))
        if not path:
            return
        if self._model.source is not None:
            relative = os.path.relpath(path, base)
            path = relative if not relative.startswith("..") else path
        edit.setText(path)
        self._model.set_setting(section, key, path)

    def refresh(self) -> None:
        draft = self._model.draft
        self._updating = True
        try:
            jobs = draft.run.get("jobs")
            self.jobs.setValue(AUTO if not isinstance(jobs, int) else jobs)
            for edit, table, key in ((self.machines, draft.run, "machines"),
                                     (self.executable, draft.model, "executable")):
                text = str(table.get(key) or "")
                if edit.text() != text and not edit.hasFocus():
                    edit.setText(text)
        finally:
            self._updating = False

    def _on_jobs(self, value: int) -> None:
        if not self._updating:
            self._model.set_setting("run", "jobs", None if value == AUTO else value)
