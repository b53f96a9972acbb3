"""Where a sweep's results live, and reading them fast.

A run leaves ``<state_dir>/manifest.json`` (written by the engine, format 1) that maps
each point to its store path ``out``; the point's result is ``<out>/result.json``.
Reading thousands of results must be fast, yet a result holds the whole spectrum
(thousands of numbers) next to the few numbers most uses need. So the summary of a
result (everything but the spectrum) is cached, keyed by its store path: a store path
names its content for good, so a cache entry can never become stale. The cache lives
in memory and in ``<state_dir>/results-cache.json`` (rewritten atomically), so that
re-opening a finished 10,000-point sweep parses one small file instead of 10,000 big
ones.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ..atomic import atomic_write

# the one definition of where a sweep's run state lives (the engine writes it there)
from ..nix.plan import default_state_dir  # noqa: F401 - re-exported by sweepgui.results

MANIFEST_NAME = "manifest.json"
CACHE_NAME = "results-cache.json"
CACHE_FORMAT = 2

# out path -> summary dict; shared by every load in this process (the GUI reloads
# while a run streams in, and only the new points should cost anything)
_MEMORY: dict[str, dict[str, Any]] = {}


class ResultsError(ValueError):
    """Results cannot be read: names the file and what to do."""


def read_manifest(state_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of a state folder; ResultsError if it is missing or unreadable."""
    path = Path(state_dir) / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResultsError(f"{path}: no manifest (this sweep has not been run yet)") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: the manifest is not UTF-8 text; run the sweep again "
                           "to rewrite it") from None
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path}: line {exc.lineno}: the manifest is not valid JSON ({exc.msg}); "
                           "run the sweep again to rewrite it") from None
    if not isinstance(manifest, dict) or manifest.get("format") != 1:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ResultsError(f"{path}: unknown manifest format {found!r} "
                           "(expected 1); run the sweep again with this version of sweepgui")
    problem = manifest_problem(manifest)
    if problem:
        raise ResultsError(f"{path}: damaged manifest ({problem}); run the sweep again to "
                           "rewrite it")
    return manifest


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What makes a format-1 manifest unusable for merging (None: nothing found)."""
    dims = manifest.get("dimensions", [])
    if not isinstance(dims, list):
        return "'dimensions' is not a list"
    for k, d in enumerate(dims):
        if not isinstance(d, dict) or "name" not in d:
            return f"dimension {k} has no name"
        paths, values = d.get("paths"), d.get("values")
        if not isinstance(paths, list) or not paths or not isinstance(values, dict):
            return f"dimension {d['name']!r} has no paths or values"
        lengths = {len(values[p]) if isinstance(values.get(p), list) else -1 for p in paths}
        if len(lengths) != 1 or -1 in lengths:
            return f"dimension {d['name']!r}: every path needs a list of values, all of one length"
    points = manifest.get("points", [])
    if not isinstance(points, list) or not all(isinstance(p, dict) for p in points):
        return "'points' is not a list of objects"
    return None


def summarize(result: dict[str, Any]) -> dict[str, Any]:
    """Everything of a result but its spectrum and parameters (the manifest has those)."""
    return {k: v for k, v in result.items() if k not in ("spectrum", "parameters")}


def _read_bytes(out: str) -> tuple[str, bytes]:
    path = os.path.join(out, "result.json")
    try:
        with open(path, "rb") as f:
            return path, f.read()
    except FileNotFoundError:
        raise ResultsError(f"{path}: result missing (garbage-collected? run the sweep again)") from None
    except OSError as exc:
        raise ResultsError(f"{path}: cannot read the result: {exc.strerror}") from None


_SPECTRUM_KEY = b'"spectrum"'


def _without_spectrum(data: bytes) -> bytes | None:
    """The result's JSON text with the spectrum's value replaced by null, or None if unsure.

    Parsing the spectrum (thousands of numbers) is 95 % of the cost of a result, and most
    uses never look at it. Inside a JSON string every quote is escaped, so the bytes
    ``"spectrum"`` followed by a colon can only be a key; the contract's spectrum is one
    object of number arrays, so its value ends at the first ``}``. Anything else (the key
    twice, a nested object) returns None and the caller parses the whole text.
    """
    k = data.find(_SPECTRUM_KEY)
    if k < 0 or data.find(_SPECTRUM_KEY, k + 1) >= 0:
        return None
    j = k + len(_SPECTRUM_KEY)
    rest = data[j: j + 8].lstrip()
    if not rest.startswith(b":"):
        return None
    start = data.find(b"{", j)
    end = data.find(b"}", start)
    if start < 0 or end < 0 or data.find(b"{", start + 1, end) >= 0 or data[j:start].strip() != b":":
        return None
    return data[:start] + b"null" + data[end + 1:]


def read_result_summary(out: str) -> dict[str, Any]:
    """``summarize(read_result_file(out))``, without parsing the spectrum when it can."""
    path, data = _read_bytes(out)
    trimmed = _without_spectrum(data)
    if trimmed is not None:
        try:
            result = json.loads(trimmed)
        except ValueError:
            result = None
        if isinstance(result, dict):
            return summarize(result)
    return summarize(_parse(path, data))


def read_result_file(out: str) -> dict[str, Any]:
    """The parsed ``<out>/result.json``; ResultsError with the reason if missing or corrupt."""
    return _parse(*_read_bytes(out))


def _parse(path: str, data: bytes) -> dict[str, Any]:
    try:
        result = json.loads(data)
    except ValueError as exc:
        raise ResultsError(f"{path}: corrupt result ({exc})") from None
    if not isinstance(result, dict):
        raise ResultsError(f"{path}: corrupt result (not a JSON object)")
    # a custom model may write other keys: missing natural frequencies are NaN, not an error
    return result


class SummaryCache:
    """Result summaries keyed by store path, in memory and optionally on disk.

    Parameters
    ----------
    state_dir
        Folder of ``results-cache.json``; None keeps the cache in memory only.
    """

    def __init__(self, state_dir: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(state_dir) / CACHE_NAME if state_dir is not None else None
        self._added = 0
        if self.path is not None and self.path.is_file():
            try:
                disk = json.loads(self.path.read_text(encoding="utf-8"))
                if disk.get("format") == CACHE_FORMAT:
                    for out, summary in disk.get("results", {}).items():
                        _MEMORY.setdefault(out, summary)
            except (OSError, ValueError, AttributeError):
                pass  # a broken cache only costs time: it is rebuilt from the store

    def get(self, out: str) -> dict[str, Any] | None:
        return _MEMORY.get(out)

    def put(self, out: str, summary: dict[str, Any]) -> None:
        if out not in _MEMORY:
            self._added += 1
        _MEMORY[out] = summary

    def save(self, outs: list[str]) -> None:
        """Write the summaries of ``outs`` to disk if anything new was read (atomic)."""
        if self.path is None or not self._added:
            return
        entries = {o: _MEMORY[o] for o in outs if o in _MEMORY}
        try:
            atomic_write(self.path, json.dumps({"format": CACHE_FORMAT, "results": entries},
                                                    separators=(",", ":")))
            self._added = 0
        except OSError:
            pass  # read-only state folder: the cache is an optimisation, not data


