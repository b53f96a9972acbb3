"""Every mistake a user can make in a sweep file names the file, the line and the key.

Expected lines are found in each test's own text (the line holding a marker), so the
assertions do not depend on how the loader counts.
"""

from pathlib import Path

import pytest

from sweepgui.sweep import MAX_POINTS, SweepError, load_sweep, loads_sweep


def line_of(text: str, marker: str) -> int:
    hits = [i for i, line in enumerate(text.split("\n"), start=1) if marker in line]
    assert len(hits) == 1, f"marker {marker!r} must be on exactly one line"
    return hits[0]


def load_error(tmp_path: Path, text: str) -> SweepError:
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(SweepError) as e:
        load_sweep(f)
    err = e.value
    assert err.file == str(f) and str(f) in str(err)
    return err


# (name, text, marker of the expected line, expected key, words in the message)
CASES = [
    ("toml syntax", '[fixed]\npipe.length = 0.5\nfluid.name = Water\n',
     "fluid.name", "fluid.name", ["syntax", 'needs quotes']),
    ("unknown quoted path", '[fixed]\npipe.length = 0.5\n\n[variable]\n"fluid.densty" = [1.0, 2.0]\n',
     "densty", "fluid.densty", ["unknown parameter", "did you mean 'fluid.density'"]),
    ("unknown dotted path", '[fixed]\n# pipe.lenght in a comment\n  pipe.lenght   = 0.5 # here\n',
     "# here", "pipe.lenght", ["did you mean 'pipe.length'"]),
    ("path without group", '[variable]\ndensity = [1.0, 2.0]\n',
     "density", "density", ["'material.density' or 'fluid.density'"]),
    ("unknown in subtable", '[fixed.pipe]\nlength = 0.5\nwall = 0.1\n',
     "wall", "pipe.wall", ["did you mean 'pipe.wall_thickness'"]),
    ("unknown generator", '[variable]\n"fluid.density" = { lnspace = [1, 2, 3] }\n',
     "lnspace", "fluid.density", ["unknown generator 'lnspace'", "did you mean 'linspace'"]),
    ("generator arity", '[variable]\n"pipe.length" = [0.1]\n"fluid.density" = { linspace = [1, 2] }\n',
     "linspace", "fluid.density", ["three numbers"]),
    ("count below one", '[variable]\n"fluid.density" = { logspace = [1, 2, 0] }\n',
     "logspace", "fluid.density", ["at least 1"]),
    ("zero step", '[variable]\n"fluid.density" = { arange = [1, 2, 0] }\n',
     "arange", "fluid.density", ["step must be a positive number"]),
    ("negative step", '[variable]\n"fluid.density" = { arange = [3, 1, -1] }\n',
     "arange", "fluid.density", ["positive"]),
    ("generator in a sub-table",
     '[variable]\n"pipe.length" = [0.5]\n[variable."fluid.density"]\nlinspace = [1, 2, 0]\n',
     '[variable."fluid.density"]', "fluid.density", ["at least 1"]),
    ("two generators", '[variable]\n"fluid.density" = { linspace = [1, 2, 3], arange = [1, 2, 1] }\n',
     "linspace", "fluid.density", ["exactly one generator"]),
    ("generator on a choice", '[variable]\n"pipe.boundary" = { linspace = [1, 2, 3] }\n',
     "boundary", "pipe.boundary", ["list them"]),
    ("variable out of bounds", '# x\n[variable]\n"fluid.density" = [\n  990.0,\n  -5.0,\n]\n',
     '"fluid.density"', "fluid.density", ["-5.0", ">= 0", "kg/m3"]),
    ("generated value out of bounds",
     '[variable]\n"analysis.damping_ratio" = { linspace = [0.5, 1.5, 3] }\n',
     "damping", "analysis.damping_ratio", ["1.0", "< 1"]),
    ("fixed out of bounds", '[fixed]\nstate.temperature = 300.0\nstate.pressure = -1.0\n',
     "pressure", "state.pressure", ["-1.0", "> 0", "Pa"]),
    ("bad choice", '[fixed]\npipe.boundary = "clamped"\n',
     "boundary", "pipe.boundary", ["not one of", "clamped-clamped"]),
    ("text for a number", '[fixed]\nfluid.density = "1000"\n',
     "density", "fluid.density", ["takes a number", '"eos"']),
    ("cross-field at a point",
     '[fixed]\npipe.outer_diameter = 0.01\n[variable]\n"fluid.density" = [1.0, 2.0]\n'
     '"pipe.wall_thickness" = [0.001, 0.004, 0.006]\n',
     "wall_thickness", "pipe.wall_thickness",
     ["outer radius", "point 2 of 6", "fluid.density = 1.0", "pipe.wall_thickness = 0.006"]),
    ("cross-field in fixed values", '[fixed]\nanalysis.elements = 2\nanalysis.modes = 6\n',
     "modes", "analysis.modes", ["6 modes asked", "has only 2"]),
    ("empty list", '[variable]\n"fluid.density" = []\n',
     "density", "fluid.density", ["no values", "no points"]),
    ("arange with no values", '[variable]\n"pipe.length" = { arange = [0.6, 0.3, 0.1] }\n',
     "arange", "pipe.length", ["no points", "stop above start"]),
    ("fixed and variable", '[fixed]\nstate.pressure = 1e5\n[variable]\n"state.pressure" = [1e5, 2e5]\n',
     '"state.pressure"', "state.pressure", ["both fixed and variable"]),
    ("zip of unequal lengths",
     '[variable]\n"state.pressure" = [1e5, 2e5]\n"state.temperature" = [300.0, 310.0, 320.0]\n'
     '[zip]\npt = ["state.pressure", "state.temperature"]\n',
     "pt =", "pt", ["state.pressure has 2", "state.temperature has 3"]),
    ("zip of a parameter that is not variable",
     '[variable]\n"state.pressure" = [1e5, 2e5]\n[zip]\n"p t" = ["state.pressure", "state.temperature"]\n',
     '"p t"', "p t", ["not in [variable]"]),
    ("zip of an unknown member",
     '[variable]\n"state.pressure" = [1e5, 2e5]\n[zip]\npt = ["state.pressure", "state.temprature"]\n',
     "pt =", "pt", ["not a parameter", "state.temperature"]),
    ("variable in two zips",
     '[variable]\n"state.pressure" = [1e5, 2e5]\n"state.temperature" = [1.0, 2.0]\n'
     '[zip]\na = ["state.pressure"]\nb = ["state.temperature", "state.pressure"]\n',
     "b =", "b", ["two zip groups"]),
    ("absurd arange step", '[variable]\n"pipe.length" = { arange = [0.1, 0.5, 1e-300] }\n',
     "arange", "pipe.length", ["gives about 10^299 values", "limit"]),
    ("absurd generator", '[variable]\n"fluid.density" = { linspace = [1, 2, 1e12] }\n',
     "linspace", "fluid.density", ["limit"]),
    ("repeated value", '[variable]\n"analysis.elements" = [10, 20, 10.0]\n',
     "elements", "analysis.elements", ["10 more than once"]),
    ("a list in fixed", '[fixed]\nfluid.density = [998.0]\n',
     "density", "fluid.density", ["move it to [variable]"]),
    ("one value in variable", '[variable]\n"fluid.density" = 998.0\n',
     "density", "fluid.density", ["[fixed]"]),
    ("bad run setting", '[run]\nmachines = "m"\njobs = -1\n',
     "jobs", "jobs", ["greater than or equal to 0"]),
    ("remote-only without machines", '[run]\n\njobs = 0\n',
     "jobs", "jobs", ["builds nothing on this computer"]),
    ("unknown run key", '[run]\njob = 2\n', "job", "job", ["did you mean 'jobs'"]),
    ("batch below one", '[run]\njobs = 2\nbatch = 0\n', "batch", "batch",
     ["greater than or equal to 1"]),
    ("batch not a whole number", '[run]\nbatch = 2.5\n', "batch", "batch", ["integer", "2.5"]),
    ("unknown model key", '[model]\nexecutible = "m.py"\n',
     "executible", "executible", ["did you mean 'executable'"]),
    ("given twice", "[fixed]\n'pipe.length' = 1.0\npipe.length = 2.0\n",
     "'pipe.length'", "pipe.length", ["twice"]),
    ("line counting ignores unicode line separators in strings",
     '[fixed]\nfluid.name = "a\x85b\u2028c"\nmaterial.name = "x\x85"\npipe.lenght = 1.0\n',
     "lenght", "pipe.lenght", ["did you mean 'pipe.length'"]),
    ("key after a multi-line string",
     '[fixed]\nfluid.name = """\npipe.length = 1\n"""\n[variable]\n"pipe.length" = [1.0, -1.0]\n',
     '"pipe.length"', "pipe.length", ["-1.0"]),
]


