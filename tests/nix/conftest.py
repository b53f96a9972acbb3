"""Fixtures for tests with real Nix: sweeps in temporary folders and a fast custom model.

The custom model is a few lines of Python (start-up ~20 ms) whose behaviour depends on
the parameters, so failures and slow points can be placed exactly:
- fluid.density == 1010.0: exits 3 with a message (a point the model cannot compute);
- state.temperature >= 1000: sleeps 60 s (a point to cancel);
- otherwise writes {"density", "temperature", "name", "marker"} to OUT.
"""

from __future__ import annotations

import json
import shutil
import textwrap
import uuid
from pathlib import Path

import pytest

MODEL = textwrap.dedent('''\
    import json, sys, time
    params = json.load(open(sys.argv[1], encoding="utf-8"))
    rho = params["fluid"]["density"]
    temp = params["state"]["temperature"]
    print("computing", rho, temp, flush=True)
    if rho == 1010.0:
        print("density 1010 is out of this model's range", file=sys.stderr)
        sys.exit(3)
    if temp >= 1000:
        time.sleep(60)
    with open(sys.argv[2], "w", encoding="utf-8") as fh:
        json.dump({"density": rho, "temperature": temp, "name": params["material"]["name"],
                   "marker": MARKER}, fh)
    ''')


def nix_available() -> bool:
    return shutil.which("nix-build") is not None


def pytest_collection_modifyitems(items):
    if nix_available():
        return
    skip = pytest.mark.skip(reason="Nix is not installed")
    for item in items:
        if "nix" in item.keywords:
            item.add_marker(skip)


def write_model(folder: Path, marker: str = "v1", name: str = "model.py") -> Path:
    path = folder / name
    path.write_text(MODEL.replace("MARKER", json.dumps(marker)), encoding="utf-8")
    return path


def toml_value(v) -> str:
    # JSON string escapes are valid TOML basic-string escapes
    return json.dumps(v, ensure_ascii=False)


def write_sweep(folder: Path, variables: dict, fixed: dict | None = None,
                model: str | None = "model.py", name: str = "sweep.toml",
                jobs: int | None = 2) -> Path:
    lines = ["[fixed]"]
    for k, v in (fixed or {}).items():
        lines.append(f"{k} = {toml_value(v)}")
    lines.append("[variable]")
    for k, v in variables.items():
        lines.append(f'"{k}" = {toml_value(v)}')
    if jobs:
        lines += ["[run]", f"jobs = {jobs}"]
    if model:
        lines += ["[model]", f"executable = {toml_value(model)}"]
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """A folder with model.py; a fresh marker makes every test's store paths new (cold)."""
    write_model(tmp_path, marker=uuid.uuid4().hex)
    return tmp_path
