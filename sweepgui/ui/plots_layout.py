"""The grid of a sweep as the plots see it, and the lines of the grid along one parameter."""

from __future__ import annotations

import numpy as np

from sweepgui.results.slope import gradient_at


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


def line_through(layout: SweepLayout, index: int, path: str) -> tuple[list[int], int]:
    """The points on the line of the grid through ``index`` along the dimension of ``path``
    (in grid order), and the position of ``index`` on it."""
    dim = layout.dim_of(path)
    m = list(layout.multi_index(index))
    line = []
    for k in range(layout.shape[dim]):
        m[dim] = k
        line.append(layout.flat_index(tuple(m)))
    return line, layout.multi_index(index)[dim]


def line_samples(layout: SweepLayout, freqs: dict[int, float], index: int, path: str):
    """(f, x, k) along the line through ``index``: f NaN where a point has not finished, x the
    SI values of ``path``, k the position of ``index``; None for a text parameter."""
    line, k = line_through(layout, index, path)
    x = np.array([_number(layout.value(i, path)) if _number(layout.value(i, path)) is not None
                  else np.nan for i in line])
    if not np.isfinite(x).all():
        return None
    f = np.array([freqs.get(i, np.nan) for i in line], dtype=float)
    return f, x, k


def local_slope(layout: SweepLayout, freqs: dict[int, float], index: int, path: str) -> float | None:
    """d f / d(path) at point ``index`` per SI unit, by the rule of ``sweepgui sensitivity``
    (``sweepgui.results``: three-point formula for unequal spacing between its finished
    neighbours, one-sided at an edge or a hole); None when no neighbour has finished."""
    if index not in freqs:
        return None
    samples = line_samples(layout, freqs, index, path)
    if samples is None:
        return None
    g = float(gradient_at(*samples))
    return g if np.isfinite(g) else None
