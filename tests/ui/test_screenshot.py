"""Render the main window with a finished sweep (real Nix) to test-artifacts/screenshot.png.

The PNG is kept as a test artifact (test-artifacts/ at the repository root, gitignored); a good
one is copied by hand to resources/screenshot.png for the README.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

pytestmark = [pytest.mark.nix, pytest.mark.skipif(shutil.which("nix-build") is None,
                                                  reason="Nix is not installed")]

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "resources" / "examples" / "quickstart.toml"


def make_window(qtbot):
    try:
        from sweepgui.ui.main_window import MainWindow
    except ImportError:  # the main window is another stream's; the panel alone still shows a run
        from sweepgui.ui.run_panel import RunPanel

        panel = RunPanel()
        qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(10.0))
        return panel, panel, lambda path: panel.start(__import__("sweepgui.sweep").sweep.load_sweep(path))
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.run_panel.shutdown(10.0))

    def run(path: Path) -> None:
        assert window.open_file(path, ask=False)
        assert window.run()
    return window, window.run_panel, run


def test_main_window_with_a_finished_sweep_renders_to_png(qtbot, tmp_path):
    sweep_file = tmp_path / "quickstart.toml"
    shutil.copy(QUICKSTART, sweep_file)
    window, panel, run = make_window(qtbot)
    window.resize(1600, 950)
    window.show()
    with qtbot.waitSignal(panel.runningChanged, timeout=120_000, check_params_cb=lambda r: r is False):
        run(sweep_file)
    # a plan requested when the sweep was opened may answer after the run: it must not wipe it
    qtbot.waitUntil(lambda: not panel.controller.is_planning(), timeout=30_000)
    qtbot.wait(50)
    assert panel.progress.value() == panel.progress.maximum() == 8
    assert len(panel.plot_panel.spectra.store) == 8
    assert {r.status for r in panel.rows.rows} <= {"built", "cached"}
    panel.select_point(5)
    qtbot.wait(100)

    out = ROOT / "test-artifacts" / "screenshot.png"
    out.parent.mkdir(exist_ok=True)
    assert window.grab().save(str(out))
    img = QImage(str(out))
    assert img.width() >= 1200 and img.height() >= 700
    # non-trivial: many distinct colours, not one flat fill
    colours = {img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}
    assert len(colours) > 100
    assert out.stat().st_size > 50_000
