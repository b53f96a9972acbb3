"""Merged results of a sweep: one labelled dataset, sensitivities, exports with provenance.

``load_dataset`` reads a run's manifest and the points' results into an
``xarray.Dataset``; ``sensitivities`` differentiates the natural frequencies over the
grid; ``export`` writes CSV, netCDF or JSON. No Qt here: the CLI and the GUI share it.
"""

from ._calibration import Calibration, CalibrationError, Coefficient, calibrate
from ._dataset import load_dataset
from ._export import FORMATS, export, format_from_path, read_csv, to_json_obj
from ._gradient import grid_gradient
from ._sensitivity import Sensitivity, SensitivityList, grid_index, sensitivities, sensitivity_fields
from ._source import (
    ResultsError,
    default_state_dir,
    read_manifest,
    read_result_file,
    read_result_summary,
)
from ._units import UserUnit, user_unit
from .layout import SweepLayout, line_samples, line_through, local_slope, sweep_coordinates, swept_columns
from .points import PointResult, SpectraStore, load_point_result, summarize_result
from .rows import PointRow, PointRows, modes_at_nodes, point_node_modes

__all__ = [
    "PointResult",
    "PointRow",
    "PointRows",
    "SpectraStore",
    "SweepLayout",
    "line_samples",
    "line_through",
    "load_point_result",
    "local_slope",
    "modes_at_nodes",
    "point_node_modes",
    "summarize_result",
    "sweep_coordinates",
    "swept_columns",
    "FORMATS",
    "Calibration",
    "CalibrationError",
    "Coefficient",
    "ResultsError",
    "Sensitivity",
    "SensitivityList",
    "UserUnit",
    "calibrate",
    "default_state_dir",
    "export",
    "format_from_path",
    "grid_gradient",
    "grid_index",
    "load_dataset",
    "read_csv",
    "read_manifest",
    "read_result_file",
    "read_result_summary",
    "sensitivities",
    "sensitivity_fields",
    "to_json_obj",
    "user_unit",
]
