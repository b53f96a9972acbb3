"""Issue 11, item 7: a mistyped command is an error naming the commands, not the app
opened on a file of that name (which, offscreen, never returns)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sweepgui.cli import COMMANDS


def sweepgui(*argv: str, cwd=None) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    try:
        return subprocess.run([sys.executable, "-m", "sweepgui", *argv], capture_output=True,
                              text=True, timeout=60, env=env, cwd=cwd)
    except subprocess.TimeoutExpired:
        pytest.fail(f"sweepgui {' '.join(argv)} did not return: it started the desktop app")


@pytest.mark.parametrize("word", ["calbrate", "expotr", "sensitivty", "help", "x.toml"])
def test_a_word_that_is_no_command_nor_file_exits_2_naming_the_commands(tmp_path, word):
    proc = sweepgui(word, "x.toml", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    for command in ("run", "plan", "export", "sensitivity", "machines", "doctor"):
        assert command in proc.stderr
    assert word in proc.stderr


@pytest.mark.parametrize("typed, meant", [("expotr", "export"), ("sensitivty", "sensitivity"),
                                          ("pln", "plan"), ("machine", "machines")])
def test_a_mistyped_command_suggests_the_closest(tmp_path, typed, meant):
    proc = sweepgui(typed, "x.toml", cwd=tmp_path)
    assert proc.returncode == 2 and f"did you mean '{meant}'" in proc.stderr


def test_calbrate_suggests_calibrate_once_it_exists(tmp_path):
    proc = sweepgui("calbrate", "x.toml", cwd=tmp_path)
    assert proc.returncode == 2
    assert ("did you mean 'calibrate'" in proc.stderr) == ("calibrate" in COMMANDS)


def test_an_existing_sweep_file_or_an_option_still_opens_the_app(tmp_path, monkeypatch):
    import sweepgui.__main__ as entry
    import sweepgui.ui.app as app

    opened = []
    monkeypatch.setattr(app, "main", lambda argv: opened.append(list(argv)) or 0)
    sweep = tmp_path / "calbrate"  # a file of any name, even one like a command's
    sweep.write_text("[fixed]\n")
    assert entry.main([str(sweep), "--run"]) == 0
    assert entry.main(["--run"]) == 0 and entry.main([]) == 0
    assert opened == [[str(sweep), "--run"], ["--run"], []]
