"""Bad input never escapes as anything but a ParameterError naming the field (exit 2)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepgui.model import run_point
from sweepgui.model.__main__ import main
from sweepgui.params import ParameterError, iter_fields

FIELDS = [f for f in iter_fields()]
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def _not_a_number() -> st.SearchStrategy:
    return (st.text(min_size=1, max_size=6).filter(lambda s: not _parses(s))
            | st.lists(st.integers(), max_size=3)
            | st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _parses(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


@st.composite
def one_bad_field(draw):
    """A parameter set with exactly one field made invalid: out of bounds, wrong type, bad choice."""
    f = draw(st.sampled_from(FIELDS))
    if f.kind == "choice":
        bad = draw(st.text(max_size=12).filter(lambda s: s not in f.choices) | _not_a_number())
    elif f.kind == "str":
        bad = draw(st.just("") | st.text(min_size=201, max_size=210)
                   | st.lists(st.integers(), max_size=2) | st.integers())
    else:
        options = [_not_a_number()]
        for bound, strict, sign in ((f.gt, True, -1), (f.ge, False, -1), (f.lt, True, 1), (f.le, False, 1)):
            if bound is not None:
                lo = bound if strict else bound + sign * max(1e-9, abs(bound) * 1e-6)
                out = (st.floats(min_value=lo, max_value=lo + 1e12) if sign > 0
                       else st.floats(min_value=lo - 1e12, max_value=lo))
                if not strict:
                    out = out.filter(lambda v, b=bound: v != b)
                options.append(out)
        if f.kind == "int":
            options.append(st.floats(min_value=2.1, max_value=10.9).filter(lambda v: v != int(v)))
        if f.kind != "optional-float":
            options.append(st.none())
        bad = draw(st.one_of(options))
    return f.path, {f.group: {f.name: bad}}


@SETTINGS
@given(one_bad_field())
def test_one_bad_field_is_named(case):
    path, params = case
    try:
        run_point(params)
    except ParameterError as exc:
        assert path in [p for p, _ in exc.problems], (path, exc.problems)
    else:
        raise AssertionError(f"{params} was accepted")


@SETTINGS
@given(st.dictionaries(st.sampled_from(["pipe", "material", "fluid", "state", "analysis", "extra"]),
                       json_values, min_size=1, max_size=3))
def test_random_groups_give_parameter_errors(params):
    try:
        result = run_point(params)
    except ParameterError as exc:
        assert exc.problems and all(isinstance(p, str) for p, _ in exc.problems)
    else:  # only the empty groups are valid
        assert all(v == {} for v in params.values()) and result["stable"]


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=40) | json_values.map(json.dumps))
def test_cli_on_garbage_files_exits_2_with_no_output(text):
    with tempfile.TemporaryDirectory() as tmp:
        src, out = os.path.join(tmp, "p.json"), os.path.join(tmp, "o.json")
        with open(src, "w", encoding="utf-8", errors="surrogatepass") as fh:
            fh.write(text)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            rc = main([src, out])
        if rc == 0:  # the rare valid document: {} (all defaults)
            assert json.loads(text) == {} and os.path.exists(out)
        else:
            assert rc == 2, err.getvalue()
            assert "p.json" in err.getvalue() and not os.path.exists(out)
            assert os.listdir(tmp) == ["p.json"]


def test_non_finite_numbers_are_rejected():
    for value in (math.inf, -math.inf, math.nan):
        try:
            run_point({"pipe": {"length": value}})
        except ParameterError as exc:
            assert exc.problems[0][0] == "pipe.length"
        else:
            raise AssertionError(value)


def _in_bounds(f) -> st.SearchStrategy:
    if f.kind == "choice":
        return st.sampled_from(f.choices)
    lo = f.ge if f.ge is not None else f.gt
    hi = f.le if f.le is not None else f.lt
    if f.name == "elements":
        hi = 12
    if f.name in ("modes",):
        hi = 4
    if f.name == "frequencies":
        hi = 20
    if f.kind == "int":
        return st.integers(min_value=int(math.ceil(lo)), max_value=int(hi))
    return st.floats(min_value=lo, max_value=hi, exclude_min=f.gt is not None,
                     exclude_max=f.lt is not None)


IN_BOUNDS = {f.path: _in_bounds(f) for f in FIELDS if f.kind in ("float", "int", "choice")}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(sorted(IN_BOUNDS)), st.none(), max_size=12).flatmap(
    lambda keys: st.fixed_dictionaries({k: IN_BOUNDS[k] for k in keys})))
def test_values_within_their_bounds_never_crash(values):
    """Any in-bounds combination: a finite result, or a named ParameterError / ModelError."""
    from sweepgui.model import ModelError

    params: dict = {"fluid": {"density": 1000.0}}
    for path, value in values.items():
        group, name = path.split(".")
        params.setdefault(group, {})[name] = value
    try:
        r = run_point(params)
    except (ParameterError, ModelError) as exc:
        assert str(exc)
    else:
        json.dumps(r, allow_nan=False)  # finite numbers only
        assert r["natural_frequencies"] == sorted(r["natural_frequencies"])


def test_more_modes_than_degrees_of_freedom_names_analysis_modes():
    try:
        run_point({"fluid": {"density": 1.0}, "analysis": {"elements": 2, "modes": 4}})
    except ParameterError as exc:
        assert exc.problems[0][0] == "analysis.modes" and "degrees of freedom" in exc.problems[0][1]
    else:
        raise AssertionError("accepted 4 modes of a 2-dof clamped-clamped mesh")
