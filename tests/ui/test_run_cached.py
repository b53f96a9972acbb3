"""An opened sweep whose points are already in the Nix store shows them at once: table rows
cached with their store paths, spectra and f_n plotted, without Run and without any Nix build.
Real Nix: the points are built first with the engine alone, as an earlier session would have."""

from __future__ import annotations

import os
import shutil
import textwrap
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

from sweepgui.nix import Engine, read_result
from sweepgui.nix import events as ev
from sweepgui.nix.process import descendants
from sweepgui.results import PointResult, SpectraStore, load_point_result
from sweepgui.results.points import vertices_per_curve
from sweepgui.sweep import load_sweep
from sweepgui.ui.run.panel import RunPanel
from tests.procs import processes_mentioning

pytestmark = [pytest.mark.nix, pytest.mark.skipif(shutil.which("nix-build") is None,
                                                  reason="Nix is not installed")]

# a fast custom model: one resonance at f1 = sqrt(density) Hz, a 200-sample spectrum
MODEL = textwrap.dedent('''\
    import json, math, sys
    p = json.load(open(sys.argv[1], encoding="utf-8"))
    f1 = math.sqrt(p["fluid"]["density"])
    f = [5.0 * k for k in range(1, 201)]
    mag = [1e-6 / math.hypot(1 - (x / f1) ** 2, 0.02 * x / f1) for x in f]
    json.dump({"natural_frequencies": [f1, 4 * f1], "stable": True, "marker": MARKER,
               "spectrum": {"frequency": f, "magnitude": mag, "phase": [0.0] * len(f)}},
              open(sys.argv[2], "w"))
    ''')


def write_sweep(folder: Path, name: str, model: str, densities) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(textwrap.dedent(f"""\
        [variable]
        "fluid.density" = {list(densities)}
        [run]
        jobs = 2
        [model]
        executable = "{model}"
        """), encoding="utf-8")
    return path


@pytest.fixture
def model(tmp_path) -> str:
    name = f"m{uuid.uuid4().hex[:10]}.py"
    (tmp_path / name).write_text(MODEL.replace("MARKER", repr(uuid.uuid4().hex)), encoding="utf-8")
    return name


def build_with_engine(tmp_path: Path, sweep) -> dict[int, str]:
    """Build the sweep without the GUI; index -> out path."""
    out = {}
    for e in Engine(state_dir=tmp_path / "cli-state").run(sweep):
        if isinstance(e, (ev.PointFinished, ev.PointCached)):
            out[e.index] = e.store_path
        assert not isinstance(e, ev.PointFailed), e
    return out


class Watch:
    """Everything the panel is handed, what it reads, and whether a nix-build ever ran."""

    def __init__(self, panel: RunPanel):
        self.items: list = []
        self.loaded: list[int] = []
        self.nix_builds: list = []
        panel.controller.eventsReady.connect(self.items.extend)
        panel.cached_loader.eventsReady.connect(self.items.extend)

        def loader(index, path):
            self.loaded.append(index)  # list.append is atomic: fine from the loading thread
            return load_point_result(index, path)
        panel.controller.result_loader = loader

    def poll(self) -> None:
        # this test's own processes only: other people's builds on the machine do not count
        ours = set(descendants(os.getpid()))
        self.nix_builds += [p for p in processes_mentioning("nix-build") if p[0] in ours]


def make_panel(qtbot, tmp_path: Path) -> RunPanel:
    # a state folder of its own: the panel finds the points through the store, not a manifest
    panel = RunPanel(engine_factory=lambda sweep: Engine(state_dir=tmp_path / "gui-state"))
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(10.0))
    panel.resize(1300, 800)
    panel.show()
    return panel


def wait_shown(qtbot, panel: RunPanel, watch: Watch, n_curves: int, timeout=30_000) -> None:
    def ready():
        watch.poll()
        return (not panel.controller.is_planning() and not panel.cached_loader.is_running()
                and len(panel.plot_panel.spectra.store.curves) == n_curves)
    qtbot.waitUntil(ready, timeout=timeout)


def test_an_opened_cached_sweep_shows_its_results_without_run_or_build(qtbot, tmp_path, model):
    sweep = load_sweep(write_sweep(tmp_path, "cached", model, [400.0, 900.0, 1600.0]))
    paths = build_with_engine(tmp_path, sweep)
    panel = make_panel(qtbot, tmp_path)
    watch = Watch(panel)
    panel.set_sweep(sweep)
    wait_shown(qtbot, panel, watch, 3)

    assert [r.status for r in panel.rows.rows] == ["cached"] * 3
    assert [r.store_path for r in panel.rows.rows] == [paths[i] for i in range(3)]
    assert not panel.is_running()
    assert watch.nix_builds == []
    assert not [x for x in watch.items if isinstance(x, (ev.PointStarted, ev.PointFinished))]
    # f_n as in the result files: sqrt(density), the model's own formula
    panel.plot_panel.flush()
    freqs = panel.plot_panel.modes.freqs
    assert sorted(freqs) == [0, 1, 2]
    assert [freqs[i] for i in range(3)] == [pytest.approx((f, 4 * f)) for f in (20.0, 30.0, 40.0)]
    assert panel.plot_panel.modes.freqs[1] == tuple(read_result(paths[1])["natural_frequencies"])
    assert panel.message_label.text() == "3 points: 3 cached, 0 to build"  # no "reading…" left
    assert panel.progress.text().startswith("100%")
    assert sorted(watch.loaded) == [0, 1, 2]


