"""The desktop app's entry point: ``python -m sweepgui [SWEEP.toml] [--run]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

USAGE = "sweepgui [SWEEP.toml] [--run]   (or: sweepgui SUBCOMMAND ..., see sweepgui --help)"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="sweepgui", usage=USAGE,
                                     description="The sweepgui desktop app.")
    parser.add_argument("sweep", nargs="?", type=Path, help="a sweep file (TOML) to open")
    parser.add_argument("--run", action="store_true", help="start the sweep at once")
    # Qt's own options (-style, -platform ...) pass through to QApplication
    args, _qt = parser.parse_known_args(argv)
    if args.run and args.sweep is None:
        parser.error("--run needs a sweep file")
    return args


def create_window(args: argparse.Namespace):
    """The main window for parsed arguments (the file loaded; the run started with --run)."""
    from sweepgui.ui.main_window import MainWindow

    window = MainWindow()
    if args.sweep is not None:
        if not args.sweep.exists():
            window.statusBar().showMessage(f"No such sweep file: {args.sweep}", 15000)
            print(f"sweepgui: no such sweep file: {args.sweep}", file=sys.stderr)
        elif window.open_file(args.sweep, ask=False) and args.run:
            if not window.run():
                print(f"sweepgui: cannot run {args.sweep}: {window.forms.reason}", file=sys.stderr)
    return window


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from sweepgui.ui.widgets_env import APPLICATION, ORGANIZATION

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "sweepgui", *argv])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName("sweepgui")
    from sweepgui.ui.icons import app_icon

    app.setWindowIcon(app_icon())
    from sweepgui.ui.gc_guard import MainThreadGarbageCollector

    collector = MainThreadGarbageCollector(app)  # Qt objects are freed on this thread only
    window = create_window(args)
    window.show()
    try:
        return app.exec()
    finally:
        collector.stop()
