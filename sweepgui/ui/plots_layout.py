"""The grid of a sweep as the plots see it, and the local slope of f_n along one parameter."""

from __future__ import annotations

import numpy as np


class SweepLayout:
    """The grid of a sweep as the plots see it: dimensions, swept columns and each point's coordinates.

    Parameters
    ----------
    dims:
        ``[(name, [paths])]`` in the sweep's order (a zip group is one dimension with several paths).
    shape:
        Number of values per dimension (points are in C order over them).
    coords:
        Values of every swept column for each point (columns = all dims' paths in order).
    """

    def __init__(self, dims: list[tuple[str, list[str]]], shape: tuple[int, ...], coords: list[tuple]):
        self.dims = dims
        self.shape = tuple(shape)
        self.coords = coords
        self.columns = [p for _, paths in dims for p in paths]
        self._dim_of = {p: k for k, (_, paths) in enumerate(dims) for p in paths}

    @classmethod
    def from_sweep(cls, sweep, coords: list[tuple] | None = None) -> SweepLayout:
        dims = [(d.name, list(d.paths)) for d in sweep.dimensions()]
        shape = tuple(len(d.values[d.paths[0]]) for d in sweep.dimensions())
        if coords is None:
            from .points_model import sweep_coordinates

            coords = sweep_coordinates(sweep)
        return cls(dims, shape, coords)

    def __len__(self) -> int:
        return len(self.coords)

    def multi_indices(self) -> np.ndarray:
        """(points, dims) array of every point's grid position (cached)."""
        if getattr(self, "_multi", None) is None:
            n = len(self.coords)
            self._multi = (np.stack(np.unravel_index(np.arange(n), self.shape), axis=1)
                           if self.shape else np.zeros((n, 0), dtype=int))
        return self._multi

    def group_ids(self, dim: int) -> np.ndarray:
        """Per point, an id shared by the points that differ only along ``dim``."""
        m = self.multi_indices()
        other = [k for k in range(len(self.shape)) if k != dim]
        if not other:
            return np.zeros(len(m), dtype=int)
        return np.ravel_multi_index(tuple(m[:, k] for k in other), tuple(self.shape[k] for k in other))

    def numeric_column(self, path: str) -> np.ndarray:
        """A column as floats (NaN where a value is not a number)."""
        return np.array([_number(v) if _number(v) is not None else np.nan
                         for v in self.column_values(path)], dtype=float)

    def value(self, index: int, path: str):
        return self.coords[index][self.columns.index(path)]

    def column_values(self, path: str) -> list:
        k = self.columns.index(path)
        return [c[k] for c in self.coords]

    def dim_of(self, path: str) -> int:
        return self._dim_of[path]

    def multi_index(self, index: int) -> tuple[int, ...]:
        return tuple(int(v) for v in np.unravel_index(index, self.shape)) if self.shape else ()

    def flat_index(self, multi: tuple[int, ...]) -> int | None:
        if any(not (0 <= m < n) for m, n in zip(multi, self.shape)):
            return None
        return int(np.ravel_multi_index(multi, self.shape))

    def neighbour(self, index: int, dim: int, step: int) -> int | None:
        m = list(self.multi_index(index))
        m[dim] += step
        return self.flat_index(tuple(m))


def _number(v) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v)


def local_slope(layout: SweepLayout, freqs: dict[int, float], index: int, path: str) -> float | None:
    """d f / d(path) at point ``index``: central difference between its finished neighbours along
    the dimension of ``path`` (one-sided at an edge); None when no neighbour has finished."""
    if index not in freqs:
        return None
    dim = layout.dim_of(path)
    lo = layout.neighbour(index, dim, -1)
    hi = layout.neighbour(index, dim, +1)
    lo = lo if lo is not None and lo in freqs else index
    hi = hi if hi is not None and hi in freqs else index
    if lo == hi:
        return None
    x0, x1 = _number(layout.value(lo, path)), _number(layout.value(hi, path))
    if x0 is None or x1 is None or x1 == x0:
        return None
    return (freqs[hi] - freqs[lo]) / (x1 - x0)
