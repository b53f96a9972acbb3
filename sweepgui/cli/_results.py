"""``sweepgui export`` and ``sweepgui sensitivity``: answers from a finished run.

Both read the sweep's state folder (the engine's default ``<folder>/.sweepgui/<file>/<hash>/``,
or ``--state-dir``); they never build anything. A sweep that has not been run is a user
error (exit 2) that says how to run it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path
from typing import Any

from . import UserError


def register(subparsers: argparse._SubParsersAction) -> None:
    from sweepgui.results import EXPORT_FORMATS

    titles = ", ".join(f.title for f in EXPORT_FORMATS.values())
    suffixes = ", ".join(f.suffix for f in EXPORT_FORMATS.values())
    p = subparsers.add_parser(
        "export", help=f"write a run's merged results as {titles}",
        description="Merge the results of a sweep's last run into one file, with provenance "
        "(store path, derivation, model, sweep hash) in every row.")
    p.add_argument("sweep", metavar="SWEEP.toml")
    p.add_argument("--format", choices=tuple(EXPORT_FORMATS),
                   help=f"default: from the suffix of -o ({suffixes})")
    p.add_argument("-o", "--output", required=True, metavar="PATH")
    p.add_argument("--no-spectra", action="store_true", help="netCDF without the spectra")
    p.add_argument("--state-dir", metavar="DIR", help="the run's state folder (default: the engine's)")
    p.set_defaults(handler=_export)

    s = subparsers.add_parser(
        "sensitivity", help="df/dx, (1/f) df/dx and apparent density errors of a run",
        description="Sensitivities of the natural frequencies to each swept parameter at one "
        "grid point (the centre unless --at names one), in Hz per bar, per kelvin, per kg/m3...")
    s.add_argument("sweep", metavar="SWEEP.toml")
    s.add_argument("--json", action="store_true", help="one JSON object on stdout")
    s.add_argument("--at", action="append", default=[], metavar="PATH=VALUE[,PATH=VALUE...]",
                   help="the grid point (nearest to these SI values), e.g. state.pressure=2e5")
    s.add_argument("--mode", type=int, metavar="N", help="only mode N (1-based)")
    s.add_argument("--state-dir", metavar="DIR", help="the run's state folder (default: the engine's)")
    s.set_defaults(handler=_sensitivity)


def _state_dir(args: argparse.Namespace) -> Path:
    from sweepgui.results import default_state_dir

    sweep = Path(args.sweep)
    if not sweep.is_file():
        raise UserError(f"{sweep}: no such sweep file")
    if args.state_dir:
        state = Path(args.state_dir)
    else:
        from sweepgui.sweep import SweepError

        try:  # the state is the sweep's own (keyed by what it computes): read the file
            state = default_state_dir(sweep)
        except SweepError as exc:
            raise UserError(f"{exc} (the results are found through the sweep file: fix it, "
                            "or name its state folder with --state-dir)") from None
    if not (state / "manifest.json").is_file():
        raise UserError(f"{sweep}: this sweep has not been run yet (no {state / 'manifest.json'}); "
                        f"run it first: sweepgui run {sweep}")
    return state


def _check_sweep_hash(sweep: Path, manifest: dict[str, Any]) -> None:
    """Warn when the sweep file changed since the run whose results are being read."""
    try:
        from sweepgui.sweep import load_sweep

        current = load_sweep(sweep).content_hash()
    except Exception:
        return
    if manifest.get("sweep_hash") and current != manifest["sweep_hash"]:
        print(f"sweepgui: warning: {sweep} changed since its last run ({manifest.get('updated', '?')}); "
              f"these are the results of that run. To update them: sweepgui run {sweep}",
              file=sys.stderr)


def _load(args: argparse.Namespace, with_spectra: bool):
    from sweepgui.results import ResultsError, load_dataset, read_manifest

    state = _state_dir(args)
    try:
        manifest = read_manifest(state)
    except ResultsError as exc:
        raise UserError(str(exc)) from None
    _check_sweep_hash(Path(args.sweep), manifest)
    return load_dataset(manifest, with_spectra=with_spectra, state_dir=state)


def _export(args: argparse.Namespace) -> int:
    from sweepgui.results import EXPORT_FORMATS, export, format_from_path

    out = Path(args.output)
    fmt = args.format or format_from_path(out)
    if fmt is None:
        raise UserError(f"-o {out}: cannot tell the format from the suffix; add "
                        f"--format {'|'.join(EXPORT_FORMATS)}")
    if not out.parent.is_dir():
        raise UserError(f"-o {out}: the folder {out.parent} does not exist")
    ds = _load(args, with_spectra=EXPORT_FORMATS[fmt].spectra and not args.no_spectra)
    try:
        export(ds, out, fmt)
    except OSError as exc:
        raise UserError(f"-o {out}: cannot write: {exc.strerror or exc}") from None
    status = ds.status.values.ravel().tolist()
    bad = [s for s in status if s not in ("built", "cached")]
    print(f"wrote {out} ({fmt}, {len(status)} points)", file=sys.stderr)
    if bad:
        print(f"sweepgui: note: {len(bad)} of {len(status)} points have no result "
              f"(status {', '.join(sorted(set(bad)))}): NaN in the export", file=sys.stderr)
    return 0


def _parse_at(items: list[str]) -> dict[str, Any]:
    at: dict[str, Any] = {}
    for item in items:
        for part in filter(None, (p.strip() for p in item.split(","))):
            path, eq, text = part.partition("=")
            if not eq or not path.strip() or not text.strip():
                raise UserError(f"--at {part!r}: expected PATH=VALUE, e.g. state.pressure=2e5")
            try:
                value: Any = float(text)
            except ValueError:
                value = text.strip()
            at[path.strip()] = value
    return at


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "-"
    return f"{v + 0.0:.6g}"  # + 0.0: no "-0"


def _sensitivity(args: argparse.Namespace) -> int:
    from sweepgui.results import sensitivities

    ds = _load(args, with_spectra=False)
    try:
        result = sensitivities(ds, at=_parse_at(args.at), mode=args.mode)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        _emit(json.dumps(result.to_json(), indent=1, allow_nan=False) + "\n")
        return 0
    lines = []
    where = ", ".join(f"{p}={_fmt(v) if isinstance(v, float) else v}" for p, v in result.at.items())
    lines.append(f"Sensitivities at {where or 'the only point'}")
    head = ("parameter", "mode", "f [Hz]", "df/dx", "", "(1/f) df/dx", "", "apparent density error", "")
    table = [head] + [
        (s.parameter, str(s.mode), _fmt(s.frequency), _fmt(s.value), s.unit, _fmt(s.relative),
         s.relative_unit, _fmt(s.apparent_density_error), s.apparent_density_error_unit or "")
        for s in result]
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    for r in table:
        lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
    if not result:
        lines.append("(no numeric swept parameter with two or more values)")
    lines += [f"note: {note}" for note in result.notes]
    _emit("\n".join(lines) + "\n")
    return 0


def _emit(text: str) -> None:
    """Print to stdout; a closed pipe (``| head``) is not an error worth a traceback."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
