"""The run panel: Run / Cancel / Rerun failed, progress with counts and ETA, the per-point table,
the selected point's log, and the live plots (``plot_panel``).

All engine work happens in ``RunController`` (worker threads); this widget only renders batches
of events. Errors are shown where they happen: the failed row turns red (tooltip: log tail), the
message line says what failed, and ``message(str)`` tells the main window. The Run button asks
(``runRequested``): whoever assembles the window knows the sweep, the machines and the checks a
run must pass, and calls :meth:`RunPanel.start`.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from sweepgui.nix import events as ev
from sweepgui.results import PointRows, SweepLayout
from sweepgui.results.rows import ROW_STATUSES
from sweepgui.sweep import Status
from sweepgui.ui.background import JobCrashed
from sweepgui.ui.calibration import tab as calibration_tab
from sweepgui.ui.plots.panel import PlotPanel
from sweepgui.ui.plots.results import ResultsSource
from sweepgui.ui.run.points import IndexRole, PointsFilterProxy, PointsTableModel
from sweepgui.ui.run.preload import CachedResultsLoader
from sweepgui.ui.run.worker import PlanOutcome, ResultLoaded, ResultMissing, RunController


def _eta_text(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(round(seconds))
    if s >= 3600:
        return f" — ETA {s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f" — ETA {s // 60}:{s % 60:02d}"


class RunPanel(QWidget):
    """Runs a sweep and shows it live.

    Parameters
    ----------
    parent:
        Parent widget.
    engine_factory:
        ``callable(sweep) -> Engine``; default ``sweepgui.nix.Engine()`` (tests pass one with a
        temporary state folder).

    Signals
    -------
    runRequested()
        The user pressed Run: the owner checks the sweep and calls :meth:`start`.
    runningChanged(bool), planReady(object), message(str)
        A run started or ended; the engine's plan of the sweep on show; a line for the status bar.
    routeChanged(str), failedChanged(bool)
        Why the builders refuse the sweep ("" = they do not); whether some point failed.
    """

    runRequested = Signal()
    runningChanged = Signal(bool)
    planReady = Signal(object)
    message = Signal(str)
    routeChanged = Signal(str)  # why Run is refused for the builders ("" = it is not)
    failedChanged = Signal(bool)  # whether some point failed (Rerun failed has work)

    def __init__(self, parent=None, engine_factory=None) -> None:
        super().__init__(parent)
        self._sweep = None
        self._machines: Path | None = None
        self._jobs: int | None = None
        self._blocked: str | None = None
        self._default_machines: Path | None = None  # the machines tab's file, for runs
        self._route_error = ""
        self._progress: ev.Progress | None = None
        self._selected: int | None = None
        self._layout_sweep = None
        self._ran = False  # a run of the sweep on show has happened (its summary is on show)
        self._shown: dict[int, str] = {}  # points whose result is in the plots -> its store path
        self._plan_text = ""
        self._had_failed = False  # the last failedChanged said so
        self.controller = RunController(engine_factory, parent=self)
        # an opened sweep's cached points are shown at once, read off the GUI thread
        self.cached_loader = CachedResultsLoader(parent=self)
        self.rows = PointRows()
        self.table_model = PointsTableModel(self.rows, self)
        self.proxy = PointsFilterProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.plot_panel = PlotPanel()
        self._build()
        self.controller.eventsReady.connect(self._on_events)
        self.cached_loader.eventsReady.connect(self._on_cached_events)
        self.cached_loader.runningChanged.connect(self._on_loading)
        self.controller.runningChanged.connect(self._on_running)
        self.controller.planReady.connect(self._on_plan)
        self.plot_panel.pointClicked.connect(self.select_point)
        # data exports and the sensitivity table read the merged results of the sweep on show
        self._plan = None  # (sweep, plan): the last plan, for a sweep opened but not run
        self.plot_panel.results_source = self._results_source
        self.plot_panel.message.connect(lambda text, error: self._say(text, error=error))
        self.calibration = calibration_tab.attach(self)  # beside the sensitivity table (issue 15)
        self._update_buttons()

    # -- widgets ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.run_button = QPushButton("Run")
        self.run_button.setToolTip("Build every point of the sweep with Nix (cached points are reused)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the builds; finished points stay in the store")
        self.rerun_button = QPushButton("Rerun failed")
        self.rerun_button.setToolTip("Build again only the points that failed (cancelled points "
                                     "are built by the next Run)")
        self.run_button.clicked.connect(self.runRequested)
        self.cancel_button.clicked.connect(self.cancel)
        self.rerun_button.clicked.connect(self.rerun_failed)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("no run yet")
        self.message_label = QLabel("")
        self.message_label.setWordWrap(True)
        self.message_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # which builders a run will use, when it must be said first (from the plan's route)
        self.route_label = QLabel("")
        self.route_label.setObjectName("route")
        self.route_label.setWordWrap(True)
        self.route_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.route_label.setVisible(False)

        top = QHBoxLayout()
        for b in (self.run_button, self.cancel_button, self.rerun_button):
            top.addWidget(b)
        top.addWidget(self.progress, 1)

        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter points (any column)…")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.set_text)
        self.status_filter = QComboBox()
        self.status_filter.addItem("all statuses", None)
        for s in ROW_STATUSES:
            self.status_filter.addItem(str(s), str(s))
        self.status_filter.currentIndexChanged.connect(self._on_status_filter)
        filters = QHBoxLayout()
        filters.addWidget(self.filter_edit, 1)
        filters.addWidget(self.status_filter)

        self.table = QTableView()
        self.table.setModel(self.proxy)
        # no sort until the user clicks a header: rows already come in point order, and sorting
        # 10,000 rows through Python data() calls takes a second
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(20)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        # size columns from the first rows only: measuring 10,000 rows takes seconds
        self.table.horizontalHeader().setResizeContentsPrecision(40)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_row)

        self.log_view = QPlainTextEdit()
        self.log_view.setReadOnly(True)
        self.log_view.setMaximumBlockCount(2000)
        self.log_view.setPlaceholderText("Select a point to see its build log")
        # wrapped: an error message is one long line, and the pane is narrow
        self.log_view.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)

        left = QWidget()
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addLayout(filters)
        inner = QSplitter(Qt.Orientation.Vertical)
        inner.addWidget(self.table)
        inner.addWidget(self.log_view)
        inner.setStretchFactor(0, 3)
        inner.setStretchFactor(1, 1)
        ll.addWidget(inner, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self.plot_panel)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([480, 900])
        split.setChildrenCollapsible(False)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.message_label)
        lay.addWidget(self.route_label)
        lay.addWidget(split, 1)

    # -- public API ---------------------------------------------------------------------------
    def is_running(self) -> bool:
        return self.controller.is_running()

    def set_sweep(self, sweep) -> None:
        """Show ``sweep``'s points as planned; the engine's plan (cached or not) follows off-thread."""
        self._sweep = sweep
        if not self._same_sweep(sweep, self._layout_sweep):
            self.cached_loader.drop()  # the sweep on show is being replaced: stop reading its results
        if sweep is not None and not self.is_running():
            self.controller.request_plan(sweep, self._default_machines)
        self._update_buttons()

    def set_machines(self, path: Path | None) -> None:
        """The machines file runs get when the sweep names none (the machines tab's); the
        route shown before Run is checked again when it changes."""
        path = Path(path) if path is not None else None
        if path != self._default_machines:
            self._default_machines = path
            self.refresh_route()

    def refresh_route(self) -> None:
        """Check again which builders a run would use (e.g. the Nix set-up changed)."""
        if self._sweep is not None and not self.is_running():
            self.controller.request_plan(self._sweep, self._default_machines)

    def route_error(self) -> str:
        """Why nothing could build the sweep's points ("" when something can): Run is refused."""
        return self._route_error

    def clear(self) -> None:
        """Show no sweep (e.g. a file that does not load into a valid sweep was opened)."""
        if self.is_running():
            return
        self.cached_loader.drop()
        self._sweep = self._layout_sweep = None
        self._ran = False
        self._shown.clear()
        self.rows.reset([], [])
        self.table_model.reset()
        self._selected = None
        self.log_view.clear()
        self.plot_panel.set_layout(None)
        self._say("")
        self._show_route((), "")
        self._update_progress()
        self.progress.setFormat("no sweep")
        self._update_buttons()

    def set_run_blocked(self, reason: str | None) -> None:
        """Disable Run with ``reason`` as its tooltip (e.g. invalid input in the forms); None enables."""
        self._blocked = reason
        self._update_buttons()

    def start(self, sweep=None, machines: Path | None = None, jobs: int | None = None) -> None:
        """Run ``sweep`` (default: the one from ``set_sweep``) off the GUI thread."""
        sweep = sweep if sweep is not None else self._sweep
        if sweep is None or self.is_running():
            return
        self._sweep, self._machines, self._jobs = sweep, machines, jobs
        try:
            layout = SweepLayout.from_sweep(sweep)
        except Exception as exc:
            self._say(f"cannot run: {exc}", error=True)
            return
        self.cached_loader.drop()  # the run reports (and loads) the cached points not shown yet
        # the same sweep keeps its rows (names from the plan) and the results on show
        self._set_layout(sweep, layout, keep_rows=self._same_sweep(sweep, self._layout_sweep))
        self.rows.mark_queued(None)
        self.table_model.rows_changed(range(len(self.rows.rows)))
        self._progress = None
        self._say(f"running {len(layout)} points…")
        self.controller.start(sweep, machines=machines, jobs=jobs, shown=self._shown)
        self._update_progress()

    def cancel(self) -> None:
        """Stop the run; ``runningChanged(False)`` follows when every Nix process has ended."""
        if self.is_running():
            self.controller.cancel()
            self.cancel_button.setEnabled(False)
            self._say("cancelling…")

    def has_failed(self) -> bool:
        """Whether some point failed (cancelled points do not count: Run builds them)."""
        return self.rows.has_failed()

    def rerun_failed(self) -> None:
        """Build again the points that failed (``Engine.run(only=...)``); cancelled points are
        not failed: the next Run builds them with the rest."""
        if self.is_running() or self._sweep is None:
            return
        only = self.rows.failed_indices()
        if not only:
            self._say("no failed points to rerun")
            return
        self.rows.mark_queued(only)
        self.table_model.rows_changed(only)
        self._say(f"rerunning {len(only)} failed point(s)…")
        self.cached_loader.drop()
        self.controller.start(self._sweep, machines=self._machines, jobs=self._jobs, only=set(only),
                              shown=self._shown)
        self._update_progress()

    def shutdown(self, timeout_s: float = 15.0) -> bool:
        """Cancel and wait for the worker threads (for closing the window)."""
        loaded = self.cached_loader.shutdown(timeout_s)
        plots = self.plot_panel.shutdown(timeout_s)
        return self.controller.shutdown(timeout_s) and loaded and plots

    def select_point(self, index: int) -> None:
        """Select the table row of sweep point ``index`` (e.g. after a click on its curve)."""
        if not (0 <= index < len(self.rows.rows)):
            return
        proxy_index = self.proxy.mapFromSource(self.table_model.index(index, 0))
        if not proxy_index.isValid():  # filtered out: show it rather than select nothing
            self.filter_edit.clear()
            self.status_filter.setCurrentIndex(0)
            proxy_index = self.proxy.mapFromSource(self.table_model.index(index, 0))
        flags = QItemSelectionModel.SelectionFlag
        self.table.selectionModel().setCurrentIndex(proxy_index, flags.ClearAndSelect | flags.Rows)
        self.table.scrollTo(proxy_index)

    def selected_point(self) -> int | None:
        return self._selected

    # -- internals ----------------------------------------------------------------------------
    @staticmethod
    def _same_sweep(a, b) -> bool:
        if a is b:
            return True
        try:
            return a is not None and b is not None and a.content_hash() == b.content_hash()
        except Exception:
            return False

    def _set_layout(self, sweep, layout: SweepLayout, keep_rows: bool = False) -> None:
        """Show ``layout``'s points. ``keep_rows``: the same sweep, keep names, statuses and plots."""
        same = keep_rows and len(self.rows.rows) == len(layout)
        self._layout_sweep = sweep
        self._ran = same and self._ran
        if not same:
            self.rows.reset(layout.columns, layout.coords)
            self.table_model.reset()
            self.table.resizeColumnsToContents()
            self._selected = None
            self.log_view.clear()
            self._reset_plots(layout)

    def _reset_plots(self, layout: SweepLayout | None) -> None:
        self.plot_panel.set_layout(layout)
        self._shown.clear()

    def _on_plan(self, outcome: PlanOutcome) -> None:
        if self.is_running() or outcome.sweep is not self._sweep:
            return  # a run is showing, or a newer sweep is on its way
        self._show_route(outcome.route_warnings, outcome.route_error)
        if outcome.error:
            self._say(f"cannot plan this sweep: {outcome.error}", error=True)
        if outcome.layout is None:
            return
        if not self._same_sweep(outcome.sweep, self._layout_sweep):
            # a different sweep: its points replace the table and the plots
            self._set_layout(outcome.sweep, outcome.layout)
        if outcome.plan is not None:
            self._plan = (outcome.sweep, outcome.plan)
            self.rows.apply_plan(outcome.plan, outcome.node_modes)
            self.table_model.rows_changed(range(len(self.rows.rows)))
            loading = self._show_cached(outcome.plan, outcome.layout)
            if not self._ran:  # after a run its summary stays on the message line
                self._plan_text = (f"{len(self.rows.rows)} points: {outcome.plan.cached} cached, "
                                   f"{outcome.plan.to_build} to build")
                self._say(self._plan_text + ("; reading the cached results…" if loading else ""))
            self.planReady.emit(outcome.plan)
        self._update_progress()

    def _results_source(self) -> ResultsSource | None:
        """Where the merged results of the sweep on show are (for exports and sensitivities)."""
        sweep = self._layout_sweep
        if sweep is None:
            return None
        try:
            state_dir = self.controller.engine_factory(sweep).state_dir(sweep)
        except Exception:
            state_dir = None
        plan = self._plan[1] if self._plan is not None and self._same_sweep(self._plan[0], sweep) else None
        return ResultsSource(sweep, plan, state_dir)

    def _show_cached(self, plan, layout: SweepLayout) -> int:
        """Load the results of the plan's cached points that the plots lack; returns how many.

        The plan's out paths are the truth: a result on show from another path (e.g. the custom
        model changed) or of a point no longer cached makes the plots start again."""
        cached = {p.index: str(p.out_path) for p in plan.points if p.cached}
        if any(cached.get(i) != path for i, path in self._shown.items()):
            self._reset_plots(layout)
        todo = [(i, path) for i, path in cached.items()
                if self._shown.get(i) != path and 0 <= i < len(self.rows.rows)
                and self.rows.rows[i].status == Status.CACHED]
        self.cached_loader.result_loader = self.controller.result_loader
        if todo:
            self.plot_panel.spectra.expect(len(self._shown) + len(todo))
        source = self._results_source() if todo else None
        # replaces a load under way; an empty list just drops it
        self.cached_loader.load(todo, source.state_dir if source is not None else None)
        return len(todo)

    def _show_route(self, warnings, error: str) -> None:
        """The plan's route: warnings in amber, a refusal in red (and Run disabled)."""
        error = error or ""
        lines = [f"⚠ {w[:1].upper()}{w[1:]}" for w in warnings]
        if error:
            lines.append(f"✘ Cannot run: {error}")
        self.route_label.setText("\n".join(lines))
        self.route_label.setStyleSheet("color: #c62828;" if error else "color: #9a6700;")
        self.route_label.setVisible(bool(lines))
        if error != self._route_error:
            self._route_error = error
            self._update_buttons()
            self.routeChanged.emit(error)

    def _on_loading(self, loading: bool) -> None:
        # the cached results are all on show: the plan's counts alone, unless a newer message
        # (an error, a run) took the line meanwhile
        if not loading and self.message_label.text() == self._plan_text + "; reading the cached results…":
            self._say(self._plan_text)

    def _on_status_filter(self, _index: int) -> None:
        data = self.status_filter.currentData()
        self.proxy.set_status(Status(data) if data else None)

    def _on_cached_events(self, batch: list) -> None:
        self._on_events(batch, what="reading the cached results")

    def _on_events(self, batch: list, what: str = "the run") -> None:
        changed: set[int] = set()
        results = []
        for item in batch:
            if isinstance(item, ResultLoaded):
                results.append(item.result)
                if 0 <= item.index < len(self.rows.rows):
                    self._shown[item.index] = self.rows.rows[item.index].store_path
            elif isinstance(item, ResultMissing):
                self.rows.rows[item.index].error = item.message
                changed.add(item.index)
                self._say(item.message, error=True)
            elif isinstance(item, JobCrashed):
                self._say(f"{what} stopped: {item.message}", error=True)
            elif isinstance(item, ev.Progress):
                self._progress = item
            elif isinstance(item, ev.RunMessage):
                self._say(item.text, error=item.level == "error")
            elif isinstance(item, ev.RunFinished):
                changed.update(self.rows.finish(item.cancelled))
                self._say(self._summary(item), error=item.failed > 0 or item.unrooted > 0
                          or self.rows.has_failed())
                self.table.resizeColumnsToContents()
            else:
                i = self.rows.apply(item)
                if i is not None:
                    changed.add(i)
                if isinstance(item, ev.PointFailed):
                    self._say(f"point {item.index} failed: {item.reason}", error=True)
        self.table_model.rows_changed(changed)
        self.plot_panel.add_results(results)
        if self._selected in changed:
            self._show_log(self._selected)
        self._update_progress()

    def _summary(self, f: ev.RunFinished) -> str:
        # the table's counts, as on the progress bar: cancelled is not failed
        c = self.rows.counts()
        what = "cancelled" if f.cancelled else "finished"
        failed = c[Status.FAILED] + c[Status.UNBUILDABLE]
        text = (f"{what}: {c[Status.BUILT]} built, {c[Status.CACHED]} cached, {failed} failed, "
                f"{c[Status.CANCELLED]} cancelled of {len(self.rows.rows)} in {f.seconds:.1f} s")
        if c[Status.CANCELLED]:
            text += "; Run builds the cancelled points"
        if f.unrooted:  # results nix-collect-garbage may delete: the run has failed
            text += (f". {f.unrooted} result(s) have no GC root and may be deleted by "
                     f"nix-collect-garbage: {f.root_error or 'the roots could not be added'}")
        return text

    def _on_running(self, running: bool) -> None:
        self._ran = True
        if not running:
            self.plot_panel.flush()
            self.rows.finish(cancelled=True)  # anything the engine did not report on
            self.table_model.rows_changed(range(len(self.rows.rows)))
            self._progress = None
            self._update_progress()
        self._update_buttons()
        self.runningChanged.emit(running)

    def _update_buttons(self) -> None:
        running = self.is_running()
        refused = self._blocked or (f"Cannot run: {self._route_error}" if self._route_error else None)
        can_run = self._sweep is not None and not running and refused is None
        self.run_button.setEnabled(can_run)
        self.run_button.setToolTip(refused or "Build every point of the sweep with Nix "
                                              "(cached points are reused)")
        self.cancel_button.setEnabled(running)
        failed = self.rows.has_failed()
        self.rerun_button.setEnabled(not running and self._sweep is not None and failed)
        if failed != self._had_failed:
            self._had_failed = failed
            self.failedChanged.emit(failed)

    def _update_progress(self) -> None:
        c = self.rows.counts()  # O(1): this runs after every batch of events
        total = len(self.rows.rows)
        failed = c[Status.FAILED] + c[Status.UNBUILDABLE]
        # cancelled points are not done: the next Run builds them
        done = c[Status.CACHED] + c[Status.BUILT] + failed
        # QProgressBar.setValue repaints synchronously on big jumps; a queued update is enough
        self.progress.setUpdatesEnabled(False)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setUpdatesEnabled(True)
        self.progress.update()
        eta = self._progress.eta_seconds if self._progress is not None and self.is_running() else None
        # before a run nothing is queued yet: planned points are "to build"
        queued, planned = c[Status.QUEUED], c[Status.PLANNED]
        if self.is_running() or not planned:
            waiting = f"{queued + planned} queued"
        else:
            waiting = f"{queued} queued, {planned} to build"
        cancelled = f"{c[Status.CANCELLED]} cancelled, " if c[Status.CANCELLED] else ""
        self.progress.setFormat(
            f"%p% — {c[Status.CACHED]} cached, {c[Status.BUILT]} built, {c[Status.RUNNING]} running, "
            f"{failed} failed, {cancelled}{waiting}{_eta_text(eta)}")
        self._update_buttons()  # Rerun failed follows the failed count

    def _on_current_row(self, current, _previous) -> None:
        i = current.data(IndexRole) if current.isValid() else None
        self._selected = i
        self.plot_panel.set_selected(i)
        self._show_log(i)

    def _show_log(self, index: int | None) -> None:
        if index is None:
            self.log_view.clear()
            return
        row = self.rows.rows[index]
        head = [f"# point {index} ({row.name}): {row.status}" + (f" on {row.machine}" if row.machine else "")]
        if row.error:
            head.append(f"# error: {row.error}")
        if row.store_path:
            head.append(f"# {row.store_path}")
        self.log_view.setPlainText("\n".join(head + list(row.log)))
        self.log_view.verticalScrollBar().setValue(self.log_view.verticalScrollBar().maximum())

    def _say(self, text: str, error: bool = False) -> None:
        self.message_label.setText(text)
        self.message_label.setStyleSheet("color: #c62828;" if error else "")
        self.message.emit(text)
