"""Sweep files (TOML), value generators, Cartesian products and zips -> points.

``load_sweep(path)`` / ``loads_sweep(text)`` read a sweep file, ``save_sweep`` writes one
atomically, and :class:`Sweep` turns it into checked :class:`~sweepgui.params.Parameters`
points. Every problem a user can cause is a :class:`SweepError` naming the file, line and key.
"""

from ._errors import SweepError
from ._load import load_sweep, loads_sweep
from ._spec import GENERATORS, MAX_POINTS, VariableSpec, arange, linspace, logspace
from ._sweep import Dimension, ModelSettings, RunSettings, Sweep
from ._values import EOS
from ._write import save_sweep, toml_key, toml_value
from .draft import DraftError, SweepDraft, generate, plain_errors
from .status import Status

__all__ = [
    "EOS",
    "GENERATORS",
    "MAX_POINTS",
    "Dimension",
    "DraftError",
    "ModelSettings",
    "RunSettings",
    "Sweep",
    "Status",
    "SweepDraft",
    "SweepError",
    "VariableSpec",
    "arange",
    "generate",
    "linspace",
    "load_sweep",
    "loads_sweep",
    "logspace",
    "plain_errors",
    "save_sweep",
    "toml_key",
    "toml_value",
]
