"""The built-in vibrating-tube model: one sweep point per process, or in-process.

``python -m sweepgui.model PARAMS.json OUT.json`` runs inside every Nix build, so this
package imports nothing heavy up front: numpy is imported when a point is computed, scipy only
for meshes above a few hundred degrees of freedom, CoolProp only when the fluid density must
come from the equation of state.
"""

from __future__ import annotations

from typing import Any

from ._errors import ModelError

MODEL_NAME = "sweepgui-pipe"
# 1.1.0: band matrices and refined eigenvalues (frequencies now exact to ~1e-12 where the
# dense solver of 1.0.0 lost up to 5e-3 on fine meshes; the same to 1e-9 elsewhere)
MODEL_VERSION = "1.1.0"

__all__ = ["MODEL_NAME", "MODEL_VERSION", "ModelError", "run_point"]


def run_point(params: dict[str, Any]) -> dict[str, Any]:
    """Compute one point from its nested parameters (missing fields take defaults).

    Returns the result of the point as ``OUT.json`` holds it: ``parameters`` (complete, with
    the defaults), ``fluid`` (density, speed of sound), ``natural_frequencies`` (Hz),
    ``spectrum`` (frequency, magnitude, phase), ``stable``, ``derived`` quantities and ``model``
    (name, version).
    Raises ``sweepgui.params.ParameterError`` naming each bad field, or ``ModelError`` when the
    point cannot be computed (e.g. the equation of state fails).
    """
    from ._run import run_point as _run_point

    return _run_point(params)
