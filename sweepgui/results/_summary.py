"""A sweep's results as columns, cached in its state folder: re-opening reads two files.

Each point's ``result.json`` holds a whole spectrum (thousands of numbers), and parsing
10,000 of them takes ~20 s. So the first read of a sweep's results also writes them, as
columns, into the sweep's state folder:

- ``results.npz``: everything the dataset takes from a result but the spectrum (float64);
- ``spectra.npz``: magnitude and phase as float32 (what plots draw; exact values stay in
  the store), with the frequency grids they share.

Both are a cache, never the truth: each row names the store path it was read from and
the identity of that ``result.json`` (device, inode, size, modification time). A row is
used only while its store path is asked for and its file is still that file; any other row
is read from the store again, and the files are rewritten atomically when something new
was read. A file that is not the user's own, or does not add up, is ignored and rebuilt.

``load_results(outs, state_dir)`` is the fast, Qt-free reader of any set of results (the
GUI's cached-points loader); ``load_summary`` / ``write_summary`` do the same for the
finished points of a sweep's manifest (whoever finishes a run calls ``write_summary``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..nix.store import RESULT_NAME, ResultError, read_result
from . import _columns as col
from ._columns import Array, Block
from .points import PointResult

FILES = {"numbers": "results.npz", "spectra": "spectra.npz"}
DONE = ("built", "cached")

# (state folder or "", kind) -> (identity of the file it came from, block): a process that
# loads again (the GUI while a run streams in) pays only for what is new
_MEMO: dict[tuple[str, str], tuple[tuple[int, ...] | None, Block]] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class ResultTable:
    """Results of some points as columns: row ``i`` is the result in ``outs[i]``.

    Attributes
    ----------
    outs : tuple of str
        Store paths, in the order asked for.
    errors : tuple of str
        "" where the row holds its result, else why not (missing, corrupt: the store is
        the truth); such rows are NaN.
    natural_frequency : ndarray (rows, modes)
        Hz, NaN beyond a row's own ``mode_count`` entries.
    mode_count : ndarray (rows,)
        Entries of the result's ``natural_frequencies``; -1 where it has none.
    fluid_density, speed_of_sound, stable : ndarray (rows,)
        kg/m3, m/s, 1.0/0.0 (NaN: not said).
    model_name, model_version : ndarray (rows,) of str; model_given : ndarray of bool
        The model a result names (``model_given`` False: it names none).
    numbers : dict
        ``derived.NAME`` and a custom model's own ``output.NAME`` -> (rows,) float64, NaN
        where absent; ``present`` says which rows have the key at all.
    frequency_grids : ndarray (grids, samples) or None
        The distinct frequency grids of the spectra (Hz), NaN-padded to the longest; None
        unless spectra were asked for. ``grid_sizes[g]``: grid g's length; ``grid_of[i]``:
        row i's grid (-1: no spectrum).
    magnitude, phase : ndarray (rows, samples), float32, or None
        The spectra (m/N, rad), NaN-padded.
    index : ndarray (rows,) or None
        The sweep's point index of each row (``load_summary``).
    """

    outs: tuple[str, ...]
    errors: tuple[str, ...]
    natural_frequency: Array
    mode_count: Array
    fluid_density: Array
    speed_of_sound: Array
    stable: Array
    model_name: Array
    model_version: Array
    model_given: Array
    numbers: dict[str, Array]
    present: dict[str, Array]
    frequency_grids: Array | None = None
    grid_sizes: Array | None = None
    grid_of: Array | None = None
    magnitude: Array | None = None
    phase: Array | None = None
    index: Array | None = field(default=None)

    def __len__(self) -> int:
        return len(self.outs)

    @property
    def ok(self) -> Array:
        """Which rows hold their result."""
        return np.asarray([not e for e in self.errors], dtype=bool)

    def frequency(self, row: int) -> Array:
        """Row ``row``'s frequency grid (Hz); empty without a spectrum."""
        if self.grid_of is None or self.frequency_grids is None or self.grid_sizes is None:
            return np.zeros(0)
        g = int(self.grid_of[row])
        return self.frequency_grids[g, : int(self.grid_sizes[g])] if g >= 0 else np.zeros(0)

    def spectrum(self, row: int) -> tuple[Array, Array]:
        """Row ``row``'s (frequency, magnitude) over its own grid (empty without a spectrum)."""
        f = self.frequency(row)
        if self.magnitude is None:
            return f, np.zeros(0, dtype=np.float32)
        return f, np.asarray(self.magnitude[row, : len(f)])

    def log_magnitude(self) -> Array:
        """log10 of the magnitudes (float32, what the plots draw); NaN where not positive."""
        if self.magnitude is None:
            raise ValueError("this table was loaded without spectra (spectra=True)")
        m = np.asarray(self.magnitude)
        with np.errstate(divide="ignore", invalid="ignore"):
            out: Array = np.log10(m, where=m > 0, out=np.full(m.shape, np.nan, dtype=np.float32))
        return out


