"""The portable interpreter: the same bytes wherever and whenever it is made, and complete."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from sweepgui.nix.portable import build_tree, model_distributions

pytestmark = pytest.mark.skipif(shutil.which("nix-hash") is None, reason="needs Nix")


def _nar_hash(path: Path) -> str:
    return subprocess.run(["nix-hash", "--type", "sha256", str(path)], capture_output=True,
                          text=True, check=True).stdout.strip()


def test_two_makes_give_the_same_store_contents_and_it_runs_alone():
    """Its store path is the hash of its contents: made twice (another folder, another
    time), it must be the same, or every user and every lost cache would rebuild all."""
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        info = build_tree(Path(a) / "sweepgui-python")
        build_tree(Path(b) / "sweepgui-python")
        assert _nar_hash(Path(a) / "sweepgui-python") == _nar_hash(Path(b) / "sweepgui-python")
        t = Path(a) / "sweepgui-python"
        names = {d.metadata["Name"].lower() for d in model_distributions()}
        assert {"numpy", "scipy", "pydantic", "coolprop"} <= names
        # started with its own loader and libraries, and nothing of this venv on the path
        code = ("import sys, site; site.addsitedir(sys.argv[1]); import numpy, scipy.linalg, "
                "pydantic, CoolProp.CoolProp as CP; "
                "print(sys.prefix); print(CP.PropsSI('D', 'T', 293.15, 'P', 101325, 'Water'))")
        p = subprocess.run([str(t / info["loader"]), "--library-path", str(t / "lib" / "sys"),
                            str(t / info["python"]), "-S", "-E", "-c", code, str(t / "site")],
                           capture_output=True, text=True, env={}, timeout=120)
        assert p.returncode == 0, p.stderr
        prefix, rho = p.stdout.split()
        assert prefix == str(t)
        assert float(rho) == pytest.approx(998.2065, abs=0.01)  # IAPWS-95, 20 °C, 1 atm
