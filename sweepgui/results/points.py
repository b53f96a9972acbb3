"""What the plots need of each point's result: compact arrays, and the decimated spectra store.

Qt-free (the GUI's worker threads build these; tests need no display). Why decimate
ourselves: a repaint of 1,000 spectra x 4,000 samples as raw line vertices takes ~250 ms,
but with overlaid curves no one can see detail finer than a pixel anyway. Each spectrum is
reduced to min/max pairs per bin (peaks survive: resonances are what users look at), with the
bin count chosen so that ALL curves together stay under a vertex budget. The budget keeps a
full repaint at ~15 ms; a few curves still get full resolution.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sweepgui.nix.store import read_result

Array = npt.NDArray[Any]
Bounds = tuple[float, float, float, float]
Piece = tuple[Array, Array]

VERTEX_BUDGET = 400_000
MIN_VERTICES, MAX_VERTICES = 128, 8192


@dataclass(frozen=True)
class PointResult:
    """What the plots need of one point's result JSON (loaded off the GUI thread).

    Parameters
    ----------
    index
        The point's index in the sweep.
    frequency
        The spectrum's frequencies (Hz), ascending; points of a sweep share one array.
    log_magnitude
        log10 of the receptance magnitude (m/N), float32; NaN where it is not positive.
    natural_frequencies
        The modes' frequencies (Hz), lowest first.
    stable
        Whether the model found the pipe stable (no buckling, no divergence).
    """

    index: int
    frequency: Array
    log_magnitude: Array
    natural_frequencies: tuple[float, ...]
    stable: bool = True


_grid_lock = threading.Lock()
_last_grid: list[Array | None] = [None]


def _intern_grid(f: Array) -> Array:
    """The same array object for equal frequency grids: the points of a sweep usually share one,
    which saves memory and lets the plots decimate many curves in one numpy call."""
    with _grid_lock:
        g = _last_grid[0]
        if g is not None and g.shape == f.shape and np.array_equal(g, f):
            return g
        f.setflags(write=False)
        _last_grid[0] = f
        return f


def summarize_result(index: int, result: dict[str, Any]) -> PointResult:
    """Reduce a result JSON (the model's result.json) to plot arrays."""
    spec = result.get("spectrum") or {}
    f = np.asarray(spec.get("frequency") or [], dtype=float)
    m = np.asarray(spec.get("magnitude") or [], dtype=float)
    n = min(len(f), len(m))
    f, m = _intern_grid(f[:n].copy()), m[:n]
    with np.errstate(divide="ignore", invalid="ignore"):
        # float32 is plenty for drawing and halves the memory of a 10,000-point sweep
        logm = np.where(m > 0, np.log10(np.where(m > 0, m, 1.0)), np.nan).astype(np.float32)
    nat = tuple(float(x) for x in result.get("natural_frequencies") or ())
    return PointResult(index, f, logm, nat, bool(result.get("stable", True)))


def vertices_per_curve(n_curves: int, budget: int = VERTEX_BUDGET) -> int:
    """Vertex count per curve: a power of two so the level changes rarely while points arrive."""
    if n_curves <= 0:
        return MAX_VERTICES
    v = MAX_VERTICES
    while v > MIN_VERTICES and v * n_curves > budget:
        v //= 2
    return v


def decimate(x: Array, y: Array, n_vertices: int,
             x_range: tuple[float, float] | None = None) -> Piece:
    """Min/max decimation of one curve to about ``n_vertices`` points (x sorted ascending).

    With ``x_range`` only the samples inside it (plus one on each side) are kept, so zooming in
    shows full detail again.
    """
    xo, yo = decimate_many(x, np.asarray(y)[None, :], n_vertices, x_range)
    return xo[0], yo[0]


def decimate_many(x: Array, ys: Array, n_vertices: int,
                  x_range: tuple[float, float] | None = None) -> Piece:
    """``decimate`` for several curves on one x grid (rows of ``ys``) in one numpy pass.

    Returns (xs, ys) of shape (curves, vertices): each bin keeps its minimum and maximum, in x
    order, so peaks survive and the polyline never runs backwards.
    """
    ys = np.asarray(ys)
    if x_range is not None and len(x):
        lo = max(int(np.searchsorted(x, x_range[0])) - 1, 0)
        hi = min(int(np.searchsorted(x, x_range[1])) + 1, len(x))
        x, ys = x[lo:hi], ys[:, lo:hi]
    k, n = ys.shape
    if n <= n_vertices:
        return np.broadcast_to(x, (k, n)), ys
    per = int(np.ceil(n / max(n_vertices // 2, 1)))
    bins = int(np.ceil(n / per))  # so that no bin is padding only
    pad = bins * per - n
    yy = np.concatenate([ys, np.full((k, pad), np.nan, dtype=ys.dtype)], axis=1).reshape(k, bins, per)
    xx = np.concatenate([x, np.full(pad, x[-1])]).reshape(bins, per)
    nan = np.isnan(yy)
    imin = np.argmin(np.where(nan, np.inf, yy), axis=2)
    imax = np.argmax(np.where(nan, -np.inf, yy), axis=2)
    all_nan = nan.all(axis=2)
    first, second = np.minimum(imin, imax), np.maximum(imin, imax)
    r = np.arange(bins)[None, :]
    xo = np.stack([xx[r, first], xx[r, second]], axis=2).reshape(k, 2 * bins)
    rows = np.arange(k)[:, None]
    yo = np.stack([yy[rows, r, first], yy[rows, r, second]], axis=2).reshape(k, 2 * bins)
    yo[np.repeat(all_nan, 2, axis=1)] = np.nan
    return xo, yo


class SpectraStore:
    """All finished spectra, grouped into colour buckets, each bucket one NaN-separated polyline.

    ``add_many`` is O(new curves); ``arrays_for`` concatenates some curves' pieces. ``relevel``
    re-decimates everything when the curve count crosses a budget level or the view range changes.
    """

    def __init__(self, n_buckets: int = 16, budget: int = VERTEX_BUDGET) -> None:
        self.n_buckets = n_buckets
        self.budget = budget
        self.curves: dict[int, PointResult] = {}
        self.bucket_of: dict[int, int] = {}
        self.x_range: tuple[float, float] | None = None
        self.level = vertices_per_curve(0, budget)
        self.expected = 0  # curves known to be on their way (see ``expect``)
        self._pieces: list[dict[int, Piece]] = [{} for _ in range(n_buckets)]
        self._agg: Bounds | None = None

    def __len__(self) -> int:
        return len(self.curves)

    def clear(self) -> None:
        self.curves.clear()
        self.bucket_of.clear()
        self._agg = None
        self._pieces = [{} for _ in range(self.n_buckets)]
        self.expected = 0
        self.level = vertices_per_curve(0, self.budget)

    def expect(self, n_curves: int) -> bool:
        """``n_curves`` curves will be on show (e.g. a sweep's cached points being loaded): take
        their decimation level now, so that no re-decimation of every curve stalls a later
        batch (~80 ms at 1,600 curves). True when the curves on show were re-decimated."""
        self.expected = n_curves
        return self._set_level()

    def _set_level(self) -> bool:
        level = vertices_per_curve(max(len(self.curves), self.expected), self.budget)
        if level == self.level:
            return False
        self.level = level
        self.relevel()
        return True

    def _pieces_of(self, results: Iterable[PointResult]) -> dict[int, Piece]:
        """Decimated polylines of some curves, each ending in NaN (the separator in an item);
        curves sharing a frequency grid are decimated together."""
        groups: dict[int, list[PointResult]] = defaultdict(list)
        for r in results:
            groups[id(r.frequency)].append(r)
        out: dict[int, Piece] = {}
        for group in groups.values():
            ys = np.stack([r.log_magnitude for r in group])
            xs, yd = decimate_many(group[0].frequency, ys, self.level, self.x_range)
            sep = np.full((len(group), 1), np.nan)
            xs = np.concatenate([xs, sep], axis=1)
            yd = np.concatenate([yd, sep], axis=1)
            for k, r in enumerate(group):
                out[r.index] = (xs[k], yd[k])
        return out

    def add_many(self, items: list[tuple[PointResult, int]]) -> bool:
        """Add (result, bucket) pairs; True when every curve was re-decimated (new level)."""
        replaced = False
        for r, b in items:
            old = self.bucket_of.get(r.index)
            if old is not None:
                self._pieces[old].pop(r.index, None)
                replaced = True
            self.curves[r.index] = r
            self.bucket_of[r.index] = b
            if old is None:
                self._update_bounds(self._curve_bounds(r))
        if replaced:
            self._recompute_bounds()
        if self._set_level():
            return True
        for i, piece in self._pieces_of([r for r, _ in items]).items():
            b = self.bucket_of[i]
            self._pieces[b][i] = piece
        return False

    def recolour(self, bucket_of: dict[int, int]) -> None:
        self.bucket_of = {i: bucket_of.get(i, 0) for i in self.curves}
        self.relevel()

    def set_x_range(self, x_range: tuple[float, float] | None) -> None:
        self.x_range = x_range
        self.relevel()

    def relevel(self) -> None:
        self._pieces = [{} for _ in range(self.n_buckets)]
        for i, piece in self._pieces_of(list(self.curves.values())).items():
            self._pieces[self.bucket_of[i]][i] = piece

    def arrays_for(self, indices: Iterable[int]) -> Piece:
        """The NaN-separated polyline of some curves (decimated at the current level)."""
        pieces = [self._pieces[self.bucket_of[i]][i] for i in indices if i in self.bucket_of]
        if not pieces:
            return np.empty(0), np.empty(0)
        xs, ys = zip(*pieces)
        return np.concatenate(xs), np.concatenate(ys)

    def indices_by_bucket(self) -> list[list[int]]:
        out: list[list[int]] = [[] for _ in range(self.n_buckets)]
        for i, b in self.bucket_of.items():
            out[b].append(i)
        return out

    def nearest(self, x: float, y: float, y_tolerance: float) -> int | None:
        """Index of the curve passing closest (vertically, in log10 units) to (x, y), or None."""
        best, best_d = None, y_tolerance
        for i, r in self.curves.items():
            f = r.frequency
            if len(f) < 2 or x < f[0] or x > f[-1]:
                continue
            v = np.interp(x, f, r.log_magnitude)
            d = abs(v - y)
            if d < best_d:
                best, best_d = i, d
        return best

    def bounds(self) -> Bounds | None:
        """(xmin, xmax, ymin, ymax) over every curve, ignoring NaN (kept up to date by ``add``)."""
        return self._agg

    @staticmethod
    def _curve_bounds(r: PointResult) -> Bounds | None:
        finite = np.isfinite(r.log_magnitude)
        if not len(r.frequency) or not finite.any():
            return None
        y = r.log_magnitude[finite]
        return (float(r.frequency[0]), float(r.frequency[-1]), float(y.min()), float(y.max()))

    def _update_bounds(self, b: Bounds | None) -> None:
        if b is None:
            return
        a = self._agg
        self._agg = b if a is None else (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]))

    def _recompute_bounds(self) -> None:
        self._agg = None
        for r in self.curves.values():
            self._update_bounds(self._curve_bounds(r))



def load_point_result(index: int, store_path: str) -> PointResult:
    """Read a built point's result JSON and keep what the plots need (off the GUI thread:
    about 2 ms a point, 20 s for a 10,000-point sweep)."""
    return summarize_result(index, read_result(store_path))
