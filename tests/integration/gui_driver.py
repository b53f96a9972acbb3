"""Drives the real desktop app (offscreen) for tests that run it as another user.

``python -m tests.integration.gui_driver SWEEP.toml OUT.json``: opens the main window as
``sweepgui SWEEP.toml`` would, waits for the Nix set-up in the status bar and the plan's
route, presses Run, waits for the run to end (at most 120 s), and writes what the user saw
to OUT.json: the status bar's Nix text, the run tab's route line before Run, the machines
tab's banner, each row's status and the progress text.
"""

from __future__ import annotations

import json
import sys
import time


def main(sweep: str, out: str) -> int:
    from PySide6.QtWidgets import QApplication

    from sweepgui.ui.app import create_window, parse_args

    app = QApplication([sys.argv[0]])
    w = create_window(parse_args([sweep]))
    w.show()
    seen: dict = {}

    def wait(cond, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise SystemExit(f"gui_driver: timed out waiting for {what}")
            app.processEvents()
            time.sleep(0.02)

    wait(lambda: "checking" not in w.nix_label.text(), 60, "the Nix set-up")
    wait(lambda: w.run_panel.route_label.isVisible(), 60, "the plan's route line")
    seen["nix_status"] = w.nix_label.text()
    seen["route_before_run"] = w.run_panel.route_label.text()
    seen["banner_visible"] = w.machines_editor.banner.isVisibleTo(w.machines_editor)
    seen["run_started"] = w.run()
    wait(lambda: w.is_running(), 10, "the run to start")
    wait(lambda: not w.is_running(), 120, "the run to end")
    seen["statuses"] = [r.status for r in w.run_panel.rows.rows]
    seen["progress"] = w.run_panel.progress.text()
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(seen, fh)
    w.close()
    app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
