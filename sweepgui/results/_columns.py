"""Results of many points as columns, and the two files that keep them: ``.npz`` helpers.

A block is a dict of numpy arrays: *row* arrays (first axis: one row per result, in the
order of ``outs``) and *meta* arrays (``keys`` naming the columns of ``values``; ``grids``,
the distinct frequency grids ``grid_of`` points into). Rows are widened with NaN (and
False, "", -1) to the widest row, and each row keeps its own length, so trimming a block
to some of its rows gives exactly what reading those results alone would give.

Two kinds of block: ``numbers`` (everything of a result but its spectrum, float64) and
``spectra`` (magnitude and phase as float32: what plots draw; the exact values stay in
the store). Files are ``.npz`` written uncompressed, so the big arrays are memory-mapped
on reading instead of copied.
"""

from __future__ import annotations

import os
import struct
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..atomic import atomic_path, current_umask

Array = npt.NDArray[Any]
Block = dict[str, Array]

FORMAT = 1
# what a result holds besides a custom model's own top-level numbers (output.*)
KNOWN_KEYS = frozenset({"parameters", "fluid", "natural_frequencies", "spectrum", "stable",
                        "derived", "model"})
STAT_FIELDS = 4  # (st_dev, st_ino, st_size, st_mtime_ns) of result.json: which file a row was read from

# row arrays per kind, with the value that pads them
ROWS: dict[str, dict[str, Any]] = {
    "numbers": {"outs": "", "stat": -1, "natural_frequency": np.nan, "n_modes": -1,
                "fluid_density": np.nan, "speed_of_sound": np.nan, "stable": np.nan,
                "model_name": "", "model_version": "", "model_given": False,
                "values": np.nan, "present": False},
    "spectra": {"outs": "", "stat": -1, "grid_of": -1, "magnitude": np.nan, "phase": np.nan,
                "magnitude_len": 0, "phase_len": 0},
}
# row arrays whose second axis is as wide as the longest row (length in the named array)
WIDTH = {"natural_frequency": "n_modes", "magnitude": "magnitude_len", "phase": "phase_len"}


def _num(x: Any) -> float:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) else np.nan


def _floats(values: Any) -> list[float] | None:
    """A JSON list as floats (odd entries of a custom model: NaN); None if not a list."""
    if not isinstance(values, list):
        return None
    try:
        return [float(v) for v in values]  # the usual case: all numbers, one C loop
    except (TypeError, ValueError):
        return [_num(v) for v in values]


def _padded(rows: Sequence[Sequence[float] | Array | None], dtype: Any = np.float64) -> Array:
    width = max((len(r) for r in rows if r is not None), default=0)
    out = np.full((len(rows), width), np.nan, dtype=dtype)
    for i, r in enumerate(rows):
        if r is not None and len(r):
            out[i, : len(r)] = r
    return out


def _text(values: Sequence[str]) -> Array:
    return np.asarray(list(values), dtype=str) if values else np.zeros(0, dtype="<U1")


def numbers_row(result: dict[str, Any]) -> dict[str, Any]:
    """What the dataset takes from one result, spectrum aside (a custom model's odd
    entries become NaN, never an error)."""
    fluid = result.get("fluid")
    fluid = fluid if isinstance(fluid, dict) else {}
    model = result.get("model")
    model = model if isinstance(model, dict) else {}
    given = bool(model)
    extra: dict[str, float] = {}
    derived = result.get("derived")
    if isinstance(derived, dict):
        extra.update((f"derived.{k}", _num(v)) for k, v in derived.items())
    for key, value in result.items():  # a custom model's own numbers
        if key not in KNOWN_KEYS and isinstance(value, (int, float)) and not isinstance(value, bool):
            extra[f"output.{key}"] = float(value)
    stable = result.get("stable")
    return {
        "natural_frequency": _floats(result.get("natural_frequencies")),
        "fluid_density": _num(fluid.get("density")),
        "speed_of_sound": _num(fluid.get("speed_of_sound")),
        "stable": 1.0 if stable is True else 0.0 if stable is False else np.nan,
        "model_name": str(model.get("name") or "") if given else "",
        "model_version": str(model.get("version") or "") if given else "",
        "model_given": given,
        "extra": extra,
    }


def spectra_row(result: dict[str, Any]) -> dict[str, Any]:
    """The spectrum of one result as arrays (float32 but the grid: thousands of rows are kept
    until the block is made, so no Python lists)."""
    spectrum = result.get("spectrum")
    spectrum = spectrum if isinstance(spectrum, dict) else {}

    def array(key: str, dtype: Any) -> Array | None:
        values = _floats(spectrum.get(key))
        return np.asarray(values, dtype=dtype) if values else None

    return {"grid": array("frequency", np.float64), "magnitude": array("magnitude", np.float32),
            "phase": array("phase", np.float32)}


