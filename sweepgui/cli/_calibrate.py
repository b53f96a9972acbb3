"""``sweepgui calibrate``: a densitometer's calibration and its compensation from a finished run.

Reads the run exactly as ``sweepgui sensitivity`` does (the sweep's state folder, the same
loader and messages), fits rho = A(T, p) tau^2 - B(T, p) with ``sweepgui.results.calibrate``
and prints the coefficients and the residual density errors; ``--predict`` reads a
density from a measured frequency. A sweep that cannot support the fit is exit 2 with the
reason.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Any

from . import UserError
from ._results import _emit, _fmt, _load, _parse_at

PREDICT_KEYS = {"f": "f", "frequency": "f", "state.temperature": "T", "state.pressure": "p"}


def register(subparsers: argparse._SubParsersAction) -> None:
    c = subparsers.add_parser(
        "calibrate", help="fit a densitometer's calibration with temperature and pressure compensation",
        description="Fit density = A(T, p)*tau^2 - B(T, p), tau = 1/f_n, to a finished sweep over "
        "fluid.density (and state.temperature, state.pressure), with A and B polynomials of total "
        "order K in (T - T0) and (p - p0). Prints the coefficients and the residual density error "
        "at the sweep's points, uncompensated and compensated.")
    c.add_argument("sweep", metavar="SWEEP.toml")
    c.add_argument("--mode", type=int, default=1, metavar="N", help="the mode measured (1-based; default 1)")
    c.add_argument("--order", type=int, default=1, metavar="K",
                   help="compensation order: 0 none, 1 linear (default), 2 quadratic")
    c.add_argument("--reference", action="append", default=[], metavar="PATH=VALUE[,PATH=VALUE]",
                   help="reference state T0, p0 in SI, e.g. state.temperature=293.15,state.pressure=1e5 "
                   "(default: the grid's centre)")
    c.add_argument("--predict", action="append", default=[], metavar="f=HZ[,state.temperature=K,...]",
                   help="read the density from a measured frequency of the mode at a state "
                   "(missing state values: the reference)")
    c.add_argument("--json", action="store_true", help="one JSON object on stdout")
    c.add_argument("--state-dir", metavar="DIR", help="the run's state folder (default: the engine's)")
    c.set_defaults(handler=_calibrate)


def _predict_args(items: list[str]) -> dict[str, float] | None:
    if not items:
        return None
    given = _parse_at(items)
    out: dict[str, float] = {}
    for key, value in given.items():
        short = PREDICT_KEYS.get(key)
        if short is None:
            raise UserError(f"--predict {key}: expected f (Hz), state.temperature (K) or "
                            "state.pressure (Pa)")
        if not isinstance(value, float) or not math.isfinite(value) or value <= 0:
            raise UserError(f"--predict {key}={value}: expected a positive number (SI)")
        out[short] = value
    if "f" not in out:
        raise UserError("--predict: give the measured frequency, e.g. --predict f=212.5")
    return out


def _calibrate(args: argparse.Namespace) -> int:
    from sweepgui.results import calibrate

    reference = _parse_at(args.reference) or None
    predict = _predict_args(args.predict)  # before the load: a typo costs nothing
    ds = _load(args, with_spectra=False)
    try:
        cal = calibrate(ds, mode=args.mode, order=args.order, reference=reference)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    prediction: dict[str, Any] | None = None  # numbers, a unit and a note
    if predict is not None:
        for key, path in (("T", "state.temperature"), ("p", "state.pressure")):
            if key in predict and path not in cal.variables and not math.isclose(
                    predict[key], cal.reference[path], rel_tol=1e-9):
                print(f"sweepgui: note: {path} is not swept, so the calibration does not "
                      f"compensate for it (it holds at {cal.reference[path]:g} "
                      f"{cal.units[path]} only)", file=sys.stderr)
        prediction = {"frequency": predict["f"],
                      "state.temperature": predict.get("T", cal.reference["state.temperature"]),
                      "state.pressure": predict.get("p", cal.reference["state.pressure"])}
        prediction["density"] = float(cal.predict(prediction["frequency"], prediction["state.temperature"],
                                                  prediction["state.pressure"]))
        prediction["unit"] = "kg/m3"
        outside = _outside(cal, prediction)
        if outside:
            prediction["note"] = (f"outside the sweep's range ({outside}): extrapolated, the "
                                  "residual does not bound its error")
    if args.json:
        doc = cal.to_json()
        if prediction is not None:
            doc["prediction"] = prediction
        _emit(json.dumps(doc, indent=1, allow_nan=False) + "\n")
        return 0
    _emit(_report(cal, prediction))
    return 0


def _outside(cal: Any, prediction: dict[str, Any]) -> str:
    """Which of density, T, p of a prediction lie outside the calibrated range ("" if none)."""
    out = []
    for path, value in (("fluid.density", prediction["density"]),
                        ("state.temperature", prediction["state.temperature"]),
                        ("state.pressure", prediction["state.pressure"])):
        low, high = cal.ranges.get(path, (value, value))
        if path != "fluid.density" and path not in cal.variables:
            continue  # not swept: already said on stderr
        if not low - 1e-9 * abs(low) <= value <= high + 1e-9 * abs(high):
            out.append(f"{path}={_fmt(value)} not in {_fmt(low)}..{_fmt(high)}")
    return "; ".join(out)


ORDER_WORDS = {0: "no compensation", 1: "linear compensation", 2: "quadratic compensation",
               3: "cubic compensation"}


def _report(cal: Any, prediction: dict[str, Any] | None) -> str:
    t0, p0 = cal.reference["state.temperature"], cal.reference["state.pressure"]
    words = ORDER_WORDS.get(cal.order, f"compensation of order {cal.order}")
    if cal.order and cal.variables:
        words += f" for {' and '.join(cal.variables)}"
    lines = [
        f"Calibration of mode {cal.mode} from {cal.points} points, order {cal.order} ({words})",
        f"  {cal.formula}",
        f"  reference state: T0 = {_fmt(t0)} {cal.units['state.temperature']}, "
        f"p0 = {_fmt(p0)} {cal.units['state.pressure']}",
        "",
    ]
    table = [("coefficient", "value", "unit", "multiplies")] + [
        (c.name, f"{c.value:.10g}", c.unit, c.term) for c in cal.coefficients.values()]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    lines += ["  " + "  ".join(x.ljust(w) for x, w in zip(r, widths)).rstrip() for r in table]
    lines.append(f"  condition number of the fit (scaled columns): {cal.condition:.3g}")
    un = cal.uncompensated
    at = ", ".join(f"{p}={_fmt(v)}" for p, v in un["state"].items())
    lines += [
        "",
        "Residual density error (read minus true) over the sweep's points, kg/m3:",
        f"  {'':<26}{'max |error|':>12}  {'RMS':>10}",
        f"  {'uncompensated':<26}{_fmt(cal.uncompensated_max):>12}  {_fmt(cal.uncompensated_rms):>10}"
        f"   (order 0 fitted at {at}, {un['points']} points)",
        f"  {f'compensated, order {cal.order}' if cal.order else 'order 0 on all points':<26}"
        f"{_fmt(cal.residual_max):>12}  "
        f"{_fmt(cal.residual_rms):>10}",
    ]
    if prediction is not None:
        lines += ["", f"Prediction: f = {_fmt(prediction['frequency'])} Hz at "
                  f"T = {_fmt(prediction['state.temperature'])} K, "
                  f"p = {_fmt(prediction['state.pressure'])} Pa -> density "
                  f"{prediction['density']:.6g} kg/m3 (fit residual up to {_fmt(cal.residual_max)} "
                  "kg/m3 inside the sweep's range)"]
        outside = _outside(cal, prediction)
        if outside:
            lines.append(f"note: the prediction is outside the sweep's range ({outside}): the "
                         "polynomials extrapolate and the residual does not bound its error")
    lines += [f"note: {n}" for n in cal.notes]
    return "\n".join(lines) + "\n"
