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
import re
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
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

from sweepgui.nix.machines import PROTOCOLS, UINT_MAX, Entry, Machine, MachinesError, MachinesFile
from sweepgui.nix.machines_line import column_text_problem, speed_ok

from .icons import status_icon
from .widgets import WheelSafeComboBox, WheelSafeDoubleSpinBox, WheelSafeSpinBox

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
_NAME = re.compile(r"^[A-Za-z0-9_.+-]+$")
_HOST = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]#;]+)$")
_USER = re.compile(r"^[^@/?\s:#;]+$")


def _names(text: str, what: str) -> list[str]:
    items = [t.strip() for t in text.split(",") if t.strip()]
    for item in items:
        if not _NAME.match(item):
            raise ValueError(f"'{item}' is not a valid {what} name (letters, digits, _ . + -)")
    return items


def parse_cell(key: str, value: Any) -> Any:
    """The Machine field value of what the user entered; ValueError with a message if bad."""
    text = "" if value is None else str(value).strip()
    if key == "protocol":
        if text not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}")
        return text
    if key == "host":
        if not text or not _HOST.match(text) or column_text_problem(text, 0):
            raise ValueError("enter a host name or address (no spaces, '@', '/', ':', ';' or '#')")
        if text.startswith("-"):
            raise ValueError(f"'{text}' starts with '-', so ssh would read it as an option: "
                             "enter the builder's host name or address")
        return text
    if key == "user":
        if text and (not _USER.match(text) or column_text_problem(text, 0)):
            raise ValueError("a user name has no spaces, '@', '/', ':', ';' or '#'")
        if text.startswith("-"):
            raise ValueError(f"'{text}' starts with '-', so ssh would read it as an option: "
                             "enter the login name on the builder")
        return text or None
    if key == "ssh_key":
        problem = column_text_problem(text, 2)
        if problem:  # e.g. "contains ';' (it separates machines) ... move it, or link it"
            raise ValueError(problem)
        return text or None
    if key in ("port", "max_jobs"):
        if not text or text == "-" or (key == "port" and text == "0"):
            return None
        if not text.isdigit():
            raise ValueError(f"{'port' if key == 'port' else 'max jobs'} must be a whole number")
        n = int(text)
        if key == "port" and not 0 < n < 65536:
            raise ValueError("port must be between 1 and 65535")
        if key == "max_jobs" and n > UINT_MAX:
            raise ValueError(f"max jobs must be at most {UINT_MAX} (the largest number Nix reads)")
        return n
    if key == "speed_factor":
        if not text or text == "-":
            return None
        try:
            x = float(text)
        except ValueError:
            raise ValueError("speed factor must be a number such as 2") from None
        if not speed_ok(x):
            raise ValueError(f"speed factor must be a number from 0 to {UINT_MAX}")
        return int(x) if x.is_integer() else x
    if key in ("systems", "supported_features", "mandatory_features"):
        return _names(text, "system" if key == "systems" else "feature")
    if key == "host_key":
        if not text or text == "-":
            return None
        return host_key_column(text)
    raise KeyError(key)


_KEY_TYPE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)$")
_HOST_KEY_HELP = ("paste the builder's public host key as ssh-keyscan or known_hosts give it "
                  "('ssh-ed25519 AAAA…'), or its base64 as in a machines file")


def host_key_column(text: str) -> str:
    """Column 8 of the machines file (base64 of ``TYPE KEY``) from what a user pastes.

    Takes the key line itself (``ssh-ed25519 AAAA… [comment]``), a line of ``ssh-keyscan``
    (``HOST TYPE KEY``) or of ``known_hosts`` (``HOSTS TYPE KEY [comment]``), or column 8 as
    it is. ValueError says why a text is not a host key.
    """
    tokens = text.split()
    for i, token in enumerate(tokens[:-1]):
        if _KEY_TYPE.match(token):
            blob = tokens[i + 1]
            try:
                raw = base64.b64decode(blob, validate=True)
                n = int.from_bytes(raw[:4], "big")
                inner = raw[4:4 + n].decode("ascii")
            except (binascii.Error, UnicodeDecodeError, ValueError):
                raise ValueError(f"the text after '{token}' is not a key (base64 expected): "
                                 f"{_HOST_KEY_HELP}") from None
            if inner != token or len(raw) < 4 + n + 4:
                raise ValueError(f"the key after '{token}' is not a {token} key: {_HOST_KEY_HELP}")
            return base64.b64encode(f"{token} {blob}".encode()).decode()
    if len(tokens) == 1:  # column 8 itself
        try:
            decoded = base64.b64decode(text, validate=True).decode("utf-8").split()
        except (binascii.Error, UnicodeDecodeError):
            decoded = []
        if len(decoded) >= 2:
            return text  # as the file has it (its comment, if any, kept)
    raise ValueError(f"this is not a host key: {_HOST_KEY_HELP}")


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
        from sweepgui.nix.machines_nix import readable_by_nix

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
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.entries())

    def columnCount(self, parent=QModelIndex()) -> int:
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
        from sweepgui.nix.machines_nix import readable_by_nix

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
