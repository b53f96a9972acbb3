"""``python -m sweepgui.model PARAMS.json OUT.json``: compute one point, write its result.

Exit codes: 0 written; 2 bad input (a message names each offending field, or the file that
cannot be read or written) and no OUT file; 3 the model cannot compute this point (e.g. the
equation of state fails, or a number of the result is not finite) and no OUT file. "No OUT
file" includes one left by an earlier run: it is removed before anything else. Never a
traceback: this runs inside Nix builds and its stderr is what the user reads in the log.
"""

from __future__ import annotations

import json
import os
import sys

from ..atomic import atomic_write

USAGE = "usage: python -m sweepgui.model PARAMS.json OUT.json"


def _fail(code: int, message: str) -> int:
    print(f"sweepgui.model: {message}", file=sys.stderr)
    return code


def _read(path: str) -> object:
    with open(path, "rb") as fh:
        raw = fh.read()
    return json.loads(raw.decode("utf-8"))


def _lean_start() -> None:
    """Settings of a one-point process, made before numpy and pydantic load; an explicit
    setting in the environment wins.

    One BLAS thread: the matrices are small (band matrices, or ~100 dofs dense), a sweep runs
    one process per core, and an idle thread pool only costs start-up time and contention.
    No pydantic plugins: finding them reads the metadata of every installed package (about
    15 ms of a 0.25 s run), and a build has no use for validation telemetry.
    """
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        return _fail(2, f"expected 2 arguments, got {len(args)}\n{USAGE}")
    src, out = args
    if os.path.isdir(out):
        return _fail(2, f"cannot write the result to {out}: it is a directory")
    # A result file from an earlier run is removed first: whatever happens next, a failed
    # run leaves no OUT that a caller could take for this run's result.
    try:
        if os.path.exists(src) and os.path.exists(out) and os.path.samefile(src, out):
            return _fail(2, f"{out} is the parameters file itself: give another OUT path")
        os.unlink(out)
    except FileNotFoundError:
        pass
    except OSError as exc:
        return _fail(2, f"cannot remove the old result {out}: {exc.strerror or exc}")
    try:
        data = _read(src)
    except OSError as exc:
        return _fail(2, f"cannot read the parameters file {src}: {exc.strerror or exc}")
    except json.JSONDecodeError as exc:
        return _fail(2, f"{src}: line {exc.lineno} column {exc.colno}: not valid JSON ({exc.msg})")
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        return _fail(2, f"{src}: not valid UTF-8 JSON ({type(exc).__name__})")

    from ..params import ParameterError
    from . import ModelError, run_point

    try:
        result = run_point(data)  # type: ignore[arg-type]
    except ParameterError as exc:
        lines = [f"{src}: {path or '(parameters)'}: {msg}" for path, msg in exc.problems]
        return _fail(2, "bad parameters\n  " + "\n  ".join(lines))
    except ModelError as exc:
        return _fail(3, f"{src}: cannot compute this point: {exc}")
    except MemoryError:
        return _fail(3, f"{src}: out of memory; use fewer elements or frequencies")
    except Exception as exc:  # a bug: still no traceback in a build log, but say so
        return _fail(3, f"{src}: internal error of the model ({type(exc).__name__}: {exc}); "
                        "please report it with this parameters file")
    try:
        text = json.dumps(result, separators=(",", ":"), allow_nan=False)
        atomic_write(out, text, fsync=True)
    except OSError as exc:
        return _fail(2, f"cannot write the result to {out}: {exc.strerror or exc}")
    except ValueError as exc:
        return _fail(3, f"{src}: the result is not finite ({exc})")
    return 0


if __name__ == "__main__":
    _lean_start()
    sys.exit(main())
