"""Table model and editors of the build-machines editor.

:class:`MachinesTableModel` is a ``QAbstractTableModel`` over the Qt-free
:class:`~sweepgui.nix.machines.MachinesFile`: one row per machine entry, one column per field.
Comments, blank lines and ``@include`` lines stay in the file's item list, untouched, so that
they survive the table round trip; an unchanged machine keeps its original line too.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QStyledItemDelegate,
    QToolButton,
    QWidget,
)

from sweepgui.nix.machines import (
    PROTOCOLS,
    Entry,
    Machine,
    MachinesError,
    MachinesFile,
    parse_field,
    readable_by_nix,
)
from sweepgui.ui.icons import status_icon
from sweepgui.ui.widgets import WheelSafeComboBox, WheelSafeDoubleSpinBox, WheelSafeSpinBox

# (key, header, tooltip)
COLUMNS = [
    ("status", "Status", "Result of the last Test (hover for the messages)"),
    ("protocol", "Protocol", "ssh (nix-store --serve) or ssh-ng (nix-daemon protocol)"),
    ("user", "User", "SSH user on the builder (empty: your own user name)"),
    ("host", "Host", "Host name or address of the builder"),
    ("port", "Port", "SSH port (empty: 22 or what ~/.ssh/config says)"),
    ("systems", "Systems", "Systems it builds for, comma separated (empty: this machine's)"),
    ("ssh_key", "Identity file", "SSH private key (no passphrase, mode 600); empty: ssh's default"),
    ("max_jobs", "Max jobs", "Builds it runs at once (empty: 1)"),
    ("speed_factor", "Speed", "Relative speed; Nix prefers faster builders (empty: 1)"),
    ("supported_features", "Features", "Supported features, comma separated (e.g. big-parallel,kvm)"),
    ("mandatory_features", "Mandatory", "Features a build must ask for to be sent here"),
    ("host_key", "Host key", "Pinned public host key: paste 'ssh-ed25519 AAAA…' (as ssh-keyscan "
                             "or known_hosts give it) or its base64 as in the machines file; "
                             "'Fetch host key' fills it in"),
]
KEYS = [c[0] for c in COLUMNS]
_ROOT = QModelIndex()  # the table's (invisible) root: rows and columns have no children


def parse_cell(key: str, value: Any) -> Any:
    """The Machine field value of what the user entered in the ``key`` column: read with the
    machines file's own grammar (:func:`~sweepgui.nix.machines.parse_field`, one function per
    column; an empty cell is the column's default, as ``-`` in the file). ValueError with the
    grammar's message if the file could not hold it."""
    text = "" if value is None else str(value).strip()
    try:
        return parse_field(key, text)
    except MachinesError as exc:
        raise ValueError(exc.msg) from None


def display(machine: Machine, key: str) -> str:
    value = getattr(machine, key)
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(value)
    if key == "host_key":
        try:
            kind, body = base64.b64decode(value).decode().split()[:2]
            return f"{kind} …{body[-12:]}"
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return value
    return str(value)


