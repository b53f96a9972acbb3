"""Reading the Nix store: which paths exist, and each point's result.

The store is the truth about what has been computed: the manifest only remembers.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path

from ._nixcmd import nix_command, nix_env, run_nix

# one command line stays far below ARG_MAX (store paths are ~80 bytes)
CHUNK = 2000


class ResultError(Exception):
    """A point's result is missing or unreadable; ``str(exc)`` says why.

    For a point whose model failed inside a batch, ``exit_code`` and ``log_tail`` come
    from its ``error.json``.
    """

    def __init__(self, message: str, exit_code: int | None = None,
                 log_tail: list[str] | None = None):
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


def read_result(out_path: str | os.PathLike) -> dict:
    """The model's output ``OUT/result.json`` of a built point.

    Raises ResultError naming what is wrong (missing, unreadable, not a JSON object).
    """
    path = Path(out_path) / "result.json"
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        error = _batch_error(Path(out_path))
        if error is not None:
            raise error from None
        raise ResultError(f"{path} is missing (the point's output holds no result)") from None
    except OSError as exc:
        raise ResultError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ResultError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path} holds a {type(data).__name__}, not a JSON object")
    return data


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