def load_results(outs: Sequence[str], state_dir: str | os.PathLike[str] | None = None, *,
                 spectra: bool = False, keep: set[str] | None = None,
                 cache: bool = True) -> ResultTable:
    """The results in these store paths as columns (row i = ``outs[i]``), fast.

    Parameters
    ----------
    outs
        Store paths holding a ``result.json`` (a manifest point's ``out``).
    state_dir
        The sweep's state folder, where the columns are cached (None: this process only).
    spectra
        Also the spectra (float32). Their first read costs ~2 ms per point; after that
        they are memory-mapped from the state folder.
    keep
        The store paths the cache may keep (a manifest's): rows of others are dropped
        when the cache is rewritten. None keeps every row that is still valid.
    cache
        False: read every result from the store, and neither use nor update the cache.
    """
    outs = [str(o) for o in outs]
    if state_dir is None and keep is None:
        keep = set(outs)  # this process's copy holds what was last asked for, no more
    stats = _stats(outs)
    kinds = ("numbers", "spectra") if spectra else ("numbers",)
    cached = {kind: _cached(state_dir, kind) if cache else None for kind in kinds}
    rows = {kind: _rows_of(cached[kind], outs, stats) for kind in kinds}
    todo = sorted(set().union(*(set(np.flatnonzero(r < 0).tolist()) for r in rows.values())))
    fresh, errors = _read(outs, stats, todo, spectra)
    blocks = {}
    for kind in kinds:
        block, where = _merged(kind, cached[kind], rows[kind], fresh[kind], outs, keep)
        before = cached[kind]
        pruned = before is not None and col.size(block) < col.size(before)
        if cache and (fresh[kind][0] or pruned):
            _store(state_dir, kind, block)
        blocks[kind] = col.take(kind, block, where)
    return _table(outs, errors, blocks)


def load_point_results(points: Sequence[tuple[int, str]],
                       state_dir: str | os.PathLike[str] | None = None
                       ) -> list[tuple[int, PointResult | None, str]]:
    """What the plots need of many points at once: per (index, store path), ``(index,
    PointResult, "")`` or ``(index, None, why its result cannot be read)``.

    The batch form of ``points.load_point_result`` (which parses one result.json: ~2 ms a
    point): after the first read of a sweep, 10,000 points take a fraction of a second. Points
    on one frequency grid share one read-only array, as ``summarize_result`` makes them.
    """
    table = load_results([path for _, path in points], state_dir, spectra=True)
    assert table.frequency_grids is not None and table.grid_sizes is not None
    assert table.grid_of is not None
    logm = table.log_magnitude()
    grids = []
    for g, n in enumerate(table.grid_sizes.tolist()):
        grid = np.array(table.frequency_grids[g, :n], dtype=float)
        grid.setflags(write=False)
        grids.append(grid)
    empty = np.zeros(0)
    # plain lists: indexing them per row costs far less than indexing (memory-mapped) arrays
    grid_of, counts = table.grid_of.tolist(), table.mode_count.tolist()
    nat, stable = table.natural_frequency.tolist(), (np.asarray(table.stable) != 0.0).tolist()
    out: list[tuple[int, PointResult | None, str]] = []
    for row, (index, _) in enumerate(points):
        if table.errors[row]:
            out.append((index, None, table.errors[row]))
            continue
        g = grid_of[row]
        f = grids[g] if g >= 0 else empty
        out.append((index, PointResult(index, f, logm[row, : len(f)],
                                       tuple(nat[row][: max(counts[row], 0)]), stable[row]), ""))
    return out


