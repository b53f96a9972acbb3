"""Issue 11, item 4: absurd generator arguments are refused before anything is computed,
and a sweep at the point limit loads in bounded time and memory.

The slow cases run in a child process with a time limit and an address-space limit, so
that a regression fails the test instead of hanging or exhausting the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from sweepgui.sweep import MAX_POINTS, SweepError, arange, linspace, loads_sweep, logspace

GB = 1024**3


def in_child(code: str, timeout: float, memory: int = 4 * GB) -> dict:
    """Run ``code`` (which prints one JSON line last) in a child with limits; its answer."""
    prelude = textwrap.dedent(f"""\
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
        """)
    try:
        proc = subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                              capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"still working after {timeout} s")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


LOAD = """
    import json, time
    from sweepgui.sweep import SweepError, loads_sweep
    t0 = time.perf_counter()
    try:
        loads_sweep({text!r}, source="bad.toml")
        answer = {{"error": None}}
    except SweepError as e:
        answer = {{"error": str(e)}}
    answer["seconds"] = time.perf_counter() - t0
    print(json.dumps(answer))
    """


@pytest.mark.parametrize("args", ["[0, 1e9, 2]", "[-1e9, 0, 2]", "[0, 1e7, 2]", "[5, 400, 3]"])
def test_an_absurd_logspace_exponent_is_refused_at_once_naming_key_and_limit(args):
    text = f'[fixed]\npipe.length = 0.5\n[variable]\n"state.pressure" = {{ logspace = {args} }}\n'
    answer = in_child(LOAD.format(text=text), timeout=30)
    assert answer["seconds"] < 2
    err = answer["error"]
    assert err and "bad.toml, line 4, [variable] state.pressure: logspace" in err, err
    assert "308" in err  # the limit: 10^308 is the largest power of ten a float holds


@pytest.mark.parametrize("raw", [{"logspace": [0, 1e7, 2]}, {"logspace": [1e9, 1e9 + 1, 2]}])
def test_the_forms_expansion_is_bounded_too(raw):
    # the app's forms preview a generator by count() and expand(), without the loader
    code = f"""
        import json, time
        from sweepgui.sweep import VariableSpec
        t0 = time.perf_counter()
        spec = VariableSpec.from_toml({raw!r})
        try:
            spec.count()
            spec.expand()
            error = None
        except ValueError as e:
            error = str(e)
        print(json.dumps({{"error": error, "seconds": time.perf_counter() - t0}}))
        """
    answer = in_child(code, timeout=30)
    assert answer["error"] and "308" in answer["error"] and answer["seconds"] < 1, answer


@pytest.mark.parametrize("call", ["linspace(0.0, 1.0, 10**9)", "logspace(0, 1, 10**9)",
                                  "arange(0.0, 1e6, 1e-3)", "arange(0, 10**12, 1)"])
def test_the_generators_refuse_more_values_than_the_limit_before_making_them(call):
    code = f"""
        import json
        from sweepgui.sweep import arange, linspace, logspace
        try:
            {call}
            print(json.dumps({{"error": None}}))
        except ValueError as e:
            print(json.dumps({{"error": str(e)}}))
        """
    err = in_child(code, timeout=30, memory=2 * GB)["error"]
    assert err and f"{MAX_POINTS:,}" in err, err


def test_generators_at_the_limit_still_work():
    assert len(linspace(0.0, 1.0, MAX_POINTS)) == MAX_POINTS
    assert logspace(-308, 308, 3) == [1e-308, 1.0, 1e308]
    assert arange(0, MAX_POINTS, 1)[-1] == MAX_POINTS - 1
    with pytest.raises(SweepError, match="limit"):
        loads_sweep('[variable]\n"fluid.density" = { linspace = [1.0, 2.0, 1000001] }\n')


MILLION_REFUSED = """
import json, resource, time
from sweepgui.sweep import SweepError, loads_sweep
t0 = time.perf_counter()
try:
    loads_sweep('[variable]\\n'
                '"fluid.density" = { linspace = [900.0, 1098.0, 1000] }\\n'
                '"state.temperature" = { linspace = [280.0, 290.0, 1000] }\\n').points()
    error = None
except SweepError as exc:
    error = str(exc)
print(json.dumps({"error": error, "seconds": time.perf_counter() - t0,
                  "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def test_a_million_point_sweep_is_refused_at_once_naming_the_limit():
    """Issue 13 goal 6: a million points load and plan in <= 30 s and 2 GB, or are refused at
    once with the limit named. Planning evaluates every point's store path with Nix (100,000
    points: ~16 s and 0.7 GB here), so a million is refused when the file loads, before any
    value is expanded, naming the limit, the line and what to do."""
    answer = in_child(MILLION_REFUSED, timeout=120)
    assert answer["error"] and f"{MAX_POINTS:,}" in answer["error"], answer
    assert "split" in answer["error"].lower() and "line 1" in answer["error"], answer
    assert answer["seconds"] <= 5, answer
    assert answer["rss"] <= 0.5 * GB, answer
