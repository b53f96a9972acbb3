"""The internal-json log parser on lines recorded from real Nix 2.8 runs (tests/nix/data).

log-custom-failure.jsonl: 5 points with -j 2, the model exits 3 for x=3 (its stderr says
"bad x"), the aggregator then reports its failed dependency.
log-exec-denied.jsonl: every builder fails before it starts (build users could not run
the interpreter): Nix's error arrives as one log line of serialised binary data.
"""

from __future__ import annotations

import json
from pathlib import Path

from sweepgui.nix.logparse import (
    DependenciesFailed,
    DrvFailed,
    DrvLog,
    DrvStarted,
    DrvStopped,
    LogParser,
    NixMessage,
    clean,
)

DATA = Path(__file__).parent / "data"


def parse(name: str):
    p = LogParser()
    events = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        events += p.feed(line)
    return p, events


def drv_of(events, cls, text):
    return [e for e in events if isinstance(e, cls) and text in e.drv]


def test_recorded_run_with_one_failing_point():
    p, events = parse("log-custom-failure.jsonl")
    started = [e for e in events if isinstance(e, DrvStarted)]
    assert len(started) == 5 and all(e.machine == "" for e in started)
    assert len({e.drv for e in started}) == 5
    stopped = [e for e in events if isinstance(e, DrvStopped)]
    assert {e.drv for e in stopped} == {e.drv for e in started}
    failed = [e for e in events if isinstance(e, DrvFailed)]
    assert len(failed) == 1
    f = failed[0]
    assert f.drv.endswith("-sweepgui-point-x=3.drv") and f.exit_code == 3
    # every point's stop comes after its start; the failure before its stop
    order = [(type(e).__name__, e.drv) for e in events if hasattr(e, "drv")]
    assert order.index(("DrvFailed", f.drv)) < order.index(("DrvStopped", f.drv))
    assert p.tail_of(f.drv) == ["model running 3", "bad x", "sweepgui: the model exited with code 3"]
    logs = [e.line for e in events if isinstance(e, DrvLog) and e.drv.endswith("x=0.drv")]
    assert logs == ["model running 0"]
    deps = [e for e in events if isinstance(e, DependenciesFailed)]
    assert len(deps) == 1 and deps[0].drv.endswith("-sweepgui-sweep.drv")


def test_recorded_builders_that_cannot_start():
    p, events = parse("log-exec-denied.jsonl")
    failed = [e for e in events if isinstance(e, DrvFailed)]
    assert len(failed) == 5 and {e.exit_code for e in failed} == {1}
    tail = p.tail_of(failed[0].drv)
    assert any("executing '/work/main/.venv/bin/python': Permission denied" in t for t in tail)
    assert all("\x00" not in t and "\x1b" not in t for t in tail)


def test_remote_outer_and_inner_activities_are_one_point():
    drv = "/nix/store/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-sweepgui-point-x=1.drv"
    p = LogParser()
    ev = p.feed(f'@nix {{"action":"start","fields":["{drv}","ssh://b1",1,1],"id":1,"level":3,'
                '"text":"building","type":105}')
    assert ev == [DrvStarted(drv, "ssh://b1")]
    assert p.feed(f'@nix {{"action":"start","fields":["{drv}","",1,1],"id":2,"level":3,'
                  '"text":"","type":105}') == []
    assert p.feed('@nix {"action":"result","fields":["hello \\u001b[1mworld\\u001b[0m"],'
                  '"id":2,"type":101}') == [DrvLog(drv, "hello world")]
    assert p.feed('@nix {"action":"stop","id":2}') == []
    assert p.feed('@nix {"action":"stop","id":1}') == [DrvStopped(drv)]


def test_failure_wordings_of_other_nix_versions():
    drv = "/nix/store/bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb-sweepgui-point-y=2.drv"
    cases = {
        # remote build through the build hook (Nix 2.8)
        f"build of '\x1b[35;1m{drv}\x1b[0m' on 'ssh://b2' failed: builder failed with exit code 3":
            (3, "ssh://b2"),
        # Nix >= 2.29 (compat.CANNOT_BUILD_MESSAGE)
        f"Cannot build '{drv}'.\nReason: builder failed with exit code 2.\nOutput paths: ...":
            (2, ""),
        f"builder for '{drv}' failed due to signal 9 (Killed)": (None, ""),
    }
    for text, (code, machine) in cases.items():
        import json
        line = "@nix " + json.dumps({"action": "msg", "level": 0, "msg": "error: " + text})
        (ev,) = LogParser().feed(line)
        assert isinstance(ev, DrvFailed) and ev.drv == drv
        assert ev.exit_code == code and ev.machine == machine


