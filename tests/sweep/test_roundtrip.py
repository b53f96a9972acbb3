"""to_toml round trips, atomic saves, and a content hash that means the sweep's content."""

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepgui.params import canonical_json, field_info
from sweepgui.params.presets import MATERIAL_FIELDS, material_presets
from sweepgui.resources import resources_dir
from sweepgui.sweep import Sweep, VariableSpec, load_sweep, loads_sweep, save_sweep

EXAMPLES = sorted((resources_dir() / "examples").glob("*.toml"))


def test_the_three_examples_exist_and_are_small():
    names = {p.name for p in EXAMPLES}
    assert {"quickstart.toml", "density.toml", "pressure-temperature.toml"} <= names
    sizes = {p.name: load_sweep(p).size for p in EXAMPLES}
    assert sizes["quickstart.toml"] <= 8 and sizes["pressure-temperature.toml"] <= 27


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_examples_round_trip(path):
    s = load_sweep(path)
    again = loads_sweep(s.to_toml())
    assert again == s
    assert again.to_toml() == s.to_toml()
    assert again.points() == s.points() and again.content_hash() == s.content_hash()


def test_to_toml_keeps_generators_and_order():
    text = ('[variable]\n"state.temperature" = { linspace = [283.15, 353.15, 8] }\n'
            '"fluid.density" = [990.0, 1010.0]\n"pipe.length" = { arange = [0.3, 0.6, 0.1] }\n')
    s = loads_sweep(text)
    assert s.to_toml() == text


def test_density_example_brackets_water_with_small_even_steps():
    values = load_sweep(resources_dir() / "examples" / "density.toml").variable_values("fluid.density")
    assert 5 <= len(values) <= 7 and 998.0 in values
    steps = {round(b - a, 9) for a, b in zip(values, values[1:])}
    assert len(steps) == 1 and 0 < steps.pop() <= 10.0


def test_point_canonical_text_does_not_depend_on_how_a_value_was_written():
    computed = Sweep(variables={"fluid.density": [0.1 + 0.2, 1.0]})
    written = loads_sweep('[variable]\n"fluid.density" = [0.30000000000000004, 1.0]\n')
    other = loads_sweep('[variable]\n"fluid.density" = [0.3, 1.0]\n')
    assert canonical_json(computed.points()[0]) == canonical_json(written.points()[0])
    assert computed.content_hash() == written.content_hash()
    assert canonical_json(other.points()[0]) != canonical_json(written.points()[0])
    assert other.content_hash() != written.content_hash()
    # an integer where a float is meant, and -0.0, are the same values too
    a = loads_sweep('[fixed]\nstate.flow_velocity = -0.0\n[variable]\n"fluid.density" = [998]\n')
    b = loads_sweep('[fixed]\nstate.flow_velocity = 0.0\n[variable]\n"fluid.density" = [998.0]\n')
    assert canonical_json(a.points()[0]) == canonical_json(b.points()[0])


def test_content_hash_means_content():
    listed = loads_sweep('[variable]\n"fluid.density" = [990.0, 1000.0, 1010.0]\n[run]\njobs = 4\n')
    generated = loads_sweep('[fixed]\npipe.length = 0.5\n'
                            '[variable]\n"fluid.density" = { linspace = [990, 1010, 3] }\n')
    assert listed.content_hash() == generated.content_hash()  # 0.5 m is the default length
    assert listed.content_hash().startswith("sha256:")
    reordered = loads_sweep('[variable]\n"fluid.density" = [1010.0, 1000.0, 990.0]\n')
    assert reordered.content_hash() != listed.content_hash()