@pytest.mark.parametrize("name, text, marker, key, words", CASES, ids=[c[0] for c in CASES])
def test_error_names_file_line_and_key(tmp_path, name, text, marker, key, words):
    err = load_error(tmp_path, text)
    expected_line = line_of(text, marker)
    assert (err.line, err.key) == (expected_line, key), str(err)
    assert f"line {expected_line}" in str(err) and key in str(err)
    for w in words:
        assert w in str(err)


def test_unknown_table_names_its_line(tmp_path):
    text = "[fixed]\npipe.length = 0.5\n[varaible]\n\"fluid.density\" = [1.0]\n"
    err = load_error(tmp_path, text)
    assert err.line == line_of(text, "[varaible]") and err.section == "varaible"
    assert "did you mean 'variable'" in str(err)


def test_parameters_outside_any_table_are_located(tmp_path):
    text = "# comment\npipe.length = 0.5\n"
    err = load_error(tmp_path, text)
    assert err.line == 2 and "[fixed]" in str(err)


def test_absurd_point_count_is_refused(tmp_path):
    text = ('[variable]\n"fluid.density" = { linspace = [1, 2, 1000] }\n'
            '"state.temperature" = { linspace = [300, 400, 1001] }\n')
    err = load_error(tmp_path, text)
    assert err.line == line_of(text, "[variable]") and err.section == "variable"
    assert "1,001,000 points" in str(err) and f"{MAX_POINTS:,}" in str(err)


def test_unreadable_and_non_utf8_files(tmp_path):
    with pytest.raises(SweepError, match="cannot read"):
        load_sweep(tmp_path / "missing.toml")
    f = tmp_path / "latin1.toml"
    f.write_bytes(b'[fixed]\nfluid.name = "\xe9"\n')
    with pytest.raises(SweepError, match="UTF-8"):
        load_sweep(f)


def test_error_without_a_file_still_names_line_and_key():
    text = '[variable]\n"pipe.length" = [0.5, 200.0]\n'
    with pytest.raises(SweepError) as e:
        loads_sweep(text)
    assert (e.value.file, e.value.line, e.value.key) == (None, 2, "pipe.length")
    assert "<unsaved sweep>, line 2" in str(e.value) and "<= 100 m" in str(e.value)
