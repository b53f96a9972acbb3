"""Render the main window with a finished sweep (real Nix) to a PNG, and check it shows something.

The PNG goes to the test's temporary folder: a test never writes into the repository. To make
the README's image, ask for it with the environment variable ``SWEEPGUI_SCREENSHOT``::

    SWEEPGUI_SCREENSHOT=resources/screenshot.png QT_QPA_PLATFORM=offscreen \\
        .venv/bin/python -m pytest -q tests/ui/test_screenshot.py

(a relative path is taken from the repository root); the same checked image is then also
saved there.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from sweepgui.ui.main_window import MainWindow

pytestmark = [pytest.mark.nix, pytest.mark.skipif(shutil.which("nix-build") is None,
                                                  reason="Nix is not installed")]

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "resources" / "examples" / "quickstart.toml"


def test_main_window_with_a_finished_sweep_renders_to_png(qtbot, tmp_path):
    sweep_file = tmp_path / "quickstart.toml"
    shutil.copy(QUICKSTART, sweep_file)
    window = MainWindow()
    qtbot.addWidget(window, before_close_func=lambda w: w.run_panel.shutdown(10.0))
    panel = window.run_panel
    window.resize(1600, 950)
    window.show()
    with qtbot.waitSignal(panel.runningChanged, timeout=120_000, check_params_cb=lambda r: r is False):
        assert window.open_file(sweep_file, ask=False)
        assert window.run()
    # a plan requested when the sweep was opened may answer after the run: it must not wipe it
    qtbot.waitUntil(lambda: not panel.controller.is_planning(), timeout=30_000)
    assert panel.progress.value() == panel.progress.maximum() == 8
    assert len(panel.plot_panel.spectra.store) == 8
    assert {r.status for r in panel.rows.rows} <= {"built", "cached"}
    panel.select_point(5)
    qtbot.waitUntil(lambda: panel.selected_point() == 5)
    panel.plot_panel.flush()

    out = tmp_path / "screenshot.png"
    assert window.grab().save(str(out))
    img = QImage(str(out))
    assert img.width() >= 1200 and img.height() >= 700
    # non-trivial: many distinct colours, not one flat fill
    colours = {img.pixel(x, y) for x in range(0, img.width(), 5) for y in range(0, img.height(), 5)}
    assert len(colours) > 100
    assert out.stat().st_size > 50_000
    wanted = os.environ.get("SWEEPGUI_SCREENSHOT")
    if wanted:  # the README's image, asked for by hand
        target = ROOT / wanted if not Path(wanted).is_absolute() else Path(wanted)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, target)