def load_summary(state_dir: str | os.PathLike[str], manifest: dict[str, Any] | None = None, *,
                 spectra: bool = True) -> ResultTable:
    """The finished points of a sweep (its manifest's built and cached points, in index
    order) as columns; ``table.index`` holds their point indices.

    ``manifest``: the state folder's own when None (ResultsError if it has none).
    """
    from ._source import read_manifest

    data = manifest if manifest is not None else read_manifest(state_dir)
    done = [(p["index"], str(p["out"])) for p in data.get("points") or []
            if p.get("status") in DONE and p.get("out")]
    done.sort()
    keep = {str(p["out"]) for p in data.get("points") or [] if p.get("out")}
    table = load_results([o for _, o in done], state_dir, spectra=spectra, keep=keep)
    return _with_index(table, np.asarray([i for i, _ in done], dtype=np.int64))


def write_summary(state_dir: str | os.PathLike[str], manifest: dict[str, Any] | None = None) -> Path:
    """Bring the state folder's result columns up to date with its manifest (reads only
    what is new); returns the folder. Call it when a run ends, so that re-opening is fast."""
    load_summary(state_dir, manifest, spectra=True)
    return Path(state_dir)


# -- steps ------------------------------------------------------------------------------

def _stats(outs: Sequence[str]) -> Array:
    """Per store path, the identity of its result.json (-1s: cannot be read)."""
    out = np.full((len(outs), col.STAT_FIELDS), -1, dtype=np.int64)
    for i, o in enumerate(outs):
        try:
            st = os.stat(os.path.join(o, RESULT_NAME))
        except (OSError, ValueError):
            continue
        out[i] = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def _file_identity(path: Path) -> tuple[int, ...] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def _cached(state_dir: str | os.PathLike[str] | None, kind: str) -> Block | None:
    """The rows cached for ``kind``: this process's copy while the file is unchanged."""
    key = (str(state_dir) if state_dir is not None else "", kind)
    path = Path(state_dir) / FILES[kind] if state_dir is not None else None
    ident = _file_identity(path) if path is not None else None
    with _LOCK:
        memo = _MEMO.get(key)
    if memo is not None and (path is None or memo[0] == ident):
        return memo[1]
    block = col.load(path, kind) if path is not None and ident is not None else None
    if block is not None:
        with _LOCK:
            _MEMO[key] = (ident, block)
    return block


def _rows_of(block: Block | None, outs: Sequence[str], stats: Array) -> Array:
    """Per asked store path, its row in ``block`` if that row was read from the same
    result file (else -1)."""
    rows = np.full(len(outs), -1, dtype=np.intp)
    if block is None or not len(outs):
        return rows
    where = {o: i for i, o in enumerate(block["outs"].tolist())}
    found = np.asarray([where.get(o, -1) for o in outs], dtype=np.intp)
    hit = found >= 0
    same = np.zeros(len(outs), dtype=bool)
    same[hit] = (np.asarray(block["stat"])[found[hit]] == stats[hit]).all(axis=1)
    same &= stats[:, 0] >= 0
    rows[same] = found[same]
    return rows


def _read(outs: Sequence[str], stats: Array, todo: Sequence[int], spectra: bool
          ) -> tuple[dict[str, tuple[list[int], Block | None]], list[str]]:
    """Read the results ``todo`` (positions in ``outs``) from the store: per kind (the
    positions read, their block), and the error of each position ("" if none)."""
    errors = [""] * len(outs)
    good: list[int] = []
    numbers, spectra_rows = [], []
    for i in todo:
        try:
            result = read_result(outs[i], spectrum=spectra)
        except ResultError as exc:
            errors[i] = str(exc)
            continue
        good.append(i)
        numbers.append(col.numbers_row(result))
        if spectra:
            spectra_rows.append(col.spectra_row(result))
    these = [outs[i] for i in good]
    fresh: dict[str, tuple[list[int], Block | None]] = {
        "numbers": (good, col.numbers_block(these, stats[good], numbers) if good else None)}
    if spectra:
        fresh["spectra"] = (good, col.spectra_block(these, stats[good], spectra_rows) if good else None)
    return fresh, errors


