"""Re-opening a planned sweep without evaluating it again.

The evaluation's answer (every point's name, parameters, derivation and out path) is kept
in ``<state_dir>/plan-cache.json`` under a key made of everything it depends on: the
sweep's content hash, the model's source hash, the interpreter's identity, the Nix options
and the Nix library's files. Only the validity query is repeated (the store is the truth),
so re-opening a 10,000-point sweep skips building its points, their canonical JSON and the
evaluation. The cache is written only into a state folder that exists (after a run): a
plan of a sweep never run leaves no file behind.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from ..resources import resources_dir
from .manifest import write_json_atomic

if TYPE_CHECKING:
    from .interpreter import InterpreterInfo
    from .modelsrc import ModelSource

FILENAME = "plan-cache.json"
FORMAT = 1


class CachedPlan(TypedDict):
    """The file: its key, and the evaluation's answer."""

    key: str
    model_store_path: str
    points: list[list[str]]  # [name, parameters JSON, drv, out] of every point, in order


def cache_key(sweep_hash: str, model: ModelSource, interp: InterpreterInfo,
              options: dict[str, str]) -> str:
    h = hashlib.sha256()
    nix_dir = resources_dir() / "nix"
    parts = [str(FORMAT), sweep_hash, model.kind, model.source_hash, str(model.path),
             model.store_name, interp.mode, interp.python, interp.store_path or "",
             interp.identity_hash, json.dumps(options, sort_keys=True)]
    for name in ("sweep.nix", "builder.py"):
        parts.append(hashlib.sha256((nix_dir / name).read_bytes()).hexdigest())
    for part in parts:
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def load(state_dir: Path, key: str) -> CachedPlan | None:
    try:
        with open(Path(state_dir) / FILENAME, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        return None
    return cast(CachedPlan, data)  # what save() wrote under this key


def save(state_dir: Path, key: str, entries: list[tuple[str, str]],
         pairs: list[tuple[str, str]], model_store_path: str) -> None:
    state_dir = Path(state_dir)
    if not state_dir.is_dir():
        return
    plan: CachedPlan = {"key": key, "model_store_path": model_store_path,
                        "points": [[n, t, d, o] for (n, t), (d, o) in zip(entries, pairs)]}
    try:
        write_json_atomic(state_dir / FILENAME, plan)
    except OSError:
        pass  # a cache: never worth failing a plan
