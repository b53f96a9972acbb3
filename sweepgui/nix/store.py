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
    """A point's result is missing or unreadable; ``str(exc)`` says why."""


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
        raise ResultError(f"{path} is missing (the point's output holds no result)") from None
    except OSError as exc:
        raise ResultError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise ResultError(f"{path} is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ResultError(f"{path} holds a {type(data).__name__}, not a JSON object")
    return data
