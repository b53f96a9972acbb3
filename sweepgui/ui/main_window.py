"""The main window: assembles the forms, the run panel and the machines editor.

It owns only the document (open/save/recent files, the title), the actions (File, Run, Help),
the remembered window state and the status bar; each part owns its own widgets.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStyle,
    QTabWidget,
    QWidget,
)

from sweepgui.sweep import DraftError, SweepDraft
from sweepgui.ui.forms.parameters import ParameterForms
from sweepgui.ui.forms.sweep_model import SweepModel
from sweepgui.ui.machines.editor import QtMachineEditor
from sweepgui.ui.nix_status import NixStatusButton, setup_level, setup_tooltip
from sweepgui.ui.run.panel import RunPanel
from sweepgui.ui.setup_dialog import SetupDialog
from sweepgui.ui.widgets_env import EnvironmentProbe, make_settings

APP_NAME = "sweepgui"
MAX_RECENT = 8
FILE_FILTER = "Sweep files (*.toml);;All files (*)"


class MainWindow(QMainWindow):
    """The sweepgui window over one :class:`SweepModel` (one sweep file at a time)."""

    def __init__(self, model: SweepModel | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("MainWindow")
        self.model = model or SweepModel()
        self._close_when_stopped = False
        self._settings = make_settings()
        self.nix_setup = None  # the NixSetup, once detected off the GUI thread
        self.setup_dialog: SetupDialog | None = None

        self.forms = ParameterForms(self.model)
        dock = QDockWidget("Parameters", self)
        dock.setObjectName("ParametersDock")
        dock.setWidget(self.forms)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
        self.parameters_dock = dock

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.run_panel = RunPanel()
        self.tabs.addTab(self.run_panel, "Run")
        self.machines_editor = QtMachineEditor()
        self.tabs.addTab(self.machines_editor, "Build machines")
        self.setCentralWidget(self.tabs)

        self._make_actions()
        self._make_menus()
        self._make_status_bar()

        self.model.dirtyChanged.connect(self.setWindowModified)
        self.model.sourceChanged.connect(lambda _src: self._update_title())
        self.forms.validityChanged.connect(self._on_validity)
        self.forms.sweepChanged.connect(self._on_sweep_changed)
        self.run_panel.runningChanged.connect(self._on_running_changed)
        self.run_panel.planReady.connect(self.forms.set_plan)
        self.run_panel.message.connect(self._show_message)
        self.run_panel.routeChanged.connect(self._update_actions)
        self.run_panel.failedChanged.connect(self._update_actions)  # Rerun failed: failed points only
        # the panel's Run button asks, like Ctrl+R: the forms' check, the sweep's [run] jobs
        # and the machines editor's file apply to both
        self.run_panel.runRequested.connect(self.run)
        self.machines_editor.message.connect(self._show_message)
        self.machines_editor.machinesChanged.connect(self._on_machines_changed)
        self.machines_editor.setupStale.connect(lambda: self._probe.start(refresh=True))
        self._on_machines_changed()
        self._update_title()
        self._update_actions()
        self._restore_state()
        self._on_sweep_changed(self.forms.sweep)

    # -- building ----------------------------------------------------------------------------
    def _make_actions(self) -> None:
        style = self.style()

        def act(text, slot, shortcut=None, icon=None, tip=None):
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(shortcut)
            if icon is not None:
                a.setIcon(style.standardIcon(icon))
            if tip:
                a.setStatusTip(tip)
            a.triggered.connect(slot)
            return a

        SP = QStyle.StandardPixmap
        self.new_action = act("&New", self.new_sweep, QKeySequence.StandardKey.New, SP.SP_FileIcon)
        self.open_action = act("&Open…", self.open_dialog, QKeySequence.StandardKey.Open,
                               SP.SP_DialogOpenButton)
        self.save_action = act("&Save", self.save, QKeySequence.StandardKey.Save,
                               SP.SP_DialogSaveButton)
        self.save_as_action = act("Save &As…", self.save_as, QKeySequence.StandardKey.SaveAs)
        self.quit_action = act("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.run_action = act("&Run sweep", self.run, QKeySequence("Ctrl+R"), SP.SP_MediaPlay)
        self.cancel_action = act("&Cancel run", self.cancel, QKeySequence("Ctrl+."), SP.SP_MediaStop,
                                 "Stop the build; finished points are kept")
        self.rerun_action = act("Rerun &failed points", self.rerun_failed)
        self.about_action = act("&About sweepgui", self.about)
        self.setup_action = act("Check &Nix set-up…", self.check_setup, None, None,
                                "Check Nix, the nix-daemon, the builders and the interpreter")
        self.forms.set_run_action(self.run_action)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        file_menu.addActions([self.new_action, self.open_action])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addSeparator()
        file_menu.addActions([self.save_action, self.save_as_action])
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        run_menu = bar.addMenu("&Run")
        run_menu.addActions([self.run_action, self.cancel_action, self.rerun_action])
        view_menu = bar.addMenu("&View")
        view_menu.addAction(self.parameters_dock.toggleViewAction())
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.setup_action)
        help_menu.addAction(self.about_action)
        tools = self.addToolBar("Main")
        tools.setObjectName("MainToolBar")
        tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        # Run and Cancel sit beside the forms' point count and in the run panel already
        tools.addActions([self.new_action, self.open_action, self.save_action])

    def _make_status_bar(self) -> None:
        self.nix_label = NixStatusButton("Nix: checking…")
        self.nix_label.clicked.connect(self.check_setup)
        self.interpreter_label = QLabel("interpreter: checking…")
        for lab in (self.nix_label, self.interpreter_label):
            self.statusBar().addPermanentWidget(lab)
        self._probe = EnvironmentProbe(self)
        self._probe.ready.connect(self._on_environment)
        self._probe.start()

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _on_environment(self, info: dict) -> None:
        self.nix_label.setText(info["nix"])
        self.nix_label.setToolTip(info.get("nix_tip", ""))
        self.interpreter_label.setText(info["interpreter"])
        self.interpreter_label.setToolTip(info.get("interpreter_tip", ""))
        if info.get("setup") is not None:
            self._apply_setup(info["setup"])

    # -- the Nix set-up --------------------------------------------------------------------
    def _apply_setup(self, setup) -> None:
        """A freshly detected NixSetup: the status bar, the machines tab, the run's route."""
        changed = self.nix_setup is not None and setup != self.nix_setup
        self.nix_setup = setup
        self.nix_label.setText(setup.summary())
        self.machines_editor.set_setup(setup)
        self._update_nix_level()
        if changed:
            self.run_panel.refresh_route()  # e.g. machines installed system-wide

    def _update_nix_level(self) -> None:
        """The warning look when Nix is unusable or ignores the machines tab's machines."""
        editor = self.machines_editor
        own = bool(editor.model.machines_file.machines)
        self.nix_label.set_level(setup_level(self.nix_setup, own))
        if self.nix_setup is not None:
            self.nix_label.setToolTip(setup_tooltip(self.nix_setup, editor.path if own else None))

    def _on_machines_changed(self) -> None:
        self.run_panel.set_machines(self.machines_editor.machines_for_runs())
        self._update_nix_level()

    def check_setup(self) -> None:
        """Help > Check Nix set-up: the doctor's items, checked off the GUI thread."""
        if self.setup_dialog is None:
            self.setup_dialog = SetupDialog(parent=self)
            self.setup_dialog.checked.connect(lambda report: self._apply_setup(report.setup))
        self.setup_dialog.machines_file = self.machines_editor.path
        self.setup_dialog.show()
        self.setup_dialog.raise_()
        self.setup_dialog.activateWindow()
        self.setup_dialog.check()

    # -- the document ----------------------------------------------------------------------
    def _update_title(self) -> None:
        src = self.model.source
        name = src.name if src else "untitled"
        self.setWindowTitle(f"{APP_NAME} — {name}[*]")
        self.setWindowModified(self.model.is_dirty())

    def _may_discard(self) -> bool:
        """Ask about unsaved changes; False if the user cancels."""
        if not self.model.is_dirty():
            return True
        return self._ask_save("The sweep has unsaved changes. Save them first?", self.save)

    def _ask_save(self, question: str, save) -> bool:
        """Save / Discard / Cancel; True when it is fine to go on (saved or discarded)."""
        answer = QMessageBox.question(
            self, APP_NAME, question,
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Save)
        if answer == QMessageBox.StandardButton.Save:
            return save()
        return answer == QMessageBox.StandardButton.Discard

    def new_sweep(self) -> None:
        if self._may_discard():
            self.model.replace(SweepDraft())

    def open_dialog(self) -> None:
        if not self._may_discard():
            return
        start = str(self.model.source.parent) if self.model.source else str(Path.cwd())
        path, _ = QFileDialog.getOpenFileName(self, "Open sweep", start, FILE_FILTER)
        if path:
            self.open_file(Path(path), ask=False)

    def open_file(self, path: Path, ask: bool = True) -> bool:
        """Load a sweep file into the forms; a problem is shown, never raised."""
        if ask and not self._may_discard():
            return False
        try:
            self.model.load(Path(path))
        except (OSError, UnicodeDecodeError, DraftError) as exc:
            QMessageBox.warning(self, APP_NAME, f"Cannot open {path}:\n{exc}")
            self._forget_recent(Path(path))
            return False
        self._add_recent(self.model.source)
        self.forms.validate_now()
        if self.forms.sweep is None and not self.is_running():
            # the table and plots of the file open before must not pass for this one's
            self.run_panel.clear()
        self.statusBar().showMessage(f"Opened {path}", 5000)
        return True

    def save(self) -> bool:
        if self.model.source is None:
            return self.save_as()
        return self._save_to(self.model.source)

    def save_as(self) -> bool:
        start = str(self.model.source or Path.cwd() / "sweep.toml")
        path, _ = QFileDialog.getSaveFileName(self, "Save sweep as", start, FILE_FILTER)
        if not path:
            return False
        if not path.endswith(".toml"):
            path += ".toml"
        return self._save_to(Path(path))

    def _save_to(self, path: Path) -> bool:
        try:
            target = self.model.save(path)
        except OSError as exc:
            QMessageBox.warning(self, APP_NAME, f"Cannot save {path}:\n{exc.strerror or exc}")
            return False
        self._add_recent(target)
        self.statusBar().showMessage(f"Saved {target}", 5000)
        return True

    # -- recent files ----------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        value = self._settings.value("recentFiles", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _add_recent(self, path: Path | None) -> None:
        if path is None:
            return
        items = [str(path)] + [p for p in self.recent_files() if p != str(path)]
        self._settings.setValue("recentFiles", items[:MAX_RECENT])

    def _forget_recent(self, path: Path) -> None:
        items = [p for p in self.recent_files() if p != str(Path(path).resolve()) and p != str(path)]
        self._settings.setValue("recentFiles", items)

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        for i, p in enumerate(self.recent_files()):
            a = self.recent_menu.addAction(f"&{i + 1} {Path(p).name}  ({Path(p).parent})")
            a.triggered.connect(lambda _=False, p=p: self.open_file(Path(p)))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("(none)").setEnabled(False)

    # -- running ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.run_panel.is_running()

    def _update_actions(self) -> None:
        running = self.is_running()
        refused = self.run_panel.route_error()
        self.run_action.setEnabled(self.forms.sweep is not None and not running and not refused)
        if running:
            why = "A sweep is running"
        else:
            why = self.forms.reason or (f"Cannot run: {refused}" if refused else "Run the sweep (Ctrl+R)")
        self.run_action.setToolTip(why)
        self.forms.run_button.setToolTip(why)
        self.cancel_action.setEnabled(running)
        # as the panel's button: failed points only (cancelled ones are built by the next Run)
        self.rerun_action.setEnabled(not running and self.run_panel.has_failed())

    def _on_sweep_changed(self, sweep) -> None:
        if sweep is not None and not self.is_running():
            self.run_panel.set_sweep(sweep)
        self._update_actions()

    def _on_validity(self, ok: bool, reason: str) -> None:
        self.run_panel.set_run_blocked(None if ok else reason)
        self._update_actions()

    def run(self) -> bool:
        """Start the sweep in the run panel (False if it cannot run now)."""
        if not self.forms.is_current():  # the last check is not of the sweep as it is now
            self.forms.validate_now()
        sweep = self.forms.sweep
        if sweep is None or self.is_running():
            if self.forms.reason:
                self.statusBar().showMessage(self.forms.reason, 8000)
            return False
        refused = self.run_panel.route_error()
        if refused:
            self.statusBar().showMessage(f"Cannot run: {refused}", 15000)
            return False
        machines = sweep.machines_path()
        if machines is None:
            machines = self.machines_editor.machines_for_runs()
            if machines is not None and self.machines_editor.is_dirty():
                self.statusBar().showMessage(
                    "The build machines have unsaved changes: this run uses the saved file", 8000)
        if not self._may_use_machines(machines):
            return False
        self._close_when_stopped = False  # a new run: no close is pending
        self.tabs.setCurrentIndex(0)
        self.run_panel.start(sweep, machines=machines, jobs=sweep.run.jobs)
        return True

    def _may_use_machines(self, machines) -> bool:
        """Before a run passes the machines tab's file to Nix: a machine whose last Test found
        an error is named, and the run starts only if the user says so (Nix would still send
        points to it, where they fail or wait)."""
        editor = self.machines_editor
        failed = editor.failed_machines()
        if machines is None or not failed or Path(machines) != Path(editor.path):
            return True
        lines = "\n".join(f"• {name}: {why}" for name, why in failed)
        answer = QMessageBox.question(
            self, APP_NAME,
            f"These build machines failed their last Test:\n{lines}\n\n"
            "Nix will still send points to them, where they fail or wait. Run anyway?\n"
            "(Build machines tab: fix and Test them again, remove them, or untick "
            "'Use these machines for runs'.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            self.statusBar().showMessage("Not run: a build machine failed its last Test", 8000)
            return False
        return True

    def cancel(self) -> None:
        self.run_panel.cancel()

    def rerun_failed(self) -> None:
        self.run_panel.rerun_failed()

    def _on_running_changed(self, running: bool) -> None:
        self._update_actions()
        self.forms.setEnabled(not running)  # the sweep a run uses stays what it was
        if not running and self._close_when_stopped:
            # the close the user asked for during the run; asked once: a close refused now
            # (e.g. unsaved changes, Cancel) leaves the window as any other, and later runs
            # neither close it nor ask about it
            self._close_when_stopped = False
            self.close()
        elif not running and self.forms.sweep is not None:
            self.run_panel.set_sweep(self.forms.sweep)  # a fresh plan: now cached / to build

    # -- window state ----------------------------------------------------------------------
    def _restore_state(self) -> None:
        screen = self.screen().availableGeometry()
        geometry = self._settings.value("window/geometry")
        state = self._settings.value("window/state")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.first_start_layout(screen.width(), screen.height(), docks=False)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        else:
            self.first_start_layout(screen.width(), screen.height(), size=False)

    def first_start_layout(self, width: int, height: int, size: bool = True,
                           docks: bool = True) -> None:
        """The window's size and the forms' share on a first start on a ``width`` x
        ``height`` screen: the forms get about 40 % of the width, the run panel the rest."""
        if size:
            self.resize(min(1500, int(width * 0.92)), min(940, int(height * 0.9)))
        if docks:
            self.resizeDocks([self.parameters_dock], [max(self.forms.minimumSizeHint().width(),
                                                          int(self.width() * 0.4))],
                             Qt.Orientation.Horizontal)

    def save_window_state(self) -> None:
        self._settings.setValue("window/geometry", self.saveGeometry())
        self._settings.setValue("window/state", self.saveState())
        self._settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.is_running():
            if not self._close_when_stopped:
                answer = QMessageBox.question(
                    self, APP_NAME, "A sweep is running. Cancel it and close?\n"
                    "Points finished so far are kept.",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No)
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
                # the run may have ended while the question was open: then there is nothing
                # to cancel and no run end to wait for, and closing goes on below
                if self.is_running():
                    self._close_when_stopped = True
                    self.statusBar().showMessage("Cancelling the run…")
                    self.run_panel.cancel()
            if self.is_running():
                event.ignore()  # closes when runningChanged(False) arrives
                return
        self._close_when_stopped = False
        if not self._may_discard() or not self._may_discard_machines():
            event.ignore()
            return
        self.save_window_state()
        self._probe.stop()
        if self.setup_dialog is not None:
            self.setup_dialog.close()
            self.setup_dialog.shutdown(5.0)  # a check under way takes well under a second
        self.forms.shutdown()  # no late check may ask the run panel for a new plan
        self.run_panel.shutdown(5.0)  # a plan may still be on its way
        self.machines_editor.shutdown()
        event.accept()

    def _may_discard_machines(self) -> bool:
        editor = self.machines_editor
        if not editor.is_dirty():
            return True
        return self._ask_save("The build machines have unsaved changes. Save them first?",
                              editor.save)

    def about(self) -> None:
        import platform

        import pyqtgraph
        from PySide6 import __version__ as pyside
        from PySide6.QtCore import qVersion

        from sweepgui import __version__ as version

        QMessageBox.about(
            self, "About sweepgui",
            f"<h3>sweepgui {version}</h3>"
            "<p>Parameter sweeps of a vibrating-tube (pipe) model, each point built as a Nix "
            "derivation: cached, reproducible, and spread over remote builders.</p>"
            f"<p>{self.nix_label.text()}<br>{self.interpreter_label.text()}</p>"
            # what a bug report needs
            f"<p>Python {platform.python_version()} · Qt {qVersion()} · PySide6 {pyside} · "
            f"pyqtgraph {pyqtgraph.__version__}</p>")
