"""The build-machines editor: a table over the user's Nix machines file.

Add, duplicate and remove machines, import the system's, save to the user's file (atomic,
one ``.bak``), test machines and fetch host keys without blocking the window (the checks run
on worker threads and come back through a queued signal), and copy the NixOS snippet.

Given the Nix set-up (:meth:`QtMachineEditor.set_setup`), it also shows the builders Nix or
the nix-daemon uses by itself, marks which set runs really use, and, when the daemon ignores
the user's machines, says so with the two fixes (``machines_system``, ``machines_install``).
"""

from __future__ import annotations

import dataclasses
import html
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QSplitter,
    QTableView,
    QToolBar,
    QToolButton,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from sweepgui.nix.machines import Entry, Machine, MachinesError, MachinesFile, default_machines_path
from sweepgui.ui.machines.system import IgnoredMachinesBanner, SystemMachinesView, own_heading, runs_use
from sweepgui.ui.machines.table import COLUMNS, KEYS, MachineDelegate, MachinesTableModel
from sweepgui.ui.widgets import deliver_to, error_label, show_error

CHECK_WORKERS = 4


class QtMachineEditor(QWidget):
    """Editor of one machines file (by default the user's own, ``~/.config/sweepgui/machines``).

    ``setup``: the :class:`~sweepgui.nix.setup.NixSetup` (the window passes the one it
    detected off the GUI thread; None: not known yet).

    Signals
    -------
    message(str) : something to show in the status bar.
    machinesChanged() : the machines, the file or 'Use these machines for runs' changed.
    setupStale() : the system's machines were changed: the Nix set-up should be detected again.
    """

    message = Signal(str)
    machinesChanged = Signal()
    setupStale = Signal()

    def __init__(self, path: Path | None = None, parent: QWidget | None = None, setup=None):
        super().__init__(parent)
        self.path = Path(path) if path else default_machines_path()
        self.setup = setup
        self.install_dialog = None
        self.host_key_dialog = None  # the last "Host key changed" question
        self._saved_text = ""
        self._saved_machines = False
        self._pool: ThreadPoolExecutor | None = None
        self.model = MachinesTableModel(parent=self)
        self.model.problem.connect(self._show)
        self.model.refused.connect(self._on_refused)
        self.model.edited.connect(self._update_state)
        self.model.edited.connect(self._on_machines_changed)
        self.model.edited.connect(self._on_edited)

        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setItemDelegate(MachineDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)  # "bu…\nse…": one line per machine, columns fit their text
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_state())

        self.file_label = QLabel()
        self.file_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # the selected machine's last test, in full (the status cell has room for one word)
        self.details = QLabel()
        self.details.setObjectName("details")
        self.details.setWordWrap(True)
        self.details.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # an edit the table refused, said under the table (and at the cell), not only in the
        # status bar: "Row 1, Host key: …"
        self.cell_error = error_label()
        self.cell_error.setObjectName("cellError")
        self.cell_error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.empty_hint = QLabel()
        self.empty_hint.setWordWrap(True)
        self.use_for_runs = QCheckBox("Use these machines for runs")
        self.use_for_runs.setToolTip("Pass the saved file to Nix (--builders @FILE) when a sweep "
                                     "has no machines file of its own")
        self.use_for_runs.toggled.connect(lambda _: self._on_machines_changed())
        # said beside the box whatever the Nix set-up: saved machines are not used by themselves
        self.runs_hint = QLabel("not used for runs")
        self.runs_hint.setObjectName("runsHint")
        self.runs_hint.setStyleSheet("color: #9a6700;")
        self.runs_hint.setToolTip("Saving never changes this choice: tick 'Use these machines "
                                  "for runs' to pass them to Nix")
        self.own_heading = QLabel()
        self.own_heading.setObjectName("ownHeading")
        self.own_heading.setWordWrap(True)
        self.own_heading.setTextFormat(Qt.TextFormat.RichText)
        self.banner = IgnoredMachinesBanner()
        self.banner.setVisible(False)
        self.banner.installRequested.connect(self.show_install_dialog)
        self.banner.trustRequested.connect(self.show_trust_dialog)
        self.system_view = SystemMachinesView()

        def button(text, slot, tip):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.clicked.connect(slot)
            return b

        self.buttons = {
            "add": button("Add", self.add_machine, "Add a builder"),
            "duplicate": button("Duplicate", self.duplicate_selected, "Copy the selected builder"),
            "remove": button("Remove", self.remove_selected, "Remove the selected builders"),
            "import": button("Import system machines", self.import_system,
                             "Add the builders the local Nix already uses (nix.conf 'builders', "
                             "/etc/nix/machines)"),
            "test": button("Test", self.test_selected, "Check the selected builders"),
            "test_all": button("Test all", self.test_all, "Check every builder"),
            "fetch": button("Fetch host key", self.fetch_host_key,
                            "Ask the selected builder for its host key and pin it"),
            "nixos": button("NixOS snippet…", self.show_nixos_snippet,
                            "The same machines as a NixOS nix.buildMachines block"),
            "open": button("Open…", self.open_dialog, "Edit another machines file"),
            "save": button("Save", self.save, "Save (atomic; the old file becomes .bak)"),
        }
        # a tool bar folds buttons that do not fit into its extension menu
        top = QToolBar()
        for key in ("add", "duplicate", "remove", "import"):
            top.addWidget(self.buttons[key])
        top.addSeparator()
        for key in ("test", "test_all", "fetch", "nixos"):
            top.addWidget(self.buttons[key])

        bottom = QHBoxLayout()
        bottom.addWidget(self.file_label, 1)
        bottom.addWidget(self.buttons["open"])
        bottom.addWidget(self.buttons["save"])
        bottom.addSpacing(12)
        bottom.addWidget(self.runs_hint)
        bottom.addWidget(self.use_for_runs)
        own = QWidget()
        own_layout = QVBoxLayout(own)
        own_layout.setContentsMargins(0, 0, 0, 0)
        own_layout.addWidget(self.own_heading)
        own_layout.addWidget(self.empty_hint)
        own_layout.addWidget(self.table, 1)
        own_layout.addWidget(self.cell_error)
        own_layout.addWidget(self.details)
        own_layout.addWidget(self.note)
        own_layout.addLayout(bottom)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(own)
        split.addWidget(self.system_view)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(top)
        layout.addWidget(self.banner)
        layout.addWidget(split, 1)

        self._self_ref = weakref.ref(self)  # what worker threads hand their results to
        self.load(self.path, quiet=True)

    # -- file ------------------------------------------------------------------------------
    def load(self, path: Path, quiet: bool = False) -> bool:
        path = Path(path)
        try:
            mf = MachinesFile.load(path) if path.exists() else MachinesFile(source=str(path))
        except MachinesError as exc:
            if not quiet:
                QMessageBox.warning(self, "Machines file", str(exc))
            self._show(str(exc))
            return False
        self.path = path
        self.model.set_file(mf)
        self._saved_text = mf.dumps() if path.exists() else ""
        self._saved_machines = bool(mf.machines) and path.exists()
        self.use_for_runs.setChecked(bool(mf.machines))
        warnings = [f"line {line}: {msg}" for line, msg in mf.warnings]
        kept = len(mf.items) - len(mf.machines)
        if kept:
            warnings.insert(0, f"{len(mf.includes)} @include line(s) and "
                               f"{kept - len(mf.includes)} comment or blank line(s) of this file "
                               "are kept as they are when you save.")
        self.note.setText("\n".join(warnings))
        self.note.setVisible(bool(warnings))
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(0, max(self.table.columnWidth(0), 96))
        self._update_hint()
        self._update_state()
        self._on_machines_changed()
        return True

    def is_dirty(self) -> bool:
        return self.model.machines_file.dumps() != self._saved_text

    def open_dialog(self) -> None:
        if self.is_dirty() and QMessageBox.question(
                self, "Machines", "Discard the unsaved changes to the machines?") \
                != QMessageBox.StandardButton.Yes:
            return
        path, _ = QFileDialog.getOpenFileName(self, "Open machines file", str(self.path.parent))
        if path:
            self.load(Path(path))

    def save(self) -> bool:
        try:
            target = self.model.machines_file.save(self.path)
        except OSError as exc:
            QMessageBox.warning(self, "Machines file", f"Cannot save {self.path}: {exc.strerror or exc}")
            return False
        self._saved_text = self.model.machines_file.dumps()
        self._saved_machines = bool(self.model.machines_file.machines)
        # Saving never changes 'Use these machines for runs' (it once ticked it, and runs then
        # went to a machine that Test had found broken): it says what runs will do instead.
        self._update_state()
        self._on_machines_changed()
        unused = (self._saved_machines and not self.use_for_runs.isChecked())
        self._show(f"Saved {target} (previous version: {target.name}.bak)"
                   + ("; runs do not use these machines until you tick 'Use these machines "
                      "for runs'" if unused else ""))
        return True

    def failed_machines(self) -> list[tuple[str, str]]:
        """(machine name, first problem) of each machine whose last Test found an error."""
        out = []
        for row in range(self.model.rowCount()):
            status = self.model.status(row)
            if status is not None and status[0] == "error":
                lines = [ln for ln in status[1].splitlines() if ln.strip()]
                first = next((ln for ln in lines if ln.startswith("✘")), lines[0] if lines else "")
                out.append((self.model.machine(row).name, first.lstrip("✘ ").strip()))
        return out

    def machines_for_runs(self) -> Path | None:
        """The saved file to pass to runs, or None (not wanted, no machines, or not saved)."""
        if not self.use_for_runs.isChecked() or not self.path.exists():
            return None
        return self.path if self.model.machines_file.machines else None

    # -- editing ---------------------------------------------------------------------------
    def selected_rows(self) -> list[int]:
        return sorted({i.row() for i in self.table.selectionModel().selectedRows()})

    def add_machine(self) -> None:
        row = self.model.insert_machine(Machine(host="builder.example.org", protocol="ssh-ng"))
        self.table.selectRow(row)
        self.table.edit(self.model.index(row, KEYS.index("host")))

    def duplicate_selected(self) -> None:
        for row in reversed(self.selected_rows()):
            copy = dataclasses.replace(self.model.machine(row))
            copy.systems = list(copy.systems)
            copy.supported_features = list(copy.supported_features)
            copy.mandatory_features = list(copy.mandatory_features)
            self.table.selectRow(self.model.insert_machine(copy, after_row=row))

    def remove_selected(self) -> None:
        self.model.remove_rows(self.selected_rows())

    # -- background work -------------------------------------------------------------------
    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(CHECK_WORKERS, thread_name_prefix="sweepgui-machines")
        return self._pool

    def _deliver(self, method: str, *args) -> None:
        """Hand a worker's result to ``method`` on the GUI thread (called on the worker: it
        touches no widget; skipped if the editor is gone by then)."""
        deliver_to(self._self_ref, method, *args)

    def test_selected(self) -> None:
        self._test([self.model.entry(r) for r in self.selected_rows()])

    def test_all(self) -> None:
        self._test(self.model.entries())

    def _test(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.model.set_status(entry, "running", "testing…")
            machine = dataclasses.replace(entry.machine)
            self._executor().submit(_check_job, self._self_ref, entry, machine)

    def _on_checked(self, entry: Entry, level: str, text: str) -> None:
        self.model.set_status(entry, level, text)
        self.table.resizeColumnToContents(0)
        self._update_details()
        first = next((line for line in text.splitlines() if line.startswith("✘")), None)
        self._show(f"{entry.machine.name}: {first[2:] if first else level}")

    def fetch_host_key(self) -> None:
        for row in self.selected_rows():
            entry = self.model.entry(row)
            self.model.set_status(entry, "running", "fetching the host key…")
            self._executor().submit(_fetch_job, self._self_ref, entry,
                                    dataclasses.replace(entry.machine))

    def _on_fetched(self, entry: Entry, key: str | None, error: str) -> None:
        rows = [r for r, e in enumerate(self.model.entries()) if e is entry]
        if not rows:
            return
        if key is None:
            self.model.set_status(entry, "error", error)
            self.table.resizeColumnToContents(0)
            self._update_details()
            self._show(error)
            return
        old = entry.machine.host_key
        if old is not None and old != key:  # the case pinning exists for: ask, never replace
            self._ask_host_key(entry, old, key)
            return
        self.model.set_machine(rows[0], dataclasses.replace(entry.machine, host_key=key))
        verb = "unchanged" if old == key else "pinned"
        self.model.set_status(entry, "ok", f"host key {verb}: {entry.machine.host_key_line()}")
        self._update_details()
        self._show(f"{entry.machine.name}: host key {verb}; compare its fingerprint with the builder's")

    def _ask_host_key(self, entry: Entry, old: str, key: str) -> None:
        """A builder presents another key than the pinned one: show both fingerprints and
        replace the pinned key only if the user says so (the default keeps it)."""
        from sweepgui.nix.machines import fingerprint, host_key_file

        name, new_fp, old_fp = entry.machine.name, fingerprint(key), fingerprint(old)
        self.model.set_status(entry, "warning", f"the host key differs from the pinned one "
                              f"(pinned {old_fp}, presented {new_fp})")
        box = QMessageBox(QMessageBox.Icon.Warning, "Host key changed",
                          f"{html.escape(name)} presents another host key than the one "
                          "pinned for it.", parent=self)
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setInformativeText(  # fingerprints unbroken, to compare them character by character
            f"<pre>Pinned:    {old_fp}\nPresented: {new_fp}</pre>"
            f"<p>If the builder was reinstalled, run <tt>ssh-keygen -lf {host_key_file(key)}</tt> "
            "on the builder itself and replace the key only if it prints the presented "
            "fingerprint. Otherwise keep the pinned key: the machine answering may not be your "
            "builder.</p>")
        keep = box.addButton("Keep the pinned key", QMessageBox.ButtonRole.RejectRole)
        box.addButton("Replace the pinned key", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        replace = QMessageBox.ButtonRole.DestructiveRole
        box.finished.connect(lambda _: self._on_host_key_answer(
            entry, old, key, box.buttonRole(box.clickedButton()) == replace))
        self.host_key_dialog = box
        box.open()

    def _on_host_key_answer(self, entry: Entry, old: str, key: str, replace: bool) -> None:
        from sweepgui.nix.machines import fingerprint

        rows = [r for r, e in enumerate(self.model.entries()) if e is entry]
        if not rows:
            return
        if replace and entry.machine.host_key == old:
            self.model.set_machine(rows[0], dataclasses.replace(entry.machine, host_key=key))
            self.model.set_status(entry, "warning", f"host key REPLACED as you confirmed: now "
                                  f"{fingerprint(key)} (was {fingerprint(old)}); save to keep it")
        else:
            self.model.set_status(entry, "error", f"the builder presents another host key "
                                  f"({fingerprint(key)}) than the pinned one ({fingerprint(old)}), "
                                  "which was kept: Nix will not connect to it")
        self._update_details()
        self._show(f"{entry.machine.name}: {self.model.status(rows[0])[1]}")

    def import_system(self) -> None:
        self.buttons["import"].setEnabled(False)
        self._show("Reading the system's machines…")
        self._executor().submit(_import_job, self._self_ref)

    def _on_imported(self, machines: list[Machine], error: str) -> None:
        self.buttons["import"].setEnabled(True)
        if error:
            self._show(f"Cannot import the system's machines: {error}")
            return
        known = {m.name for m in self.model.machines_file.machines}
        new = [m for m in machines if m.name not in known]
        for m in new:
            self.model.insert_machine(m)
        self._show(f"Imported {len(new)} machine(s) from the system"
                   + (f" ({len(machines) - len(new)} already listed)" if len(new) < len(machines) else "")
                   if machines else "The system has no remote builders configured")

    def shutdown(self, wait: bool = False) -> None:
        """Stop taking work; checks already running finish on their own (each <= 10 s)."""
        if self._pool is not None:
            self._pool.shutdown(wait=wait, cancel_futures=True)
            self._pool = None

    def closeEvent(self, event) -> None:
        self.shutdown()
        super().closeEvent(event)

    # -- NixOS -----------------------------------------------------------------------------
    def nixos_snippet(self) -> str:
        from sweepgui.nix.machines import nixos_snippet

        return nixos_snippet(self.model.machines_file.machines)

    def show_nixos_snippet(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle("NixOS configuration: nix.buildMachines")
        text = QPlainTextEdit(self.nixos_snippet())
        text.setReadOnly(True)
        text.setObjectName("snippet")
        font = text.font()
        font.setFamily("monospace")
        text.setFont(font)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        copy = buttons.addButton("Copy", QDialogButtonBox.ButtonRole.ActionRole)
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(text.toPlainText()))
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel("Paste this into configuration.nix:"))
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(640, 420)
        self.snippet_dialog = dialog
        dialog.open()

    # -- the Nix set-up: which machines runs use ----------------------------------------------
    def set_setup(self, setup) -> None:
        """Show what the Nix set-up ``setup`` (a NixSetup, detected off the GUI thread) does
        with these machines."""
        self.setup = setup
        self._update_usage()

    def ignored(self) -> bool:
        """Whether the nix-daemon ignores the machines listed here."""
        return (self.setup is not None and not self.setup.own_builders_used
                and bool(self.model.machines_file.machines))

    def _on_machines_changed(self) -> None:
        self._update_usage()
        self.machinesChanged.emit()

    def _update_usage(self) -> None:
        own = bool(self.model.machines_file.machines)
        self.runs_hint.setVisible(own and not self.use_for_runs.isChecked())
        use = runs_use(self.setup, own, self.use_for_runs.isChecked())
        ignored = self.ignored()
        self.own_heading.setText(own_heading(use, html.escape(str(self.path)), ignored))
        self.system_view.set_setup(self.setup, use)
        self.banner.setVisible(ignored)
        if ignored:
            self.banner.set_message(self.setup.ignored_machines_message(self.path))

    def show_install_dialog(self, target: Path | None = None, **options) -> None:
        """The dialog that adds the machines listed here to the system's machines file
        (``target``, ``options``: see :class:`InstallSystemDialog`)."""
        from sweepgui.ui.machines.install import InstallSystemDialog

        dialog = InstallSystemDialog(self.model.machines_file.machines, self, target, **options)
        dialog.installed.connect(lambda text: (self._show(text), self.setupStale.emit()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.install_dialog = dialog
        dialog.open()

    def show_trust_dialog(self) -> None:
        from sweepgui.ui.machines.install import TrustDialog

        if self.setup is None:
            return
        dialog = TrustDialog(self.setup, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.trust_dialog = dialog
        dialog.open()

    # -- state -----------------------------------------------------------------------------
    def _update_hint(self) -> None:
        if self.model.rowCount() == 0:
            self.empty_hint.setText("No build machines yet: points build on this computer. "
                                    "<b>Add</b> a machine, or <b>Import system machines</b> "
                                    "to start from the ones Nix already knows.")
        self.empty_hint.setVisible(self.model.rowCount() == 0)

    def _update_details(self) -> None:
        rows = self.selected_rows()
        status = self.model.status(rows[0]) if len(rows) == 1 else None
        if status is None or status[0] == "running":
            self.details.setText("")
            self.details.setVisible(False)
            return
        colour = {"error": "#c62828", "warning": "#9a6700"}.get(status[0], "")
        self.details.setStyleSheet(f"color: {colour};" if colour else "")
        self.details.setText(f"{self.model.machine(rows[0]).name}:\n{status[1]}")
        self.details.setVisible(True)

    def _update_state(self) -> None:
        self._update_hint()
        self._update_details()
        has_rows = bool(self.selected_rows())
        for key in ("duplicate", "remove", "test", "fetch"):
            self.buttons[key].setEnabled(has_rows)
        self.buttons["test_all"].setEnabled(self.model.rowCount() > 0)
        dirty = self.is_dirty()
        self.file_label.setText(f"File: {self.path}{'  (unsaved changes)' if dirty else ''}")

    def _show(self, text: str) -> None:
        self.message.emit(text)

    def _on_refused(self, row: int, column: int, why: str) -> None:
        """An edit was refused: say why at the cell (tooltip and the line under the table)."""
        index = self.model.index(row, column)
        text = f"Row {row + 1}, {COLUMNS[column][1]}: not changed: {why}"
        show_error(self.cell_error, text)
        if index.isValid():
            self.table.setCurrentIndex(index)
            self.table.scrollTo(index)
            rect = self.table.visualRect(index)  # where the cell is now (after scrolling)
            QToolTip.showText(self.table.viewport().mapToGlobal(rect.bottomLeft()), text,
                              self.table.viewport(), rect, 15000)

    def _on_edited(self) -> None:
        show_error(self.cell_error, None)  # the last edit was taken
        self._fit_columns()

    def _fit_columns(self) -> None:
        """Widen columns to their text (never narrower than the user made them): a host added
        after the file was loaded showed as "10…"."""
        last = self.model.columnCount() - 1
        for col in range(last):  # the last one stretches
            need = self.table.sizeHintForColumn(col)
            if need > self.table.columnWidth(col):
                self.table.setColumnWidth(col, need)


# -- worker-thread jobs: they hold the editor only weakly and hand results over with
# deliver_to, so a window closed meanwhile is never touched from these threads

def _check_job(editor: weakref.ref, entry: Entry, machine: Machine) -> None:
    try:
        from sweepgui.nix.machines import check_machine

        checks = check_machine(machine)
    except Exception as exc:
        deliver_to(editor, "_on_checked", entry, "error", f"the check itself failed: {exc}")
        return
    levels = [c.level for c in checks]
    level = "error" if "error" in levels else "warning" if "warning" in levels else "ok"
    text = "\n".join(f"{'✔' if c.level == 'ok' else '⚠' if c.level == 'warning' else '✘'} "
                     f"{c.name}: {c.message}" for c in checks) or "no checks ran"
    deliver_to(editor, "_on_checked", entry, level, text)


def _fetch_job(editor: weakref.ref, entry: Entry, machine: Machine) -> None:
    try:
        from sweepgui.nix.machines import fetch_host_key

        key = fetch_host_key(machine)
    except Exception as exc:
        deliver_to(editor, "_on_fetched", entry, None, str(exc))
        return
    deliver_to(editor, "_on_fetched", entry, key, "")


def _import_job(editor: weakref.ref) -> None:
    try:
        from sweepgui.nix.machines import system_machines

        machines = system_machines()
    except Exception as exc:
        deliver_to(editor, "_on_imported", [], str(exc))
        return
    deliver_to(editor, "_on_imported", machines, "")