def test_dependency_failures_in_both_wordings():
    """Before Nix 2.29 the aggregator reports "N dependencies of derivation ... failed to
    build"; from 2.29 (compat.CANNOT_BUILD_MESSAGE) "Cannot build '…'. Reason: N dependency
    failed." Both are the aggregator's dependencies, not a failure of their own
    (derivation-goal.cc at 2.28.0 and 2.29.0)."""
    import json

    drv = "/nix/store/cccccccccccccccccccccccccccccccc-sweepgui-sweep.drv"
    for text in (f"1 dependencies of derivation '{drv}' failed to build",
                 f"Cannot build '\x1b[35;1m{drv}\x1b[0m'.\nReason: \x1b[31;1m1 dependency "
                 "failed\x1b[0m.\nOutput paths: ...",
                 f"Cannot build '{drv}'.\nReason: 3 dependencies failed."):
        line = "@nix " + json.dumps({"action": "msg", "level": 0, "msg": "error: " + text})
        assert LogParser().feed(line) == [DependenciesFailed(drv)], text


def test_plain_and_unknown_lines():
    p = LogParser()
    assert p.feed("error: unable to start any build; either increase '--max-jobs' or ...") == \
        [NixMessage("error", "error: unable to start any build; either increase '--max-jobs' or ...")]
    assert p.feed('@nix {"action":"result","fields":["x"],"id":99,"type":101}') == []
    assert p.feed("@nix {not json") == [NixMessage("info", "@nix {not json")]
    assert clean("\x1b[31;1merror:\x1b[0m a\x00b") == "error: ab"


def test_a_failure_reason_carries_the_models_last_words():
    from sweepgui.nix.run_state import with_cause

    generic = "the build failed with exit code 2"
    tail = ["sweepgui.model: bad parameters",
            "  /dev/shm/sweepgui-modelserver-x/worker-y/params.json: fluid.name: unknown fluid 'X'",
            "sweepgui: the model exited with code 2"]
    assert with_cause(generic, tail) == generic + ": fluid.name: unknown fluid 'X'"
    assert with_cause(generic, ["Traceback ...", "RuntimeError: boom", ""]) == \
        generic + ": RuntimeError: boom"
    assert with_cause(generic, []) == generic
    # a specific reason from Nix (a signal, a remote failure) is kept as it is
    assert with_cause("killed by signal 9 (SIGKILL)", tail) == "killed by signal 9 (SIGKILL)"
    assert len(with_cause(generic, ["x" * 1000])) < 400


# recorded from Nix 2.8 (nix-build --option timeout 2 of a builder sleeping 30 s)
TIMEOUT_LINES = [
    '@nix {"action":"start","fields":["/nix/store/w74rlgs2ifhnvn929z3dwf688bnwvc97-slow.drv",'
    '"",1,1],"id":7,"level":3,"text":"building","type":105}',
    '@nix {"action":"result","fields":["hi"],"id":7,"type":101}',
    '@nix {"action":"msg","column":null,"file":null,"level":0,"line":null,"msg":"\\u001b[31;1m'
    'error:\\u001b[0m \\u001b[35;1mbuilding of \'/nix/store/w74rlgs2ifhnvn929z3dwf688bnwvc97-'
    'slow.drv!out\' from .drv file\\u001b[0m timed out after \\u001b[35;1m2\\u001b[0m seconds"}',
    '@nix {"action":"stop","id":7}',
]


def test_a_build_timeout_of_nix_2_8_is_a_failure_that_says_so():
    p = LogParser()
    events = [e for line in TIMEOUT_LINES for e in p.feed(line)]
    failed = [e for e in events if isinstance(e, DrvFailed)]
    assert len(failed) == 1
    assert failed[0].drv == "/nix/store/w74rlgs2ifhnvn929z3dwf688bnwvc97-slow.drv"
    assert failed[0].reason == "timed out after 2 s"
    # newer wordings name the output with ^ or say it in a "Reason:"
    for text in ("building of '/nix/store/a-x.drv^out' timed out after 5 seconds",
                 "Cannot build '/nix/store/a-x.drv'. Reason: timed out after 5 seconds"):
        (f,) = LogParser().feed('@nix ' + json.dumps({"action": "msg", "level": 0, "msg": text}))
        assert (f.drv, f.reason) == ("/nix/store/a-x.drv", "timed out after 5 s")


def test_a_huge_log_line_is_cut_with_a_marker():
    p = LogParser()
    p.feed(TIMEOUT_LINES[0])
    (log,) = p.feed('@nix ' + json.dumps({"action": "result", "id": 7, "type": 101,
                                          "fields": ["\x1b[31m" + "x" * 5_000_000]}))
    assert log.line == "x" * 2_000 + " … [4,998,000 characters cut]"
    assert p.tail_of(log.drv) == [log.line]
    (msg,) = p.feed("y" * 100_000)  # a plain stderr line of Nix's
    assert len(msg.text) < 2_100 and msg.text.endswith("[98,000 characters cut]")