def test_content_hash_is_the_same_in_another_process():
    path = resources_dir() / "examples" / "pressure-temperature.toml"
    code = ("import sys; from sweepgui.sweep import load_sweep; "
            "print(load_sweep(sys.argv[1]).content_hash())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, env=env, check=True).stdout.strip()
    assert out == load_sweep(path).content_hash()


def test_save_is_atomic_and_keeps_relative_paths_pointing_at_the_same_files(tmp_path):
    src = tmp_path / "a" / "s.toml"
    src.parent.mkdir()
    src.write_text('[variable]\n"fluid.density" = [1.0, 2.0]\n[run]\nmachines = "machines"\n'
                   '[model]\nexecutable = "model.py"\n')
    s = load_sweep(src)
    target = tmp_path / "b" / "c" / "copy.toml"
    target.parent.mkdir(parents=True)
    saved = save_sweep(s, target)
    assert sorted(os.listdir(target.parent)) == ["copy.toml"]  # no temp file left behind
    assert saved.source == target and saved.machines_path().resolve() == (src.parent / "machines")
    again = load_sweep(target)
    assert again.model_executable_path().resolve() == src.parent / "model.py"
    assert again.run.machines == "../../a/machines"
    assert again.variables == s.variables
    # overwriting keeps the file's permissions
    target.chmod(0o640)
    save_sweep(again, target)
    assert target.stat().st_mode & 0o777 == 0o640 and load_sweep(target) == again


# ---- hypothesis: any valid sweep reads back equal -----------------------------------------

def _number(path):
    info = field_info(path)
    lo = info.ge if info.ge is not None else info.gt
    hi = info.le if info.le is not None else info.lt
    return st.floats(min_value=lo, max_value=hi, exclude_min=info.ge is None,
                     exclude_max=info.le is None, allow_nan=False, allow_infinity=False)


# fields no cross-field rule ties to another, so any in-bounds values make a valid sweep
FLOATS = ["pipe.length", "fluid.density", "state.pressure", "state.temperature",
          "state.flow_velocity", "material.youngs_modulus", "material.density"]
TEXTS = ["fluid.name", "material.name"]
CHOICES = ["pipe.boundary", "pipe.axial_restraint", "analysis.theory"]


PRESETS = list(material_presets())
PROPERTIES = [f"material.{f}" for f in MATERIAL_FIELDS]


@st.composite
def specs(draw, path):
    if path == "material.name":  # swept names are presets (a name of one's own is one material)
        return VariableSpec.from_values(draw(st.lists(st.sampled_from(PRESETS), min_size=1,
                                                      max_size=3, unique=True)))
    if path in TEXTS:
        return VariableSpec.from_values(draw(st.lists(st.text(min_size=1, max_size=12),
                                                      min_size=1, max_size=3, unique=True)))
    if path in CHOICES:
        choices = field_info(path).choices
        return VariableSpec.from_values(draw(st.lists(st.sampled_from(choices), min_size=1,
                                                      max_size=len(choices), unique=True)))
    small_ok = path in ("pipe.length", "fluid.density", "state.pressure", "state.temperature",
                        "state.flow_velocity")  # bounds that take 0.001 .. 100
    kind = draw(st.sampled_from(["list", "linspace", "arange"] if small_ok else ["list"]))
    if kind == "list":
        values = draw(st.lists(_number(path), min_size=1, max_size=3, unique=True))
        if path == "fluid.density" and draw(st.booleans()):
            values.append("eos")
        return VariableSpec.from_values(values)
    # generators over a decimal grid inside the bounds, so the values stay in bounds and distinct
    # (lo <= 49: the linspace's stop lo * 2 + 0.25 stays within pipe.length <= 100 m)
    lo = draw(st.integers(1, 49)) / draw(st.sampled_from([1, 10, 1000]))
    if kind == "linspace":
        n = draw(st.integers(1, 3))
        return VariableSpec.from_generator("linspace", lo, lo * 2 + 0.25, n)
    return VariableSpec.from_generator("arange", lo, lo + 0.35, 0.1)


@st.composite
def sweeps(draw):
    paths = draw(st.lists(st.sampled_from(FLOATS + TEXTS + CHOICES), max_size=4, unique=True))
    variables = {p: draw(specs(p)) for p in paths}
    fixed = {}
    for p in draw(st.lists(st.sampled_from(FLOATS + TEXTS + CHOICES), max_size=4, unique=True)):
        if p in variables:
            continue
        if p == "material.name" and draw(st.booleans()):
            fixed[p] = draw(st.sampled_from(PRESETS))
        elif p in TEXTS:
            fixed[p] = draw(st.text(min_size=1, max_size=12))
        elif p in CHOICES:
            fixed[p] = draw(st.sampled_from(field_info(p).choices))
        else:
            fixed[p] = draw(_number(p))
    if fixed.get("material.name", PRESETS[0]) not in PRESETS:  # a material of one's own
        for p in PROPERTIES:
            if p not in variables and p not in fixed:
                fixed[p] = draw(_number(p))
    zips = {}
    lists = [p for p, s in variables.items() if s.values is not None]
    if len(lists) >= 2 and draw(st.booleans()):
        a, b = lists[:2]
        n = min(len(variables[a].values), len(variables[b].values))
        variables[a] = VariableSpec.from_values(variables[a].values[:n])
        variables[b] = VariableSpec.from_values(variables[b].values[:n])
        zips[draw(st.sampled_from(["pt", "group 1", "ζ"]))] = [b, a]
    run = {"jobs": draw(st.none() | st.integers(1, 64)),
           "machines": draw(st.none() | st.text(st.characters(blacklist_characters="\x00"),
                                                 min_size=1, max_size=10)),
           "batch": draw(st.none() | st.integers(1, 1000))}
    return Sweep(fixed=fixed, variables=variables, zips=zips, run=run)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(sweeps())
def test_any_valid_sweep_round_trips_through_toml(sweep):
    sweep.check()
    again = loads_sweep(sweep.to_toml())
    assert again == sweep
    assert list(again.variables) == list(sweep.variables)
    assert again.content_hash() == sweep.content_hash()
    assert [canonical_json(p) for p in again.points()] == [canonical_json(p) for p in sweep.points()]