def test_a_partly_cached_sweep_shows_its_cached_points_then_run_adds_the_rest(qtbot, tmp_path, model):
    built = build_with_engine(tmp_path, load_sweep(write_sweep(tmp_path, "part", model, [400.0, 900.0])))
    sweep = load_sweep(write_sweep(tmp_path, "full", model, [400.0, 900.0, 1600.0, 2500.0]))
    panel = make_panel(qtbot, tmp_path)
    watch = Watch(panel)
    panel.set_sweep(sweep)
    wait_shown(qtbot, panel, watch, 2)
    assert [r.status for r in panel.rows.rows] == ["cached", "cached", "planned", "planned"]
    assert [r.store_path for r in panel.rows.rows[:2]] == [built[0], built[1]]
    assert sorted(panel.plot_panel.spectra.store.curves) == [0, 1]
    assert "2 cached, 2 to build" in panel.message_label.text()
    assert watch.nix_builds == []

    with qtbot.waitSignal(panel.runningChanged, timeout=60_000, check_params_cb=lambda r: r is False):
        panel.start(sweep)
    assert [r.status for r in panel.rows.rows] == ["cached", "cached", "built", "built"]
    assert sorted(panel.plot_panel.spectra.store.curves) == [0, 1, 2, 3]
    # every result was read once: the run did not load (and redraw) the two on show again
    assert sorted(watch.loaded) == [0, 1, 2, 3]
    started = {x.index for x in watch.items if isinstance(x, ev.PointStarted)}
    assert started == {2, 3}
    panel.plot_panel.flush()
    assert panel.plot_panel.modes.freqs[3] == pytest.approx((50.0, 200.0))


def test_opening_another_sweep_while_results_load_replaces_them_cleanly(qtbot, tmp_path, model):
    first = load_sweep(write_sweep(tmp_path, "first", model, [400.0, 900.0, 1600.0, 2500.0]))
    build_with_engine(tmp_path, first)
    panel = make_panel(qtbot, tmp_path)
    watch = Watch(panel)

    def slow(index, path):  # a slow disk: the second sweep arrives mid-load
        time.sleep(0.25)
        watch.loaded.append(index)
        return load_point_result(index, path)
    panel.controller.result_loader = slow
    panel.set_sweep(first)
    qtbot.waitUntil(lambda: len(panel.plot_panel.spectra.store.curves) >= 1, timeout=30_000)
    assert panel.cached_loader.is_running()

    second = load_sweep(write_sweep(tmp_path, "second", model, [3600.0, 4900.0]))  # not built
    panel.set_sweep(second)
    qtbot.waitUntil(lambda: len(panel.rows.rows) == 2 and not panel.controller.is_planning(),
                    timeout=30_000)
    # the first load's thread ends at its next point; nothing it read is delivered
    qtbot.waitUntil(lambda: not panel.cached_loader.has_threads(), timeout=10_000)
    assert [r.status for r in panel.rows.rows] == ["planned", "planned"]
    assert [r.coords for r in panel.rows.rows] == [(3600.0,), (4900.0,)]
    assert panel.plot_panel.spectra.store.curves == {}
    assert panel.plot_panel.freqs == {}
    assert not panel.cached_loader.is_running()
    assert len(watch.loaded) < 4  # the first load stopped early
    # back to the first sweep: all four come from the store again
    panel.controller.result_loader = load_point_result
    panel.set_sweep(first)
    wait_shown(qtbot, panel, watch, 4)
    assert [r.status for r in panel.rows.rows] == ["cached"] * 4


def test_curves_announced_up_front_are_decimated_once():
    # loading a big cached sweep: no batch re-decimates every curve on show (an 80 ms stall)
    store = SpectraStore()
    store.expect(5000)
    f = np.linspace(1.0, 2000.0, 4000)
    y = np.log10(1.0 / (1.0 + f)).astype(np.float32)
    relevelled = [store.add_many([(PointResult(i, f, y, (1.0,)), 0) for i in range(k, k + 250)])
                  for k in range(0, 5000, 250)]
    assert relevelled == [False] * 20
    assert store.level == vertices_per_curve(5000) < vertices_per_curve(250)
    x, _ = store.arrays_for([0])
    assert len(x) <= store.level + 1  # decimated for 5,000 curves from the first one