class MachinesTableModel(QAbstractTableModel):
    """Rows: the machine entries of a MachinesFile, in file order.

    Signals
    -------
    problem(str) : an edit was refused or changed, and why (also: values in a file just set
        that the local Nix cannot read and saving will change).
    edited() : the file content changed (for the unsaved marker).
    """

    problem = Signal(str)
    refused = Signal(int, int, str)  # (row, column, why): an edit was refused
    edited = Signal()

    def __init__(self, machines_file: MachinesFile | None = None, parent=None):
        super().__init__(parent)
        self._file = machines_file or MachinesFile()
        self._status: dict[int, tuple[str, str]] = {}  # id(entry) -> (level, message)

    # -- the file --------------------------------------------------------------------------
    @property
    def machines_file(self) -> MachinesFile:
        return self._file

    def set_file(self, machines_file: MachinesFile) -> None:
        self.beginResetModel()
        self._file = machines_file
        self._status.clear()
        self.endResetModel()
        for machine in machines_file.machines:  # e.g. a fraction an older sweepgui wrote
            note = readable_by_nix(machine)[1]
            if note:
                self.problem.emit(f"{note}; saving writes that")

    def entries(self) -> list[Entry]:
        return [it for it in self._file.items if isinstance(it, Entry)]

    def machine(self, row: int) -> Machine:
        return self.entries()[row].machine

    def entry(self, row: int) -> Entry:
        return self.entries()[row]

    def insert_machine(self, machine: Machine, after_row: int | None = None) -> int:
        """Add a machine (after ``after_row``, else at the end); returns its row."""
        entries = self.entries()
        if after_row is None or after_row >= len(entries) - 1:
            pos, row = len(self._file.items), len(entries)
        else:
            pos, row = self._file.items.index(entries[after_row]) + 1, after_row + 1
        self.beginInsertRows(QModelIndex(), row, row)
        self._file.items.insert(pos, Entry(machine))
        self.endInsertRows()
        self.edited.emit()
        return row

    def remove_rows(self, rows: list[int]) -> None:
        for row in sorted(set(rows), reverse=True):
            entry = self.entries()[row]
            self.beginRemoveRows(QModelIndex(), row, row)
            self._file.items.remove(entry)
            self._status.pop(id(entry), None)
            self.endRemoveRows()
        if rows:
            self.edited.emit()

    def set_machine(self, row: int, machine: Machine) -> None:
        entry = self.entries()[row]
        entry.machine = machine
        self._status.pop(id(entry), None)
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))
        self.edited.emit()

    def set_status(self, entry: Entry, level: str, message: str) -> None:
        """Show a check result on the row of ``entry`` (ignored if it was removed)."""
        entries = self.entries()
        for row, e in enumerate(entries):
            if e is entry:
                self._status[id(entry)] = (level, message)
                self.dataChanged.emit(self.index(row, 0), self.index(row, 0))
                return

    def status(self, row: int) -> tuple[str, str] | None:
        return self._status.get(id(self.entries()[row]))

    # -- Qt's model interface --------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(self.entries())

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = _ROOT) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][1]
            if role == Qt.ItemDataRole.ToolTipRole:
                return COLUMNS[section][2]
        if orientation == Qt.Orientation.Vertical and role == Qt.ItemDataRole.DisplayRole:
            return str(section + 1)
        return None

    def flags(self, index):
        base = super().flags(index)
        if index.isValid() and KEYS[index.column()] != "status":
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        key = KEYS[index.column()]
        row = index.row()
        machine = self.machine(row)
        if key == "status":
            level, message = self.status(row) or ("", "not tested")
            if role == Qt.ItemDataRole.DisplayRole:
                return {"ok": "ok", "warning": "warning", "error": "failed",
                        "running": "testing…"}.get(level, "")
            if role == Qt.ItemDataRole.DecorationRole:
                return status_icon(level)
            if role == Qt.ItemDataRole.ToolTipRole:
                return message
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return display(machine, key)
        if role == Qt.ItemDataRole.EditRole:
            value = getattr(machine, key)
            return ",".join(value) if isinstance(value, list) else ("" if value is None else value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "host_key" and machine.host_key:
                return machine.host_key_line()
            return COLUMNS[index.column()][2]
        return None

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole:
            return False
        key = KEYS[index.column()]
        if key == "status":
            return False
        try:
            parsed = parse_cell(key, value)
        except ValueError as exc:
            self._refuse(index, str(exc))
            return False
        machine = self.machine(index.row())
        if getattr(machine, key) == parsed:
            return True
        changed = dataclasses.replace(machine, **{key: parsed})
        try:  # the last word: the line reads back as this machine
            changed.validate()
        except MachinesError as exc:
            self._refuse(index, exc.msg)
            return False
        changed, note = readable_by_nix(changed)  # e.g. a fraction on Nix < 2.20: whole
        self.set_machine(index.row(), changed)
        if note:
            self.problem.emit(f"{COLUMNS[index.column()][1]}: {note}")
        return True


    def _refuse(self, index, why: str) -> None:
        self.problem.emit(f"{COLUMNS[index.column()][1]}: {why}")
        self.refused.emit(index.row(), index.column(), why)


class IdentityFileEditor(QWidget):
    """A path field with a "…" button that opens a file chooser in ~/.ssh."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("~/.ssh/id_ed25519")
        button = QToolButton()
        button.setText("…")
        button.setToolTip("Choose the identity file")
        button.clicked.connect(self._choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(button)
        self.setFocusProxy(self.edit)

    def _choose(self) -> None:
        import os

        start = self.edit.text() or os.path.expanduser("~/.ssh")
        path, _ = QFileDialog.getOpenFileName(self, "Identity file", start)
        if path:
            self.edit.setText(path)


class MachineDelegate(QStyledItemDelegate):
    """Suitable editors: protocol combo, spin boxes for port/jobs/speed, file chooser for keys."""

    def createEditor(self, parent, option, index):
        key = KEYS[index.column()]
        # the wheel over an open cell editor scrolls the table unless the editor has the focus
        if key == "protocol":
            combo = WheelSafeComboBox(parent)
            combo.addItems(list(PROTOCOLS))
            return combo
        if key in ("port", "max_jobs"):
            spin = WheelSafeSpinBox(parent)
            spin.setRange(0, 65535 if key == "port" else 10_000)
            spin.setSpecialValueText("default")  # 0 = the column's default ("-")
            return spin
        if key == "speed_factor":
            spin = WheelSafeDoubleSpinBox(parent)
            spin.setRange(0.0, 1e6)
            spin.setDecimals(2)
            spin.setSpecialValueText("default")
            return spin
        if key == "ssh_key":
            return IdentityFileEditor(parent)
        return super().createEditor(parent, option, index)

    def updateEditorGeometry(self, editor, option, index):
        # columns are sized to their text; an editor gets at least the room it needs (a spin box
        # or the protocol box in a narrow column showed only part of its value)
        rect = option.rect
        rect.setWidth(max(rect.width(), editor.sizeHint().width()))
        editor.setGeometry(rect)

    def setEditorData(self, editor, index):
        value = index.data(Qt.ItemDataRole.EditRole)
        if isinstance(editor, QComboBox):
            editor.setCurrentText(str(value))
        elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            editor.setValue(value or 0)
        elif isinstance(editor, IdentityFileEditor):
            editor.edit.setText(str(value or ""))
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor, model, index):
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText())
        elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
            value = editor.value()
            model.setData(index, "" if value == 0 else value)
        elif isinstance(editor, IdentityFileEditor):
            model.setData(index, editor.edit.text())
        else:
            super().setModelData(editor, model, index)