def numbers_block(outs: Sequence[str], stats: Array, rows: Sequence[dict[str, Any]]) -> Block:
    n = len(rows)
    keys = sorted(set().union(*(r["extra"] for r in rows)))
    col = {k: j for j, k in enumerate(keys)}
    values = np.full((n, len(keys)), np.nan)
    present = np.zeros((n, len(keys)), dtype=bool)
    for i, r in enumerate(rows):
        for k, v in r["extra"].items():
            values[i, col[k]] = v
            present[i, col[k]] = True
    nat = [r["natural_frequency"] for r in rows]
    return {
        "outs": _text(outs), "stat": np.asarray(stats, dtype=np.int64).reshape(n, STAT_FIELDS),
        "natural_frequency": _padded(nat),
        "n_modes": np.asarray([len(v) if v is not None else -1 for v in nat], dtype=np.int32),
        **{k: np.asarray([r[k] for r in rows], dtype=float)
           for k in ("fluid_density", "speed_of_sound", "stable")},
        "model_name": _text([r["model_name"] for r in rows]),
        "model_version": _text([r["model_version"] for r in rows]),
        "model_given": np.asarray([r["model_given"] for r in rows], dtype=bool),
        "keys": _text(keys), "values": values, "present": present,
    }


def spectra_block(outs: Sequence[str], stats: Array, rows: Sequence[dict[str, Any]]) -> Block:
    n = len(rows)
    grids: dict[bytes, int] = {}
    grid_rows: list[Array] = []
    grid_of = np.full(n, -1, dtype=np.int32)
    for i, r in enumerate(rows):
        if r["grid"] is None:
            continue
        key = r["grid"].tobytes()
        if key not in grids:
            grids[key] = len(grid_rows)
            grid_rows.append(r["grid"])
        grid_of[i] = grids[key]
    mag = [r["magnitude"] for r in rows]
    pha = [r["phase"] for r in rows]
    return {
        "outs": _text(outs), "stat": np.asarray(stats, dtype=np.int64).reshape(n, STAT_FIELDS),
        "grids": _padded(grid_rows),
        "grid_len": np.asarray([len(g) for g in grid_rows], dtype=np.int32),
        "grid_of": grid_of,
        "magnitude": _padded(mag, np.float32), "phase": _padded(pha, np.float32),
        "magnitude_len": np.asarray([len(v) if v is not None else 0 for v in mag], dtype=np.int32),
        "phase_len": np.asarray([len(v) if v is not None else 0 for v in pha], dtype=np.int32),
    }


def size(block: Block) -> int:
    return len(block["outs"])


def _widen(a: Array, width: int, fill: Any) -> Array:
    if a.ndim < 2 or a.shape[1] >= width:
        return a
    pad = np.full((a.shape[0], width - a.shape[1]), fill, dtype=a.dtype)
    return np.concatenate([a, pad], axis=1)


def _fill_dtype(a: Array, fill: Any) -> Any:
    return np.result_type(a.dtype, np.asarray(fill).dtype) if a.dtype.kind == "U" else a.dtype


def concat(kind: str, blocks: Sequence[Block]) -> Block:
    """One block with the rows of ``blocks`` in order (meta arrays merged)."""
    blocks = [b for b in blocks if size(b)] or list(blocks[:1])
    if len(blocks) == 1:
        return blocks[0]
    blocks = [_merge_keys(blocks, b) if kind == "numbers" else _merge_grids(blocks, b, k)
              for k, b in enumerate(blocks)]
    out: Block = {}
    for name, fill in ROWS[kind].items():
        arrays = [b[name] for b in blocks]
        width = max((a.shape[1] for a in arrays if a.ndim == 2), default=0)
        out[name] = np.concatenate([_widen(a, width, fill) for a in arrays], axis=0)
    out.update({k: v for k, v in blocks[0].items() if k not in out})
    return out


def _merge_keys(blocks: Sequence[Block], b: Block) -> Block:
    """``b`` with its ``values``/``present`` columns laid out on the union of all keys."""
    keys = sorted(set().union(*(set(x["keys"].tolist()) for x in blocks)))
    if b["keys"].tolist() == keys:
        return b
    col = [keys.index(k) for k in b["keys"].tolist()]
    values = np.full((size(b), len(keys)), np.nan)
    present = np.zeros((size(b), len(keys)), dtype=bool)
    values[:, col], present[:, col] = b["values"], b["present"]
    return {**b, "keys": _text(keys), "values": values, "present": present}


