"""resources/nix/lib.nix (the flake's `lib`): sweeps as derivations, in pure builtins.

Real Nix evaluations and builds, offline (no substituters, no nixpkgs). The example of
lib.compute lives in data/lib-example/ and is the flake's checks.lib-example too: a = 1 and
b = 2 fixed, c = 1, 2, 3 swept, check.py (run by this test's own Python) computes a point.
The generators are compared with the app's own (sweepgui.sweep), float texts with Python's
repr, and exotic values must reach the executable exactly.
"""

from __future__ import annotations

import itertools
import json
import math
import random
import struct
import subprocess
import sys
import uuid
from decimal import Decimal, getcontext
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from sweepgui.sweep import arange, linspace, logspace

pytestmark = pytest.mark.nix

REPO = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "lib-example"
OFFLINE = ["--option", "substituters", ""]
LIB = "(import ./resources/nix/lib.nix)"
SYSTEMS = ["aarch64-linux", "x86_64-linux"]


def _run(cmd: list[str], argstrs: dict[str, str]) -> subprocess.CompletedProcess:
    for k, v in argstrs.items():
        cmd += ["--argstr", k, v]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=280)


def nix_eval(expr: str, **argstrs: str) -> Any:
    proc = _run(["nix-instantiate", "--eval", "--strict", "--json", *OFFLINE, "-E", expr], argstrs)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def nix_error(expr: str) -> str:
    proc = _run(["nix-instantiate", "--eval", "--strict", "--json", *OFFLINE, "-E", expr], {})
    assert proc.returncode != 0, f"expected an error, got {proc.stdout}"
    return proc.stderr


