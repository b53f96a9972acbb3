"""Merged results of a sweep: one labelled dataset, sensitivities, exports with provenance.

``load_dataset`` reads a run's manifest and the points' results into an
``xarray.Dataset``; ``sensitivities`` differentiates the natural frequencies over the
grid; ``export`` writes the formats of ``EXPORT_FORMATS``. ``load_results`` /
``load_summary`` give many points' results as columns, fast (cached per sweep in its
state folder; ``write_summary`` brings that cache up to date when a run ends). No Qt here:
the CLI and the GUI share it.
"""

from ..nix.plan import default_state_dir
from ..nix.store import ResultError, read_result
from ._calibration import Calibration, CalibrationError, Coefficient, calibrate
from ._dataset import load_dataset
from ._export import EXPORT_FORMATS, FORMATS, ExportFormat, export, format_from_path, read_csv, to_json_obj
from ._gradient import grid_gradient
from ._sensitivity import Sensitivity, SensitivityList, grid_index, sensitivities, sensitivity_fields
from ._source import ResultsError, read_manifest
from ._summary import ResultTable, load_point_results, load_results, load_summary, write_summary
from ._units import UserUnit, user_unit
from .layout import SweepLayout, line_samples, line_through, local_slope, sweep_coordinates, swept_columns
from .points import PointResult, SpectraStore, load_point_result, summarize_result
from .rows import PointRow, PointRows, modes_at_nodes, point_node_modes

__all__ = [
    "EXPORT_FORMATS",
    "FORMATS",
    "Calibration",
    "CalibrationError",
    "Coefficient",
    "ExportFormat",
    "PointResult",
    "PointRow",
    "PointRows",
    "ResultError",
    "ResultTable",
    "ResultsError",
    "Sensitivity",
    "SensitivityList",
    "SpectraStore",
    "SweepLayout",
    "UserUnit",
    "calibrate",
    "default_state_dir",
    "export",
    "format_from_path",
    "grid_gradient",
    "grid_index",
    "line_samples",
    "line_through",
    "load_dataset",
    "load_point_result",
    "load_point_results",
    "load_results",
    "load_summary",
    "local_slope",
    "modes_at_nodes",
    "point_node_modes",
    "read_csv",
    "read_manifest",
    "read_result",
    "sensitivities",
    "sensitivity_fields",
    "summarize_result",
    "sweep_coordinates",
    "swept_columns",
    "to_json_obj",
    "user_unit",
    "write_summary",
]