def _merge_grids(blocks: Sequence[Block], b: Block, k: int) -> Block:
    """``b`` with ``grid_of`` pointing into the grids of all blocks, first block first."""
    grids: list[Array] = []
    where: dict[bytes, int] = {}
    remap: list[Array] = []
    for x in blocks:
        m = np.zeros(len(x["grid_len"]), dtype=np.int32)
        for g, n in enumerate(x["grid_len"].tolist()):
            row = np.ascontiguousarray(x["grids"][g, :n])
            key = row.tobytes()
            if key not in where:
                where[key] = len(grids)
                grids.append(row)
            m[g] = where[key]
        remap.append(m)
    grid_of = np.where(b["grid_of"] >= 0, remap[k][np.maximum(b["grid_of"], 0)], -1).astype(np.int32)
    return {**b, "grid_of": grid_of, "grids": _padded(grids),
            "grid_len": np.asarray([len(g) for g in grids], dtype=np.int32)}


def take(kind: str, block: Block, rows: Array) -> Block:
    """The block's rows ``rows`` (-1: an empty row), trimmed to the widest of them.

    All rows in order gives the block itself (no copy of memory-mapped arrays)."""
    n = size(block)
    rows = np.asarray(rows, dtype=np.intp)
    if len(rows) == n and (n == 0 or np.array_equal(rows, np.arange(n))):
        out = dict(block)
    else:
        out = dict(block)
        empty = rows < 0
        for name, fill in ROWS[kind].items():
            a = block[name]
            picked = a[np.where(empty, 0, rows)] if n else np.zeros((len(rows), *a.shape[1:]),
                                                                    dtype=_fill_dtype(a, fill))
            if empty.any():
                picked = picked.astype(_fill_dtype(picked, fill), copy=False)
                picked[empty] = fill
            out[name] = picked
    for name, length in WIDTH.items():
        if name in out:
            width = int(max(out[length].max(initial=0), 0))
            out[name] = out[name][:, :width]
    return out


# -- files ------------------------------------------------------------------------------

def save(path: Path, kind: str, block: Block) -> None:
    """Write ``block`` to ``path`` atomically (an uncompressed .npz: no pickles)."""
    # never writable by others, whatever the file it replaces was: load() would refuse it
    with atomic_path(path, mode=0o644 & ~current_umask()) as tmp, open(tmp, "wb") as fh:
        arrays: dict[str, Any] = {"kind": np.asarray(kind), "format": np.asarray(FORMAT), **block}
        np.savez(fh, **arrays)


def load(path: Path, kind: str) -> Block | None:
    """The block in ``path``, or None if it is absent, not ours or not consistent.

    A file someone else owns or may write is not trusted (it could claim any numbers for
    a store path); one that does not add up is ignored: the caller reads the store again.
    """
    try:
        st = os.stat(path)
        if st.st_uid != os.geteuid() or st.st_mode & 0o022:
            return None
        block = _read_npz(path)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile, struct.error):
        return None
    found = (str(block.pop("kind", "")), int(block.pop("format", -1)))
    if found != (kind, FORMAT):
        return None
    return block if _consistent(kind, block) else None


def _consistent(kind: str, b: Block) -> bool:
    names = set(ROWS[kind]) | ({"keys"} if kind == "numbers" else {"grids", "grid_len"})
    if set(b) != names:
        return False
    n = size(b)
    if any(len(b[k]) != n for k in ROWS[kind]) or b["outs"].dtype.kind != "U":
        return False
    if b["stat"].shape != (n, STAT_FIELDS):
        return False
    for name, length in WIDTH.items():
        if name in b and (b[name].ndim != 2 or b[length].max(initial=0) > b[name].shape[1]):
            return False
    if kind == "numbers":
        k = len(b["keys"])
        return b["values"].shape == (n, k) and b["present"].shape == (n, k)
    g = len(b["grid_len"])
    return (b["grids"].ndim == 2 and len(b["grids"]) == g
            and int(b["grid_of"].max(initial=-1)) < g
            and int(b["grid_len"].max(initial=0)) <= b["grids"].shape[1])


def _read_npz(path: Path) -> Block:
    """The arrays of an .npz; stored (uncompressed) members are memory-mapped, not read."""
    out: Block = {}
    with zipfile.ZipFile(path) as z, open(path, "rb") as fh:
        for info in z.infolist():
            name = info.filename.removesuffix(".npy")
            if info.compress_type != zipfile.ZIP_STORED:
                with z.open(info) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False)
                continue
            fh.seek(info.header_offset)
            local = fh.read(30)
            name_len, extra_len = struct.unpack("<HH", local[26:30])
            fh.seek(info.header_offset + 30 + name_len + extra_len)
            version = np.lib.format.read_magic(fh)
            if version == (1, 0):
                shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh)
            else:
                shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh)
            if dtype.hasobject:
                raise ValueError(f"{path}: {name} holds Python objects")
            if dtype.itemsize * int(np.prod(shape)) < 1 << 22:  # small: a copy is cheaper
                with z.open(info) as member:
                    out[name] = np.lib.format.read_array(member, allow_pickle=False)
            else:
                out[name] = np.memmap(path, dtype=dtype, mode="r", offset=fh.tell(), shape=shape,
                                      order="F" if fortran else "C")
    return out
