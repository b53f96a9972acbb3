"""Colour scales for "colour by parameter": Qt-free numpy, shared by the spectra and the colour bar.

Colours are quantised into a few buckets on purpose: each bucket is one graphics item holding
all its curves, so a thousand spectra cost a handful of items (see DESIGN.md, plotting notes).
"""

from __future__ import annotations

import math

import numpy as np

from sweepgui.results.display import spans_decades

# viridis control points (matplotlib's, sampled at 9 stops): perceptually uniform, colour-blind safe
_VIRIDIS = np.array([
    [68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
    [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37],
], dtype=float)
COLORMAP_NAME = "viridis"
# lines told apart by colour (matplotlib's tab10): the f_n lines of different parameter values
LINE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
                "#7f7f7f", "#bcbd22", "#17becf")


def colour_table(n: int) -> np.ndarray:
    """``n`` RGB colours (uint8, shape (n, 3)) evenly along the colour map."""
    stops = np.linspace(0.0, 1.0, len(_VIRIDIS))
    t = np.linspace(0.0, 1.0, max(n, 1))
    return np.stack([np.interp(t, stops, _VIRIDIS[:, c]) for c in range(3)], axis=1).round().astype(np.uint8)


class ColourScale:
    """Maps parameter values to one of ``n_buckets`` colours.

    Parameters
    ----------
    values:
        The values the parameter takes in the sweep (known from the plan, so colours are stable
        while points arrive). Non-numeric values (e.g. a swept fluid name) map by their rank.
    n_buckets:
        Number of distinct colours (graphics items).
    log:
        Spread positive values over a log scale; None (default): when they span decades
        (positive, max/min >= 100, e.g. a logspace sweep), else a linear scale would give
        nearly every value the colour of the largest.
    """

    def __init__(self, values, n_buckets: int = 16, log: bool | None = None) -> None:
        self.n_buckets = n_buckets
        self.categories: list | None = None
        nums = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if values and len(nums) < len(values):
            # categorical: each distinct value its own rank
            self.categories = list(dict.fromkeys(values))
            self.lo, self.hi, self.log = 0.0, float(max(len(self.categories) - 1, 1)), False
        else:
            finite = [float(v) for v in nums if math.isfinite(v)]
            self.lo = min(finite) if finite else 0.0
            self.hi = max(finite) if finite else 1.0
            if log is None:
                log = spans_decades(finite)
            self.log = bool(log and self.lo > 0)
        self.colours = colour_table(n_buckets)

    def position(self, value) -> float:
        """Where ``value`` lies on the scale, 0..1."""
        if self.categories is not None:
            x = float(self.categories.index(value)) if value in self.categories else 0.0
            lo, hi = self.lo, self.hi
        else:
            x, lo, hi = float(value), self.lo, self.hi
            if self.log:
                x, lo, hi = math.log10(max(x, 1e-300)), math.log10(lo), math.log10(hi)
        if hi <= lo:
            return 0.5
        return min(max((x - lo) / (hi - lo), 0.0), 1.0)

    def bucket(self, value) -> int:
        return min(int(self.position(value) * self.n_buckets), self.n_buckets - 1)

    def colour(self, value) -> tuple[int, int, int]:
        return tuple(int(c) for c in self.colours[self.bucket(value)])
