"""The run tab says before Run which builders will not be used, refuses a run nothing could
build (Run disabled with the reason), and shows a NixSetupError of a run as plain words."""

from __future__ import annotations

import shutil
import textwrap

import pytest
from PySide6.QtWidgets import QMessageBox

from sweepgui.nix import Engine
from sweepgui.nix.setup import NixSetup
from sweepgui.sweep import load_sweep
from sweepgui.ui.run.panel import RunPanel

pytestmark = [pytest.mark.nix, pytest.mark.skipif(shutil.which("nix-build") is None,
                                                  reason="Nix is not installed")]

UNTRUSTED = NixSetup(version="2.8.0", mode="daemon", store_uri="daemon", user="alice",
                     primary_group="alice", trusted=False, trusted_users=("root",),
                     conf_file="/etc/nix/nix.conf", builders_setting="@/etc/nix/machines",
                     build_users_group="nixbld", settings_read=True)


class UntrustedEngine(Engine):
    """The real engine on a machine whose nix-daemon does not trust this user (the set-up is
    given, as detect_setup would find it there; planning still uses this machine's Nix)."""

    @staticmethod
    def setup() -> NixSetup:
        return UNTRUSTED


def sweep_file(tmp_path, jobs: int, machines: str | None = None, name: str = "s.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(f"""\
        [fixed]
        pipe.length = 0.45
        [variable]
        "fluid.density" = [900.0, 1000.0]
        [run]
        jobs = {jobs}
        """) + (f'machines = "{machines}"\n' if machines else ""), encoding="utf-8")
    return path


@pytest.fixture
def no_machines(tmp_path):
    path = tmp_path / "no-machines"
    path.write_text("# no builders yet\n", encoding="utf-8")
    return path.name


@pytest.fixture
def machines(tmp_path):
    path = tmp_path / "machines"
    path.write_text("ssh-ng://alice@build1 x86_64-linux - 4\n", encoding="utf-8")
    return path


def make_panel(qtbot, tmp_path, engine=Engine) -> RunPanel:
    panel = RunPanel(engine_factory=lambda sweep: engine(state_dir=tmp_path / "state"))
    qtbot.addWidget(panel, before_close_func=lambda w: w.shutdown(10.0))
    panel.resize(1200, 700)
    panel.show()
    return panel


def test_ignored_machines_are_said_before_run(qtbot, tmp_path, machines):
    panel = make_panel(qtbot, tmp_path, UntrustedEngine)
    panel.set_machines(machines)  # the machines tab's file, used when the sweep names none
    panel.set_sweep(load_sweep(sweep_file(tmp_path, jobs=2)))
    qtbot.waitUntil(lambda: panel.route_label.isVisible(), timeout=30_000)
    text = panel.route_label.text()
    assert text.startswith(f"⚠ The nix-daemon will not use the machines in {machines}")
    assert "alice is not a trusted user" in text and "install-system" in text
    # a warning only: local jobs still build the points
    assert panel.route_error() == "" and panel.run_button.isEnabled()
    # the plan's header is there too
    qtbot.waitUntil(lambda: "to build" in panel.message_label.text(), timeout=30_000)


def test_run_is_refused_when_nothing_could_build(qtbot, tmp_path, machines):
    panel = make_panel(qtbot, tmp_path, UntrustedEngine)
    errors = []
    panel.routeChanged.connect(errors.append)
    # remote builds only, on the sweep's own machines, which the daemon ignores
    panel.set_sweep(load_sweep(sweep_file(tmp_path, jobs=0, machines=machines.name)))
    qtbot.waitUntil(lambda: bool(panel.route_error()), timeout=30_000)
    assert errors and errors[-1] == panel.route_error()
    assert panel.route_error().startswith(f"the nix-daemon will not use the machines in {machines}")
    assert "With 0 local jobs nothing would build the points" in panel.route_error()
    assert not panel.run_button.isEnabled()
    assert panel.run_button.toolTip() == f"Cannot run: {panel.route_error()}"
    assert panel.route_label.text().startswith("✘ Cannot run: the nix-daemon will not use")
    assert "#c62828" in panel.route_label.styleSheet()
    # local jobs again: Run comes back; the warning stays
    panel.set_sweep(load_sweep(sweep_file(tmp_path, jobs=1, machines=machines.name)))
    qtbot.waitUntil(lambda: panel.route_error() == "", timeout=30_000)
    assert panel.run_button.isEnabled() and errors[-1] == ""
    assert panel.route_label.text().startswith("⚠ The nix-daemon will not use")


def test_a_nix_setup_error_of_a_run_is_shown_in_plain_words(qtbot, tmp_path, no_machines):
    panel = make_panel(qtbot, tmp_path)
    sweep = load_sweep(sweep_file(tmp_path, jobs=0, machines=no_machines))
    with qtbot.waitSignal(panel.runningChanged, timeout=30_000, check_params_cb=lambda r: r is False):
        panel.start(sweep)  # started anyway (the window would refuse): the engine refuses
    text = panel.message_label.text()
    assert text.startswith(f"the run stopped: {tmp_path / no_machines} lists no machine, and "
                           "0 local jobs build nothing"), text
    assert "Traceback" not in text and "NixSetupError" not in text
    assert "#c62828" in panel.message_label.styleSheet()


def test_the_window_refuses_run_with_the_reason(qtbot, tmp_path, monkeypatch, no_machines):
    monkeypatch.setattr(QMessageBox, "question",
                        staticmethod(lambda *a, **k: QMessageBox.StandardButton.Discard))
    from sweepgui.ui.main_window import MainWindow

    window = MainWindow()
    qtbot.addWidget(window)
    assert window.open_file(sweep_file(tmp_path, jobs=0, machines=no_machines), ask=False)
    qtbot.waitUntil(lambda: bool(window.run_panel.route_error()), timeout=30_000)
    assert not window.run_action.isEnabled()
    assert window.run_action.toolTip().startswith(f"Cannot run: {tmp_path / no_machines} lists "
                                                  "no machine")
    assert window.forms.run_button.toolTip() == window.run_action.toolTip()
    assert not window.run() and not window.is_running()
    window.close()