def nix_build(expr: str, link: Path, **argstrs: str) -> Path:
    # the out-link is a GC root: nothing collects the outputs while the test reads them
    proc = _run(["nix-build", "--out-link", str(link), *OFFLINE, "-E", expr], argstrs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return Path(proc.stdout.strip().splitlines()[-1])


def canonical(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def quote(s: str) -> str:
    return "'" + s.replace("'", "'\\''") + "'"


def outputs(listing: Path) -> list[dict]:
    return [json.loads(Path(p).read_text(encoding="utf-8"))
            for p in listing.read_text(encoding="utf-8").splitlines()]


# --- lib.compute -------------------------------------------------------------------------

EXAMPLE = ("{ python, salt }: import ./tests/nix/data/lib-example/example.nix"
           " { lib = LIB; inherit python salt; }")


def test_the_example_builds_one_output_per_point_each_with_its_result(tmp_path: Path):
    salt = uuid.uuid4().hex   # new store paths: the points are really built
    listing = nix_build(EXAMPLE.replace("LIB", LIB), tmp_path / "result",
                        python=sys.executable, salt=salt)
    lines = listing.read_text().splitlines()
    assert len(lines) == 3 and len(set(lines)) == 3
    assert all(line.startswith("/nix/store/") and line.endswith("-sweepgui-lib-example")
               for line in lines)
    for c, out in zip((1, 2, 3), outputs(listing)):
        assert json.loads(out["received"]) == {"a": 1, "b": 2, "c": c, "salt": salt}
        assert out["result"] == 100 * 1 + 10 * 2 + c
    # the flake's checks.lib-example runs the same verification
    check = subprocess.run([sys.executable, str(DATA / "verify.py"), str(listing)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


TRICKY = ("{ python, salt }: import ./tests/nix/data/lib-example/tricky.nix"
          " { lib = (import ./resources/nix/lib.nix); inherit python salt; }")


def tricky_points(salt: str) -> list[dict]:
    """The points of tricky.nix, built here from its data: axes pq (a zip), s, x."""
    data = json.loads((DATA / "tricky.json").read_text(encoding="utf-8"))
    fixed = dict(data["fixed"], salt=salt,
                 literals=[0.1, 1e-300, -2.5, 100000.0, 1e16, -7],
                 nixText='${not code} $(not a subshell) "quoted" back\\slash\nnewline')
    pq = [{"p": 1, "q": "a'b"}, {"p": 2, "q": 'c"d'}]
    return [dict(fixed, **z, s=s, x=x)
            for z, s, x in itertools.product(pq, data["strings"], [0.1, 1e-300, -2.5])]


def test_parameters_arrive_exactly_as_data(tmp_path: Path):
    salt = uuid.uuid4().hex
    listing = nix_build(TRICKY, tmp_path / "result", python=sys.executable, salt=salt)
    expected = tricky_points(salt)
    got = outputs(listing)
    assert len(got) == len(expected) == 18
    for want, out in zip(expected, got):
        received = out["received"]
        assert json.loads(received) == want
        # the same text as Python writes it: keys sorted, floats as repr (100000.0 stays a
        # float, 1e-300 and 5e-324 keep every digit), strings and nesting untouched
        assert received == canonical(want)


def test_the_shell_line_takes_the_parameters_only_as_a_file():
    python = sys.executable
    got = nix_eval(
        "{ python }: let r = import ./tests/nix/data/lib-example/tricky.nix"
        " { lib = (import ./resources/nix/lib.nix); inherit python; salt = \"s\"; };"
        " p = builtins.head r.points; in"
        " { inherit (p.drvAttrs) args builder parameters passAsFile name;"
        "   check = \"${./tests/nix/data/lib-example/check.py}\"; n = builtins.length r.points;"
        "   resultName = r.name; }", python=python)
    assert got["builder"] == "/bin/sh" and got["passAsFile"] == ["parameters"]
    assert got["args"] == [
        "-c",
        f'set -- "$parametersPath" "$out"\n{quote(python)} {quote(got["check"])} "$1" "$2"',
        "sweepgui",
    ]
    assert got["name"] == "sweepgui-lib-tricky" and got["resultName"] == "sweepgui-lib-tricky-outputs"
    assert got["n"] == 18
    assert json.loads(got["parameters"]) == tricky_points("s")[0]
    for value in ("rm -rf", "$(echo hi)", "not code", "a'b", "1e-300"):
        assert value not in got["args"][1]
    # a command line given as a string is the user's shell fragment, followed by "$1" "$2"
    args = nix_eval(f"""(builtins.head ({LIB}.compute {{ name = "x"; system = "x86_64-linux";
        executable = "cd / && OMP_NUM_THREADS=1 /opt/model --fast";
        variableParameters.a = [ "; rm -rf ~" ]; }}).points).drvAttrs.args""")
    assert args[1] == 'set -- "$parametersPath" "$out"\ncd / && OMP_NUM_THREADS=1 /opt/model --fast "$1" "$2"'


def test_points_are_the_c_order_product_with_zips_as_one_axis():
    expr = f"""
      let lib = {LIB};
          r = vp: map (p: [ p.a p.b p.p p.q p.f ]) (lib.compute {{
            name = "order"; executable = "true"; system = "x86_64-linux";
            fixedParameters = {{ f = 0; a = -1; }}; variableParameters = vp; }}).parameters;
          z = lib.zip {{ p = [ 1 2 3 ]; q = [ "x" "y" "z" ]; }};
      in {{ sorted = r {{ b = [ 1 2 ]; a = [ 10 20 ]; z = z; }};
           listed = r [ {{ b = [ 1 2 ]; }} {{ z = z; }} {{ a = [ 10 20 ]; }} ];
           zipFirst = r {{ a = [ 10 20 ]; b = [ 1 2 ]; "0" = z; }}; }}"""
    got = nix_eval(expr)
    zipped = [(1, "x"), (2, "y"), (3, "z")]
    # one set: axes in attrNames order (a, b, z), the first slowest; a variable wins over a fixed a
    assert got["sorted"] == [[a, b, p, q, 0] for a, b, (p, q) in
                             itertools.product([10, 20], [1, 2], zipped)]
    # a list of sets keeps its order: b, then the zip, then a
    assert got["listed"] == [[a, b, p, q, 0] for b, (p, q), a in
                             itertools.product([1, 2], zipped, [10, 20])]
    assert got["zipFirst"] == [[a, b, p, q, 0] for (p, q), a, b in
                               itertools.product(zipped, [10, 20], [1, 2])]


@pytest.mark.parametrize("expr, message", [
    ("lib.zip { a = [ 1 2 ]; b = [ 3 ]; }", "the lists must have the same length, got a: 2, b: 1"),
    ("lib.compute { name = \"x\"; executable = \"true\"; system = \"s\";"
     " variableParameters = { a = [ 1 ]; z = lib.zip { a = [ 2 ]; }; }; }",
     "the parameter a is swept twice"),
    ("lib.compute { name = \"x\"; executable = \"true\"; system = \"s\";"
     " variableParameters = { a = 1; }; }",
     "variableParameters.a must be a list of values"),
    ("lib.linspace 0 1 0", "linspace: the count must be at least 1"),
    ("lib.linspace 0 1 2.5", "linspace: the count must be a whole number"),
    ("lib.linspace 0 1 2000000", "more than the limit of 1,000,000 points"),
    ("lib.logspace 0 400 3", "logspace: the exponents must lie within -308..308"),
    ("lib.arange 0 1 0", "arange: the step must be a positive number"),
    ("lib.arange 0 1 1.0e-9", "arange gives more than 1,000,000 values"),
    ("lib.toJSON (1.0e308 * 10.0)", "is not a finite number"),
    ("lib.toJSON (x: x)", "a lambda cannot be a parameter"),
])
def test_mistakes_are_errors_that_say_what_is_wrong(expr: str, message: str):
    err = nix_error(f"let lib = {LIB}; in builtins.deepSeq ({expr}) null")
    assert message in err


def test_withpkgs_builds_with_runcommand_and_the_store_shell(tmp_path: Path):
    # stub-pkgs.nix stands in for nixpkgs' runCommand / runtimeShell (offline)
    lib = f"({LIB}.withPkgs (import ./tests/nix/data/lib-example/stub-pkgs.nix))"
    salt = uuid.uuid4().hex
    listing = nix_build(EXAMPLE.replace("LIB", lib), tmp_path / "result",
                        python=sys.executable, salt=salt)
    check = subprocess.run([sys.executable, str(DATA / "verify.py"), str(listing)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    got = nix_eval(
        "{ python }: let r = import ./tests/nix/data/lib-example/example.nix"
        f" {{ lib = {lib}; inherit python; }}; p = builtins.head r.points; in"
        " { inherit (p.drvAttrs) buildCommand passAsFile;"
        " check = \"${./tests/nix/data/lib-example/check.py}\"; }",
        python=sys.executable)
    line = f'{quote(sys.executable)} {quote(got["check"])} "$1" "$2"'
    assert got["buildCommand"] == f'/bin/sh -c {quote(line)} sweepgui "$parametersPath" "$out"\n'
    assert got["passAsFile"] == ["parameters"]
    err = nix_error(f"builtins.deepSeq ((import ./tests/nix/data/lib-example/example.nix {{"
                    f" lib = {lib}; python = \"p\"; system = \"riscv64-none\"; }}).drvPath) null")
    assert "withPkgs builds for" in err


# --- JSON of floats ------------------------------------------------------------------------

def test_floats_are_written_as_python_repr():
    rnd = random.Random(1011)
    xs = [struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0] for _ in range(800)]
    xs = [x for x in xs if math.isfinite(x)]
    xs += [5e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1e23, 1e22, 1e16, 1e15,
           1e-4, 1e-5, 0.1, 0.3, 1 / 3, 2 / 3, 123.456, 9007199254740993.0, -0.0001234]
    xs += [round(rnd.uniform(-1000, 1000), rnd.randint(0, 8)) for _ in range(200)]
    got = nix_eval(f"{{ xs }}: {LIB}.toJSON (builtins.fromJSON xs)", xs=json.dumps(xs))
    assert got == json.dumps(xs, separators=(",", ":"))
    # integers, strings, nesting: what builtins.toJSON writes, keys sorted
    nix_text = '{ b = [ 1 (-2) true null ]; a."x y" = "q\\"\\${\\\\"; }'   # the string q"${\
    assert nix_eval(f"{LIB}.toJSON {nix_text}") == '{"a":{"x y":"q\\"${\\\\"},"b":[1,-2,true,null]}'


# --- the generators ------------------------------------------------------------------------

CASES = [
    ("linspace", 283.15, 353.15, 8), ("linspace", 0.3, 0.6, 4), ("linspace", 0, 1, 11),
    ("linspace", 1, 2, 1), ("linspace", 2.5, 9, 1), ("linspace", -1.5, 2.5, 9),
    ("linspace", 1e-300, 1, 7), ("linspace", 0.1, 0.7, 7), ("linspace", 990.0, 1010.0, 3),
    ("linspace", 5, 5, 3), ("linspace", 1, 0, 5), ("linspace", 0.30000000000000004, 1, 3),
    ("linspace", 1.7976931348623157e308, -1.7976931348623157e308, 3), ("linspace", 0, 1, 999),
    ("linspace", 1e22, 1e23, 7), ("linspace", 2.5e-320, 5e-324, 4), ("linspace", 273.15, 373.15, 4.0),
    ("logspace", 5, 7, 5), ("logspace", -3, 2, 6), ("logspace", 0, 1, 3), ("logspace", 0, 1, 101),
    ("logspace", -308, 308, 9), ("logspace", -300.5, 300.25, 41), ("logspace", 1.5, 1.5, 1),
    ("logspace", 2, 3, 1), ("logspace", -300, 300, 2001), ("logspace", 0.1, 0.2, 7),
    ("arange", 0.3, 0.6, 0.1), ("arange", 1, 10, 3), ("arange", 0, 1, 0.3333333333333333),
    ("arange", 0, 1, 0.1), ("arange", 5, 1, 1), ("arange", 0.5, 3, 1), ("arange", -2, 2, 0.5),
    ("arange", 0, 1e-9, 1e-10), ("arange", 1, 2, 0.25), ("arange", 0, 10, 2.5),
    ("arange", 0.1, 0.3, 0.1), ("arange", 0, 1, 0.1 + 1e-12), ("arange", -7, 7, 7),
    ("arange", 0.3, 0.6, 0.3), ("arange", 1e-300, 5e-300, 1e-300),
]
APP = {"linspace": linspace, "logspace": logspace, "arange": arange}


def _pow10_exponent(case: tuple, k: int) -> float:
    """The exponent of value k of a logspace case, as the app computes it (a double)."""
    _, a, b, n = case
    fa, fb = (Fraction(x) if isinstance(x, int) else Fraction(repr(x)) for x in (a, b))
    n = int(n)
    return float(fa + (fb - fa) * k / (n - 1)) if n > 1 else float(fa)


def _nearest_pow10(x: float) -> float:
    getcontext().prec = 80
    return float((Decimal(x) * Decimal(10).ln()).exp())


def test_generators_give_the_apps_values():
    got = nix_eval("{ cases }: let lib = LIB; in lib.toJSON (map (c: lib.${builtins.elemAt c 0}"
                   " (builtins.elemAt c 1) (builtins.elemAt c 2) (builtins.elemAt c 3))"
                   " (builtins.fromJSON cases))".replace("LIB", LIB), cases=json.dumps(CASES))
    results = json.loads(got)
    assert len(results) == len(CASES)
    pow_differs = 0
    for case, values in zip(CASES, results):
        want = APP[case[0]](*case[1:])
        assert len(values) == len(want), case
        for k, (v, w) in enumerate(zip(values, want)):
            if v == w and type(v) is type(w):
                continue
            # 10^x for a non-integral x: the app takes C's pow(), which is off by one
            # ulp in rare cases; the library's value must then be the correctly rounded one
            assert case[0] == "logspace" and isinstance(v, float), (case, k, v, w)
            x = _pow10_exponent(case, k)
            assert x != int(x) and v == _nearest_pow10(x) and abs(v - w) <= math.ulp(w), (case, k, v, w)
            pow_differs += 1
    assert pow_differs <= 3


# --- the flake ------------------------------------------------------------------------------

def test_flake_parses_and_its_lock_pins_a_nixpkgs_release():
    parse = subprocess.run(["nix-instantiate", "--parse", "flake.nix"], cwd=REPO,
                           capture_output=True, text=True)
    assert parse.returncode == 0, parse.stderr
    lock = json.loads((REPO / "flake.lock").read_text())
    assert lock["version"] == 7 and lock["root"] == "root"
    assert lock["nodes"]["root"]["inputs"] == {"nixpkgs": "nixpkgs"}
    node = lock["nodes"]["nixpkgs"]
    locked, original = node["locked"], node["original"]
    assert set(locked) == {"lastModified", "narHash", "owner", "repo", "rev", "type"}
    assert (locked["owner"], locked["repo"], locked["type"]) == ("NixOS", "nixpkgs", "github")
    assert len(locked["rev"]) == 40 and int(locked["rev"], 16) >= 0
    assert locked["narHash"].startswith("sha256-") and len(locked["narHash"]) == 51
    assert isinstance(locked["lastModified"], int)
    assert original == {"owner": "NixOS", "ref": "nixos-24.11", "repo": "nixpkgs", "type": "github"}
    url = nix_eval("(import ./flake.nix).inputs.nixpkgs.url")
    assert url == "github:NixOS/nixpkgs/nixos-24.11"


def test_the_flakes_lib_is_lib_nix_and_needs_no_input():
    # nixpkgs throws if touched: lib and the outputs' system lists must not need it
    got = nix_eval("""
      let o = (import ./flake.nix).outputs { self = o; nixpkgs = throw "nixpkgs was used"; };
          own = import ./resources/nix/lib.nix;
      in { names = builtins.attrNames o.lib; own = builtins.attrNames own;
           same = o.lib.toJSON (o.lib.logspace 5 7 5) == own.toJSON (own.logspace 5 7 5);
           outputs = builtins.mapAttrs (_: builtins.attrNames)
             { inherit (o) packages apps devShells checks; }; }""")
    assert got["names"] == got["own"] == ["arange", "compute", "linspace", "logspace",
                                          "toJSON", "withPkgs", "zip"]
    assert got["same"] is True
    assert got["outputs"] == {k: SYSTEMS for k in ("apps", "checks", "devShells", "packages")}
