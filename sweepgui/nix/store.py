"""Reading the Nix store: which paths exist, and each point's result.

The store is the truth about what has been computed: the manifest only remembers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ._nixcmd import nix_command, nix_env, run_nix

# one command line stays far below ARG_MAX (store paths are ~80 bytes)
CHUNK = 2000
RESULT_NAME = "result.json"


class ResultError(Exception):
    """A point's result is missing or unreadable; ``str(exc)`` names the file and says why.

    The one error type for a point's result, in the engine and in ``sweepgui.results``.

    For a point whose model failed inside a batch, ``exit_code`` and ``log_tail`` come
    from its ``error.json``.
    """

    def __init__(self, message: str, exit_code: int | None = None,
                 log_tail: list[str] | None = None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.log_tail = list(log_tail or [])


def invalid_paths(paths: Iterable[str]) -> set[str]:
    """The given store paths that are not valid (not built), in batches of CHUNK."""
    paths = list(dict.fromkeys(paths))
    invalid: set[str] = set()
    if not paths:
        return invalid
    exe = nix_command("nix-store")
    env = nix_env()
    for i in range(0, len(paths), CHUNK):
        out = run_nix([exe, "--check-validity", "--print-invalid", *paths[i:i + CHUNK]],
                      env=env, what="nix-store --check-validity")
        invalid.update(line.strip() for line in out.splitlines() if line.strip())
    return invalid


def read_result(out_path: str | os.PathLike[str], *, spectrum: bool = True) -> dict[str, Any]:
    """The model's output ``OUT/result.json`` of a built point: the one reader of results.

    With ``spectrum=False`` the spectrum's arrays (thousands of numbers, 95 % of the parsing
    cost) are skipped when the text allows it, and the result has no ``"spectrum"`` key.

    Raises ResultError naming the file and what is wrong (missing: garbage-collected or the
    model wrote nothing; unreadable; not valid JSON; not a JSON object). For a point whose
    model failed inside a batch, the error carries the model's reason and log from
    ``error.json``.
    """
    path = os.path.join(out_path, RESULT_NAME)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        error = _batch_error(Path(out_path))
        if error is not None:
            raise error from None
        raise ResultError(f"{path}: result missing (garbage-collected, or the model wrote "
                          "none): run the sweep again") from None
    except OSError as exc:
        raise ResultError(f"{path}: cannot read the result: {exc.strerror or exc}") from None
    if not spectrum:
        trimmed = _without_spectrum(data)
        if trimmed is not None:
            try:
                result = json.loads(trimmed)
            except ValueError:
                result = None  # parse the whole text below: its error names the real problem
            if isinstance(result, dict):
                result.pop("spectrum", None)
                return result
    try:
        result = json.loads(data)
    except ValueError as exc:
        raise ResultError(f"{path}: corrupt result, not valid JSON ({exc})") from None
    if not isinstance(result, dict):
        raise ResultError(f"{path}: corrupt result, a JSON {type(result).__name__} "
                          "instead of an object")
    if not spectrum:
        result.pop("spectrum", None)
    return result


_SPECTRUM_KEY = b'"spectrum"'


def _without_spectrum(data: bytes) -> bytes | None:
    """The result's JSON text with the spectrum's value replaced by null, or None if unsure.

    Inside a JSON string every quote is escaped, so the bytes ``"spectrum"`` followed by a
    colon can only be a key; the model's spectrum is one object of number arrays, so its
    value ends at the first ``}``. Anything else (the key twice, a nested object) returns
    None and the caller parses the whole text.
    """
    k = data.find(_SPECTRUM_KEY)
    if k < 0 or data.find(_SPECTRUM_KEY, k + 1) >= 0:
        return None
    j = k + len(_SPECTRUM_KEY)
    start = data.find(b"{", j)
    end = data.find(b"}", start)
    if start < 0 or end < 0 or data.find(b"{", start + 1, end) >= 0 or data[j:start].strip() != b":":
        return None
    return data[:start] + b"null" + data[end + 1:]


def _batch_error(out: Path) -> ResultError | None:
    try:
        with open(out / "error.json", encoding="utf-8") as fh:
            err = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(err, dict):
        return None
    code = err.get("exit_code")
    return ResultError(str(err.get("reason") or "the model failed"),
                       exit_code=code if isinstance(code, int) else None,
                       log_tail=[str(x) for x in err.get("log_tail") or []])
