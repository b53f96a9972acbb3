"""Write tests/model/data/solver_reference.json: reference natural frequencies for the solver.

Not a test. Two kinds of reference, for the cases in ``CASES`` (supports, Timoshenko and
Euler-Bernoulli, flow on and off, axial loads, 40 to 2000 elements):

``--dense``
    the frequencies of the dense eigen-solver of commit 2444630, the solver before the banded
    one (a regression reference for the solver swap, not physics); for a case with flow also
    those of the same tube at rest. Run it with that commit's
    package first on the path::

        git archive 2444630 sweepgui resources | tar -x -C /tmp/old
        PYTHONPATH=/tmp/old .venv/bin/python tests/model/make_solver_reference.py --dense

``--extended``
    the lowest eigenvalues of the same finite-element matrices (float64 entries, taken as exact)
    to 25 significant digits: Rayleigh quotient iteration in Python's ``decimal`` arithmetic
    (50 digits), started from the float64 eigenvectors of scipy's ``eigsh`` (SuperLU). It shows
    how far a float64 solver is from the exact eigenvalues of its matrices (the dense solver of
    2444630: up to 5e-3 in frequency, for 1000 Euler-Bernoulli elements of a cantilever).
    For a case with flow: of the same tube at rest (``..._without_flow``), whose modes are the
    basis of the gyroscopic problem that gives the frequencies with flow. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import sys
from decimal import Decimal, getcontext
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

DATA = Path(__file__).resolve().parent / "data" / "solver_reference.json"
MODES = 8

# The bare reference tube of tests/model/_refs.py (steel, 1 m, OD 10 mm, wall 1 mm).
_TUBE: dict[str, Any] = {
    "pipe": {"length": 1.0, "outer_diameter": 0.010, "wall_thickness": 0.001},
    "material": {"youngs_modulus": 200e9, "density": 8000.0, "poisson_ratio": 0.3,
                 "thermal_expansion": 1.2e-5, "modulus_temperature_coefficient": 0.0,
                 "reference_temperature": 293.15},
    "fluid": {"density": 1000.0},
    "state": {"pressure": 1e5, "temperature": 293.15, "flow_velocity": 0.0},
    "analysis": {"modes": MODES, "frequencies": 11, "ambient_pressure": 1e5},
}


def _case(bc: str, theory: str, elements: int, **groups: dict[str, Any]) -> dict[str, Any]:
    p = copy.deepcopy(_TUBE)
    p["pipe"]["boundary"] = bc
    p["analysis"].update(theory=theory, elements=elements)
    for group, values in groups.items():
        p[group].update(values)
    return p


# Axial loads of fixed ends (E A alpha = 68 N/K; P_cr = 572 N pinned-pinned, 1170 N
# clamped-pinned, 2289 N clamped-clamped): heated to about half the buckling load, buckled
# (several eigenvalues below zero), cooled (tension), pressurised.
_FIXED = {"axial_restraint": "fixed"}
_HEATED_PP = {"pipe": _FIXED, "state": {"temperature": 297.15}}
_HEATED_CC = {"pipe": _FIXED, "state": {"temperature": 313.15}}
_BUCKLED = {"pipe": _FIXED, "state": {"temperature": 393.15}}
_COOLED = {"pipe": _FIXED, "state": {"temperature": 233.15}}
_PRESSED = {"pipe": _FIXED, "state": {"pressure": 2e7}}

CASES: dict[str, dict[str, Any]] = {
    # the demo point (316L, 0.5 m, water) at the four meshes of the issue
    **{f"demo-timoshenko-{ne}": {"fluid": {"density": 998.2}, "analysis": {"elements": ne,
                                                                          "modes": MODES}}
       for ne in (40, 400, 1000, 2000)},
    "pp-euler-40": _case("pinned-pinned", "euler-bernoulli", 40),
    "pp-euler-400": _case("pinned-pinned", "euler-bernoulli", 400),
    "cc-euler-1000": _case("clamped-clamped", "euler-bernoulli", 1000),
    "cf-euler-1000": _case("clamped-free", "euler-bernoulli", 1000),
    "cp-timoshenko-2000": _case("clamped-pinned", "timoshenko", 2000),
    "pp-euler-2000-cooled": _case("pinned-pinned", "euler-bernoulli", 2000, **_COOLED),
    "pp-timoshenko-1000-heated": _case("pinned-pinned", "timoshenko", 1000, **_HEATED_PP),
    "cp-timoshenko-400-buckled": _case("clamped-pinned", "timoshenko", 400, **_BUCKLED),
    "cc-euler-400-pressed": _case("clamped-clamped", "euler-bernoulli", 400, **_PRESSED),
    "cc-timoshenko-150-heated": _case("clamped-clamped", "timoshenko", 150, **_HEATED_CC),
    # flow (Paidoussis: gyroscopic, and a follower force at a free end), at about half the
    # divergence velocity (U_c = 106 m/s pinned-pinned, 213 m/s clamped-clamped, 419 m/s for
    # the demo tube) and below the cantilever's flutter (about 190 m/s)
    "cc-timoshenko-40-flow": _case("clamped-clamped", "timoshenko", 40,
                                   state={"flow_velocity": 120.0}),
    "pp-euler-150-flow": _case("pinned-pinned", "euler-bernoulli", 150,
                               state={"flow_velocity": 60.0}),
    "cf-timoshenko-400-flow": _case("clamped-free", "timoshenko", 400,
                                    state={"flow_velocity": 60.0}),
    "pp-timoshenko-1000-flow": _case("pinned-pinned", "timoshenko", 1000,
                                     state={"flow_velocity": 50.0}),
    "demo-timoshenko-2000-flow": {"fluid": {"density": 998.2},
                                  "state": {"flow_velocity": 200.0},
                                  "analysis": {"elements": 2000, "modes": MODES}},
    "cc-euler-1000-heated-flow": _case("clamped-clamped", "euler-bernoulli", 1000,
                                       state={"flow_velocity": 80.0, "temperature": 303.15},
                                       pipe={"axial_restraint": "fixed"}),
}


def _without_flow(params: dict[str, Any]) -> dict[str, Any] | None:
    """The same tube at rest, if ``params`` has flow: its modes are the basis of the flow problem."""
    if not (params.get("state") or {}).get("flow_velocity"):
        return None
    still = copy.deepcopy(params)
    still["state"]["flow_velocity"] = 0.0
    return still


def dense(data: dict[str, Any]) -> None:
    import sweepgui
    from sweepgui.model import run_point

    print(f"dense references from {sweepgui.__file__}", file=sys.stderr)
    for name, params in CASES.items():
        entry = data.setdefault(name, {})
        entry["parameters"] = params
        r = run_point(params)
        entry["dense_2444630"] = {"natural_frequencies": r["natural_frequencies"],
                                  "stable": r["stable"]}
        still = _without_flow(params)
        if still is not None:
            entry["dense_2444630_without_flow"] = {
                "natural_frequencies": run_point(still)["natural_frequencies"]}
        print(name, r["natural_frequencies"][:3], file=sys.stderr)


def _matrices(params: dict[str, Any]) -> tuple[Any, Any]:
    """Symmetric stiffness (with the axial force) and mass of a case, as the model builds them."""
    from sweepgui.model._run import _beam_of, validate
    from sweepgui.model._section import section_at_state

    p = validate(params)
    assert p.fluid.density is not None
    sec = section_at_state(p, p.fluid.density)
    beam = _beam_of(p, sec)
    k, m = beam.symmetric_stiffness(sec.axial_force), beam.mass
    return k.dense(), m.dense()


def _decimal_eigenvalues(k: Any, m: Any, count: int) -> list[float]:
    """The ``count`` lowest eigenvalues of k x = lam m x to 40 digits (see the docstring)."""
    import numpy as np
    import scipy.sparse as sp
    from scipy.linalg import eigh
    from scipy.sparse.linalg import eigsh

    getcontext().prec = 50
    n = k.shape[0]
    lam64 = eigh(k, m, subset_by_index=[0, count - 1], driver="gvx", eigvals_only=True)
    # start vectors: scipy's shift-invert Lanczos (SuperLU), shifted below the lowest eigenvalue
    sigma = 0.0 if lam64[0] > 0 else 2.0 * lam64[0]
    start, vec = eigsh(sp.csc_matrix(k), k=count, M=sp.csc_matrix(m), sigma=sigma, which="LM")
    vec = vec[:, np.argsort(start)]
    w = 3  # half bandwidth of the beam matrices
    band = [range(max(0, i - w), min(n, i + w + 1)) for i in range(n)]
    kd = [{j: Decimal(float(k[i, j])) for j in band[i]} for i in range(n)]
    md = [{j: Decimal(float(m[i, j])) for j in band[i]} for i in range(n)]

    def mul(a: list[dict[int, Decimal]], x: list[Decimal]) -> list[Decimal]:
        return [sum((v * x[j] for j, v in row.items()), Decimal(0)) for row in a]

    def dot(x: list[Decimal], y: list[Decimal]) -> Decimal:
        return sum((p * q for p, q in zip(x, y)), Decimal(0))

    def solve(s: Decimal, rhs: list[Decimal]) -> list[Decimal]:
        # banded Gaussian elimination without pivoting (k - s m is close to singular, not zero
        # on the diagonal: s is a Rayleigh quotient, never an exact eigenvalue in 40 digits)
        rows = [{j: kd[i][j] - s * md[i][j] for j in band[i]} for i in range(n)]
        x = list(rhs)
        for j in range(n - 1):
            for i in range(j + 1, min(n, j + w + 1)):
                f = rows[i][j] / rows[j][j]
                for c, v in rows[j].items():
                    if c > j:
                        rows[i][c] = rows[i].get(c, Decimal(0)) - f * v
                x[i] -= f * x[j]
        for i in range(n - 1, -1, -1):
            acc = x[i] - sum((v * x[c] for c, v in rows[i].items() if c > i), Decimal(0))
            x[i] = acc / rows[i][i]
        return x

    out = []
    for i in range(count):
        x = [Decimal(float(v)) for v in vec[:, i]]
        s = dot(x, mul(kd, x)) / dot(x, mul(md, x))
        for _ in range(8):  # Rayleigh quotient iteration: the error cubes each step
            x = solve(s, mul(md, x))
            s, last = dot(x, mul(kd, x)) / dot(x, mul(md, x)), s
            if abs(s - last) <= Decimal("1e-25") * abs(s):
                break
        else:
            raise RuntimeError(f"no convergence for mode {i + 1}")
        out.append(float(s))
        print(f"  mode {i + 1}: dense float64 off by {lam64[i] / out[-1] - 1:.1e}", file=sys.stderr)
    assert all(a < b for a, b in zip(out, out[1:])), out  # one value per mode, in order
    return [float(np.sign(x)) * math.sqrt(abs(x)) / (2 * math.pi) for x in out]


def extended(data: dict[str, Any]) -> None:
    for name, params in CASES.items():
        still = _without_flow(params)
        k, m = _matrices(params if still is None else still)
        # negative: an eigenvalue below zero (buckled), as -sqrt(-lam) / (2 pi)
        freqs = {"natural_frequencies": _decimal_eigenvalues(k, m, MODES)}
        entry = data.setdefault(name, {})
        entry["parameters"] = params
        entry["extended_precision" if still is None else "extended_precision_without_flow"] = freqs
        print(name, freqs["natural_frequencies"][:3], file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dense", action="store_true")
    ap.add_argument("--extended", action="store_true")
    args = ap.parse_args()
    data = json.loads(DATA.read_text()) if DATA.exists() else {}
    if args.dense:
        dense(data)
    if args.extended:
        extended(data)
    data = {name: data[name] for name in CASES if name in data}
    DATA.parent.mkdir(exist_ok=True)
    DATA.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
