"""The grid of a sweep as the results see it, and the lines of the grid along one parameter.

Qt-free: the desktop app's plots, its point table and its slope read-out all index points
through a :class:`SweepLayout`, and the slope comes from the rule ``sweepgui sensitivity``
uses (``slope.gradient_at``), so the app and the CLI never disagree on a derived number.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from sweepgui.sweep import Sweep

from .slope import gradient_at

Coords = tuple[Any, ...]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


def number(v: object) -> float | None:
    """``v`` as a float, or None for text and booleans (a choice is not a coordinate)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def swept_columns(sweep: Sweep) -> list[str]:
    """Dotted paths of the swept parameters, in the sweep's dimension order."""
    return [p for d in sweep.dimensions() for p in d.paths]


def sweep_coordinates(sweep: Sweep) -> list[Coords]:
    """Values of the swept columns for every point, in the sweep's C order.

    Computed from ``dimensions()`` in one pass (cheap for 10,000 points), without validating points.
    """
    per_dim = []
    for d in sweep.dimensions():
        n = len(d.values[d.paths[0]])
        per_dim.append([tuple(d.values[p][k] for p in d.paths) for k in range(n)])
    if not per_dim:
        return [()]
    return [tuple(itertools.chain.from_iterable(c)) for c in itertools.product(*per_dim)]


class SweepLayout:
    """The grid of a sweep: dimensions, swept columns and each point's coordinates.

    Parameters
    ----------
    dims
        ``[(name, [paths])]`` in the sweep's order (a zip group is one dimension with several paths).
    shape
        Number of values per dimension (points are in C order over them).
    coords
        Values of every swept column for each point (columns = all dims' paths in order).
    """

    def __init__(self, dims: Sequence[tuple[str, list[str]]], shape: Sequence[int],
                 coords: list[Coords]):
        self.dims = list(dims)
        self.shape = tuple(shape)
        self.coords = coords
        self.columns = [p for _, paths in self.dims for p in paths]
        self._dim_of = {p: k for k, (_, paths) in enumerate(self.dims) for p in paths}
        self._multi: IntArray | None = None

    @classmethod
    def from_sweep(cls, sweep: Sweep, coords: list[Coords] | None = None) -> SweepLayout:
        dims = [(d.name, list(d.paths)) for d in sweep.dimensions()]
        shape = tuple(len(d.values[d.paths[0]]) for d in sweep.dimensions())
        return cls(dims, shape, sweep_coordinates(sweep) if coords is None else coords)

    def __len__(self) -> int:
        return len(self.coords)

    def multi_indices(self) -> IntArray:
        """(points, dims) array of every point's grid position (computed once)."""
        if self._multi is None:
            n = len(self.coords)
            self._multi = (np.stack(np.unravel_index(np.arange(n), self.shape), axis=1)
                           if self.shape else np.zeros((n, 0), dtype=np.intp))
        return self._multi

    def group_ids(self, dim: int) -> IntArray:
        """Per point, an id shared by the points that differ only along ``dim``."""
        m = self.multi_indices()
        other = [k for k in range(len(self.shape)) if k != dim]
        if not other:
            return np.zeros(len(m), dtype=np.intp)
        ids: IntArray = np.ravel_multi_index(tuple(m[:, k] for k in other),
                                             tuple(self.shape[k] for k in other))
        return ids

    def numeric_column(self, path: str) -> FloatArray:
        """A column as floats (NaN where a value is not a number)."""
        values = (number(v) for v in self.column_values(path))
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    def value(self, index: int, path: str) -> Any:
        return self.coords[index][self.columns.index(path)]

    def column_values(self, path: str) -> list[Any]:
        k = self.columns.index(path)
        return [c[k] for c in self.coords]

    def dim_of(self, path: str) -> int:
        return self._dim_of[path]

    def multi_index(self, index: int) -> tuple[int, ...]:
        return tuple(int(v) for v in np.unravel_index(index, self.shape)) if self.shape else ()

    def flat_index(self, multi: tuple[int, ...]) -> int | None:
        """The point at grid position ``multi`` (None outside the grid)."""
        if any(not (0 <= m < n) for m, n in zip(multi, self.shape)):
            return None
        return int(np.ravel_multi_index(multi, self.shape))

    def neighbour(self, index: int, dim: int, step: int) -> int | None:
        m = list(self.multi_index(index))
        m[dim] += step
        return self.flat_index(tuple(m))


def line_through(layout: SweepLayout, index: int, path: str) -> tuple[list[int], int]:
    """The points on the line of the grid through ``index`` along the dimension of ``path``
    (in grid order), and the position of ``index`` on it."""
    dim = layout.dim_of(path)
    m = list(layout.multi_index(index))
    line = []
    for k in range(layout.shape[dim]):
        m[dim] = k
        flat = layout.flat_index(tuple(m))
        assert flat is not None  # every position along a dimension is on the grid
        line.append(flat)
    return line, layout.multi_index(index)[dim]


def line_samples(layout: SweepLayout, freqs: dict[int, float], index: int,
                 path: str) -> tuple[FloatArray, FloatArray, int] | None:
    """(f, x, k) along the line through ``index``: f NaN where a point has not finished, x the
    SI values of ``path``, k the position of ``index``; None for a text parameter."""
    line, k = line_through(layout, index, path)
    values = [number(layout.value(i, path)) for i in line]
    if any(v is None for v in values):
        return None
    x = np.array(values, dtype=float)
    if not np.isfinite(x).all():
        return None
    f = np.array([freqs.get(i, np.nan) for i in line], dtype=float)
    return f, x, k


def local_slope(layout: SweepLayout, freqs: dict[int, float], index: int, path: str) -> float | None:
    """d f / d(path) at point ``index`` per SI unit, by the rule of ``sweepgui sensitivity``
    (three-point formula for unequal spacing between its finished neighbours, one-sided at
    an edge or a hole); None when no neighbour has finished."""
    if index not in freqs:
        return None
    samples = line_samples(layout, freqs, index, path)
    if samples is None:
        return None
    g = float(gradient_at(*samples))
    return g if np.isfinite(g) else None
