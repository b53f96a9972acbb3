"""The eigen-solver against the dense solver it replaced, and against exact eigenvalues.

A regression reference for the solver swap (band matrices, shift-invert Lanczos, refined
Rayleigh quotients), not physics: ``data/solver_reference.json`` holds, for cases over the four
supports, both beam theories, flow on and off, axial loads and 40 to 2000 elements:

- ``dense_2444630``: the frequencies of the dense eigen-solver of commit 2444630 (before the
  swap), computed once with that commit's code;
- ``extended_precision``: the exact eigenvalues of the same finite-element matrices, to 25
  digits (Rayleigh quotient iteration in 50-digit decimal arithmetic), as frequencies.

The dense solver lost digits to cancellation on fine meshes (up to 5e-3 relative, for 1000
Euler-Bernoulli elements of a cantilever), so "equal to the old frequencies within 1e-9" is
asked up to the old solver's own error, and "equal to the exact ones within 1e-9" in full.
``make_solver_reference.py`` (beside this file) writes the data and says how.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sweepgui.model import run_point
from sweepgui.params import SUPPORTS

DATA = json.loads((Path(__file__).parent / "data" / "solver_reference.json").read_text())
RTOL = 1e-9


def _freqs(values: list[float]) -> np.ndarray:
    # an eigenvalue below zero (buckled) is stored as -sqrt(-lam)/(2 pi); the model reports 0
    return np.clip(np.array(values, dtype=float), 0.0, None)


def _rel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.abs(a - b) / np.where(b == 0.0, 1.0, b)


def _at_rest(params: dict[str, Any]) -> dict[str, Any]:
    still = copy.deepcopy(params)
    still["state"]["flow_velocity"] = 0.0
    return still


STILL = sorted(k for k, v in DATA.items() if "extended_precision" in v)
FLOWING = sorted(k for k, v in DATA.items() if "extended_precision_without_flow" in v)


def test_the_reference_covers_supports_theories_flow_loads_and_meshes():
    params = [v["parameters"] for v in DATA.values()]
    boundaries = {p.get("pipe", {}).get("boundary", "clamped-clamped") for p in params}
    theories = {p["analysis"].get("theory", "timoshenko") for p in params}
    meshes = {p["analysis"]["elements"] for p in params}
    assert boundaries == {"clamped-clamped", "pinned-pinned", "clamped-free", "clamped-pinned"}
    assert theories == {"timoshenko", "euler-bernoulli"}
    assert {40, 400, 1000, 2000} <= meshes
    assert len(FLOWING) >= 5 and len(STILL) >= 10
    assert any(p.get("pipe", {}).get("axial_restraint") == "fixed" for p in params)


@pytest.mark.parametrize("name", STILL)
def test_frequencies_are_the_exact_eigenvalues_and_the_old_ones_up_to_their_error(name):
    case = DATA[name]
    r = run_point(case["parameters"])
    new = np.array(r["natural_frequencies"])
    exact = _freqs(case["extended_precision"]["natural_frequencies"])
    old = _freqs(case["dense_2444630"]["natural_frequencies"])
    assert r["stable"] is case["dense_2444630"]["stable"]
    np.testing.assert_allclose(new, exact, rtol=RTOL, atol=0.0)
    # within 1e-9 of the old frequencies, beyond that only by the old solver's own error
    assert np.all(np.abs(new - old) <= RTOL * exact + np.abs(old - exact)), (new, old, exact)


@pytest.mark.parametrize("name", FLOWING)
def test_frequencies_with_flow_are_the_old_ones_up_to_the_error_of_their_basis(name):
    # With flow the frequencies come from the gyroscopic problem in the basis of the modes at
    # rest, whose eigenvalues are its diagonal: the old solver's flow frequencies carry the
    # error of its eigenvalues at rest, times lambda / omega^2 (below 2 at these speeds).
    case = DATA[name]
    exact_still = _freqs(case["extended_precision_without_flow"]["natural_frequencies"])
    old_still = _freqs(case["dense_2444630_without_flow"]["natural_frequencies"])
    still = np.array(run_point(_at_rest(case["parameters"]))["natural_frequencies"])
    np.testing.assert_allclose(still, exact_still, rtol=RTOL, atol=0.0)

    r = run_point(case["parameters"])
    new = np.array(r["natural_frequencies"])
    old = _freqs(case["dense_2444630"]["natural_frequencies"])
    assert r["stable"] is case["dense_2444630"]["stable"]
    basis_error = float(np.max(_rel(old_still, exact_still)))
    assert np.all(_rel(new, old) <= RTOL + 2.0 * basis_error), (new, old, basis_error)
    if not SUPPORTS[case["parameters"].get("pipe", {}).get("boundary", "clamped-clamped")].free_end:
        # supported ends: flow softens every mode (the centrifugal force, Paidoussis 3.3)
        assert np.all(new < still)