def _merged(kind: str, cached: Block | None, rows: Array, fresh: tuple[list[int], Block | None],
            outs: Sequence[str], keep: set[str] | None) -> tuple[Block, Array]:
    """The block to keep (the asked rows first, in order, then other cached rows still
    wanted) and, per asked store path, its row in it (-1: no result)."""
    positions, new = fresh
    rows = rows.copy()
    rows[positions] = -1  # read again (the spectra were wanted): the fresh row replaces it
    if new is None and cached is not None and np.array_equal(rows, np.arange(col.size(cached))):
        return cached, rows  # the usual re-open: every row cached, in order
    parts: list[Block] = []
    where = np.full(len(outs), -1, dtype=np.intp)
    pick = np.flatnonzero(rows >= 0)
    if cached is not None and len(pick):
        parts.append(col.take(kind, cached, rows[pick]))
        where[pick] = np.arange(len(pick))
    if new is not None:
        where[positions] = len(pick) + np.arange(len(positions))
        parts.append(new)
    if cached is not None:
        wanted = set(outs)
        others = [i for i, o in enumerate(cached["outs"].tolist())
                  if o not in wanted and (keep is None or o in keep)]
        if others:
            parts.append(col.take(kind, cached, np.asarray(others)))
    if not parts:
        return _empty(kind), where
    block = col.concat(kind, parts)
    # the asked rows first, in the order asked: the next identical request (a re-open)
    # takes the file's arrays as they are, without a copy
    asked = where >= 0
    first = int(asked.sum())
    order = np.concatenate([where[asked], np.arange(first, col.size(block))])
    if not np.array_equal(order, np.arange(col.size(block))):
        block = col.take(kind, block, order)
        where[asked] = np.arange(first)
    return block, where


def _empty(kind: str) -> Block:
    maker = col.numbers_block if kind == "numbers" else col.spectra_block
    return maker([], np.zeros((0, col.STAT_FIELDS), dtype=np.int64), [])


def _store(state_dir: str | os.PathLike[str] | None, kind: str, block: Block) -> None:
    key = (str(state_dir) if state_dir is not None else "", kind)
    ident = None
    if state_dir is not None:
        path = Path(state_dir) / FILES[kind]
        try:
            if Path(state_dir).is_dir():  # never create a state folder just for a cache
                col.save(path, kind, block)
                ident = _file_identity(path)
                (Path(state_dir) / "results-cache.json").unlink(missing_ok=True)  # the old cache
        except OSError:
            return  # a read-only state folder: the columns are a cache, not data
    with _LOCK:
        _MEMO[key] = (ident, block)


def _table(outs: Sequence[str], errors: Sequence[str], blocks: dict[str, Block]) -> ResultTable:
    b = blocks["numbers"]
    keys = b["keys"].tolist()
    s = blocks.get("spectra")
    return ResultTable(
        outs=tuple(outs), errors=tuple(errors),
        natural_frequency=b["natural_frequency"], mode_count=b["n_modes"],
        fluid_density=b["fluid_density"], speed_of_sound=b["speed_of_sound"], stable=b["stable"],
        model_name=b["model_name"], model_version=b["model_version"], model_given=b["model_given"],
        numbers={k: b["values"][:, j] for j, k in enumerate(keys)},
        present={k: b["present"][:, j] for j, k in enumerate(keys)},
        frequency_grids=s["grids"] if s is not None else None,
        grid_sizes=s["grid_len"] if s is not None else None,
        grid_of=s["grid_of"] if s is not None else None,
        magnitude=s["magnitude"] if s is not None else None,
        phase=s["phase"] if s is not None else None,
    )


def _with_index(table: ResultTable, index: Array) -> ResultTable:
    from dataclasses import replace

    return replace(table, index=index)
