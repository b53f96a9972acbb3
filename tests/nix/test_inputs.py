"""What a point's store path depends on: the model's source and the interpreter, nothing else."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, detect_interpreter, read_result
from sweepgui.nix.events import PointFinished
from sweepgui.resources import resources_dir
from sweepgui.sweep import load_sweep

from .conftest import write_model, write_sweep

pytestmark = pytest.mark.nix

REPO = Path(__file__).resolve().parents[2]

PLAN = """
import json, sys
from sweepgui.nix import Engine
from sweepgui.sweep import load_sweep
print(json.dumps([p.out_path for p in Engine().plan(load_sweep(sys.argv[1])).points]))
"""


def test_editing_the_model_changes_paths_editing_the_gui_does_not(tmp_path: Path):
    # a private copy of the package, so that editing it disturbs nobody
    pkg = tmp_path / "copy"
    shutil.copytree(REPO / "sweepgui", pkg / "sweepgui",
                    ignore=shutil.ignore_patterns("__pycache__"))
    sweep = tmp_path / "s.toml"
    sweep.write_text('[variable]\n"fluid.density" = [990.0, 1000.0]\n')
    env = dict(os.environ, PYTHONPATH=str(pkg), SWEEPGUI_RESOURCES=str(resources_dir()),
               XDG_CACHE_HOME=str(tmp_path / "cache"))

    def plan() -> list[str]:
        out = subprocess.run([sys.executable, "-c", PLAN, str(sweep)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    before = plan()
    (pkg / "sweepgui" / "ui" / "edited_by_test.py").write_text("# a GUI edit\n")
    (pkg / "sweepgui" / "cli" / "__init__.py").open("a").write("\n# a CLI edit\n")
    assert plan() == before
    (pkg / "sweepgui" / "model" / "__init__.py").open("a").write("\n# a model edit\n")
    after = plan()
    assert len(set(after)) == 2 and not set(after) & set(before)


def test_host_interpreter_identity_names_version_and_packages(monkeypatch):
    monkeypatch.delenv("SWEEPGUI_NIX_PYTHON", raising=False)
    monkeypatch.setenv("SWEEPGUI_INTERPRETER", "host")
    info = detect_interpreter()
    assert info.mode == "host"
    assert info.python == sys.executable
    assert info.identity["python"] == ".".join(map(str, sys.version_info[:3]))
    assert "numpy" in info.identity["packages"] and "pydantic" in info.identity["packages"]
    assert not {"sweepgui", "pip", "setuptools"} & set(info.identity["packages"])
    assert info.identity_hash.startswith("sha256:")


def test_nixpkgs_mode_uses_a_python_from_the_store(tmp_path: Path, monkeypatch):
    """The seam for the flake's Python: SWEEPGUI_NIX_PYTHON pointing into the store.

    Without nixpkgs here, the "store Python" is a wrapper added to the store; what is
    checked is the seam: detection, the interpreter as a store input of the points, and a
    run through it.
    """
    wrapper = tmp_path / "py" / "bin" / "python3"
    wrapper.parent.mkdir(parents=True)
    wrapper.write_text(f"#!/bin/sh\n# {uuid.uuid4().hex}\nexec {sys.executable} \"$@\"\n")
    wrapper.chmod(0o755)
    store = subprocess.run(["nix-store", "--add", str(tmp_path / "py")], capture_output=True,
                           text=True, check=True).stdout.strip()
    monkeypatch.setenv("SWEEPGUI_NIX_PYTHON", "/not/in/the/store/python3")
    info = detect_interpreter()  # refused, and said why: the default mode is used
    assert info.mode == "portable" and "not inside" in info.description

    monkeypatch.setenv("SWEEPGUI_NIX_PYTHON", f"{store}/bin/python3")
    info = detect_interpreter()
    assert info.mode == "nixpkgs" and info.store_path == store

    write_model(tmp_path, marker=store)
    sweep = load_sweep(write_sweep(tmp_path, {"fluid.density": [990.0, 1000.0]}))
    # the wrapper runs a Python build users may not read: build as the calling user
    engine = Engine(nix_options={"build-users-group": ""} if os.geteuid() == 0 else None)
    events = list(engine.run(sweep))
    finished = [e for e in events if isinstance(e, PointFinished)]
    assert len(finished) == 2, events[-3:]
    assert read_result(finished[0].store_path)["marker"] == store
    drv = engine.plan(sweep).points[0].drv
    refs = subprocess.run(["nix-store", "--query", "--references", drv], capture_output=True,
                          text=True, check=True).stdout.split()
    assert store in refs


def test_a_changed_package_version_in_the_host_environment_changes_every_path(tmp_path: Path):
    """Host mode: upgrading an installed package must rebuild (its version is an input)."""
    if os.environ.get("SWEEPGUI_NIX_PYTHON"):
        pytest.skip("a Nix-store Python is configured")
    sweep = tmp_path / "s.toml"
    sweep.write_text('[variable]\n"fluid.density" = [990.0, 1000.0]\n')

    def plan_with(version: str) -> list[str]:
        site = tmp_path / f"site-{version}"
        dist = site / f"sweepgui_test_dep-{version}.dist-info"
        dist.mkdir(parents=True, exist_ok=True)
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: sweepgui-test-dep\nVersion: {version}\n")
        env = dict(os.environ, PYTHONPATH=str(site), SWEEPGUI_INTERPRETER="host")
        out = subprocess.run([sys.executable, "-c", PLAN, str(sweep)], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True)
        return json.loads(out.stdout)

    v1, v1_again, v2 = plan_with("1.0"), plan_with("1.0"), plan_with("2.0")
    assert v1 == v1_again and len(set(v1)) == 2
    assert not set(v1) & set(v2)
