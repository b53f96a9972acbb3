"""A densitometer's calibration, with pressure and temperature compensation, from a sweep.

A vibrating-tube densitometer reads the period tau = 1/f_n of one mode and turns it into a
density with

    rho = A(T, p) * tau^2 - B(T, p)

For a uniform tube whose mode shape does not depend on the fluid this is exact at each
state: f = c / sqrt(m_t + rho A_f) gives A = c^2 / A_f and B = m_t / A_f. Temperature and
pressure change the stiffness, the bore and (with fixed ends) the axial force, so A and B
drift with the state; the compensation writes them as polynomials of total order K in
(T - T0) and (p - p0) and fits all 2 x (number of terms) coefficients by linear least
squares over every point of the sweep. Order 0 is the uncompensated instrument.

The design matrix has the columns tau^2 * phi_k and -phi_k, phi_k the monomials in the
scaled offsets (T - T0)/s_T, (p - p0)/s_p; every column is then scaled to unit length
(equilibration), and the condition number reported is that of this scaled matrix. The
coefficients are converted back to SI afterwards.

The "uncompensated" residual is what an instrument calibrated at the reference state only
(order 0, fitted on the points at that state, or the nearest grid state) reads everywhere
else: the error that temperature and pressure cause when nobody corrects for them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

# the app's one reading of a sweep's dimensions and of its grid's centre
from ._sensitivity import _dimension_paths, grid_index

DENSITY = "fluid.density"
TEMPERATURE = "state.temperature"
PRESSURE = "state.pressure"
STATE = (TEMPERATURE, PRESSURE)
SYMBOL = {TEMPERATURE: "T", PRESSURE: "p"}
DONE = ("built", "cached")
MAX_ORDER = 9            # coefficient names carry one digit per variable: A_12
RANK_LIMIT = 1e10        # a scaled design this ill-conditioned does not determine the coefficients


class CalibrationError(ValueError):
    """The sweep cannot support the calibration asked for; the message says why and what to do."""


@dataclass(frozen=True)
class Coefficient:
    """One coefficient of A(T, p) or B(T, p): ``value`` multiplies ``term``."""

    name: str                  # "A_10": power 1 of (T - T0), power 0 of (p - p0)
    value: float
    unit: str                  # SI: "kg/(m3 s2 K)"
    term: str                  # "(T - T0)"
    powers: tuple[int, int]    # powers of (T - T0) and (p - p0)

    def to_dict(self) -> dict[str, Any]:
        return {"value": _clean(self.value), "unit": self.unit, "term": self.term}


def _clean(v: Any) -> Any:
    if isinstance(v, (float, np.floating)):
        v = float(v)
        return v if math.isfinite(v) else None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def _monomials(order: int, variables: tuple[str, ...]) -> list[tuple[int, int]]:
    """Powers of (T - T0, p - p0) up to total ``order``, only of the variables that vary.

    Ordered by total degree, then by falling power of T: 1, T, p, T^2, T p, p^2, ...
    """
    vary_t, vary_p = TEMPERATURE in variables, PRESSURE in variables
    out = []
    for total in range(order + 1):
        for i in range(total, -1, -1):
            j = total - i
            if (i and not vary_t) or (j and not vary_p):
                continue
            out.append((i, j))
    return out


def _power(symbol: str, k: int) -> str:
    return "" if k == 0 else symbol if k == 1 else f"{symbol}{k}"


def _unit(base: str, powers: tuple[int, int], units: dict[str, str]) -> str:
    """``kg/m3`` or ``kg/(m3 s2)`` per K^i Pa^j, written the way ``per`` writes units."""
    num, den = base.split("/", 1)
    den = den.strip("()")
    extra = [u for u in (_power(units[TEMPERATURE], powers[0]), _power(units[PRESSURE], powers[1])) if u]
    den = " ".join([den, *extra])
    return f"{num}/({den})" if " " in den else f"{num}/{den}"


def _term(powers: tuple[int, int]) -> str:
    parts = []
    for sym, k in zip(("T", "p"), powers):
        if k:
            parts.append(f"({sym} - {sym}0)" + ("" if k == 1 else f"^{k}"))
    return "*".join(parts) or "1"


class Calibration:
    """A fitted calibration rho = A(T, p) tau^2 - B(T, p) of one mode.

    Attributes
    ----------
    mode : int
        The mode whose period tau = 1/f_n is measured (1-based).
    order : int
        Total order of the polynomials A and B in (T - T0) and (p - p0).
    reference : dict
        {"state.temperature": T0, "state.pressure": p0} in K and Pa.
    variables : tuple of str
        The state parameters compensated for (those the sweep varies).
    coefficients : dict of str to Coefficient
        "A_ij" and "B_ij" (i: power of T - T0, j: power of p - p0), SI units.
    condition : float
        Condition number of the column-scaled least-squares design.
    residuals : xarray.DataArray
        rho_predicted - rho_true at every point of the sweep (kg/m3), compensated.
    uncompensated_residuals : xarray.DataArray
        The same for order 0 fitted at the reference state only and applied everywhere.
    uncompensated : dict
        That order-0 calibration: the grid state it was fitted at, A_00, B_00, its points.
    points : int
        Number of points fitted.
    ranges : dict of str to (float, float)
        The sweep's range of fluid.density, state.temperature and state.pressure: the
        residuals hold inside it, beyond it the polynomials extrapolate.
    notes : list of str
        What the user should know about the fit (e.g. a grid too coarse to judge it).
    """

    def __init__(self, *, mode: int, order: int, reference: dict[str, float],
                 variables: tuple[str, ...], coefficients: dict[str, Coefficient],
                 condition: float, residuals: xr.DataArray, uncompensated_residuals: xr.DataArray,
                 uncompensated: dict[str, Any], points: int, units: dict[str, str],
                 ranges: dict[str, tuple[float, float]] | None = None,
                 notes: list[str] | None = None) -> None:
        self.mode = mode
        self.order = order
        self.reference = reference
        self.variables = variables
        self.coefficients = coefficients
        self.condition = condition
        self.residuals = residuals
        self.uncompensated_residuals = uncompensated_residuals
        self.uncompensated = uncompensated
        self.points = points
        self.units = units
        self.ranges = ranges or {}
        self.notes = notes or []

    # -- using it -------------------------------------------------------------------------
    def _poly(self, letter: str, dt: np.ndarray, dp: np.ndarray) -> np.ndarray:
        out = np.zeros(np.broadcast(dt, dp).shape)
        for c in self.coefficients.values():
            if c.name[0] == letter:
                out = out + c.value * dt ** c.powers[0] * dp ** c.powers[1]
        return out

    def A(self, T: Any = None, p: Any = None) -> np.ndarray:
        """A(T, p) in kg/(m3 s2) (numpy-broadcasting; defaults: the reference state)."""
        dt, dp = self._offsets(T, p)
        return self._poly("A", dt, dp)

    def B(self, T: Any = None, p: Any = None) -> np.ndarray:
        """B(T, p) in kg/m3 (numpy-broadcasting; defaults: the reference state)."""
        dt, dp = self._offsets(T, p)
        return self._poly("B", dt, dp)

    def _offsets(self, T: Any, p: Any) -> tuple[np.ndarray, np.ndarray]:
        t0, p0 = self.reference[TEMPERATURE], self.reference[PRESSURE]
        t = np.asarray(t0 if T is None else T, dtype=float)
        q = np.asarray(p0 if p is None else p, dtype=float)
        return t - t0, q - p0

    def predict(self, f: Any, T: Any = None, p: Any = None) -> np.ndarray | float:
        """The density (kg/m3) read from a measured frequency ``f`` (Hz) of the mode.

        ``f``, ``T`` (K) and ``p`` (Pa) broadcast against each other like numpy arrays;
        ``T`` and ``p`` default to the reference state. A state parameter the sweep did not
        vary is not compensated: its value does not change the reading.
        """
        f = np.asarray(f, dtype=float)
        dt, dp = self._offsets(T, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = self._poly("A", dt, dp) / f**2 - self._poly("B", dt, dp)
        return float(rho) if np.ndim(rho) == 0 else rho

    # -- figures -----------------------------------------------------------------------
    @property
    def residual_max(self) -> float:
        """max |rho_predicted - rho_true| over the sweep, compensated (kg/m3)."""
        return _max(self.residuals)

    @property
    def residual_rms(self) -> float:
        return _rms(self.residuals)

    @property
    def uncompensated_max(self) -> float:
        return _max(self.uncompensated_residuals)

    @property
    def uncompensated_rms(self) -> float:
        return _rms(self.uncompensated_residuals)

    @property
    def formula(self) -> str:
        """The calibration in words, with symbolic coefficients (their values: ``coefficients``)."""
        t0, p0 = self.reference[TEMPERATURE], self.reference[PRESSURE]

        def poly(letter: str) -> str:
            return " + ".join(c.name if c.term == "1" else f"{c.name}*{c.term}"
                              for c in self.coefficients.values() if c.name[0] == letter)

        args = ", ".join(SYMBOL[v] for v in STATE if v in self.variables)
        a = f"A({args})" if args else "A"
        b = f"B({args})" if args else "B"
        text = (f"density [kg/m3] = {a}*tau^2 - {b}, where tau = 1/f{self.mode} is the period "
                f"of mode {self.mode} in s")
        if args:
            text += f"; {a} = {poly('A')}; {b} = {poly('B')}"
        ref = []
        if TEMPERATURE in self.variables:
            ref.append(f"T0 = {t0:g} {self.units[TEMPERATURE]}")
        if PRESSURE in self.variables:
            ref.append(f"p0 = {p0:g} {self.units[PRESSURE]}")
        if ref:
            text += f"; T in {self.units[TEMPERATURE]}, p in {self.units[PRESSURE]}, " + ", ".join(ref)
        fixed = [f"{SYMBOL[v]} = {self.reference[v]:g} {self.units[v]}" for v in STATE
                 if v not in self.variables]
        if fixed:
            text += f"; not compensated (not swept): {', '.join(fixed)}"
        return text

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN as None): what ``sweepgui calibrate --json`` prints."""
        doc: dict[str, Any] = _clean({
            "mode": self.mode,
            "order": self.order,
            "reference": dict(self.reference),
            "reference_units": {k: self.units[k] for k in STATE},
            "compensated": list(self.variables),
            "coefficients": {k: c.to_dict() for k, c in self.coefficients.items()},
            "formula": self.formula,
            "condition": self.condition,
            "residual": {
                "uncompensated_max": self.uncompensated_max,
                "uncompensated_rms": self.uncompensated_rms,
                "compensated_max": self.residual_max,
                "compensated_rms": self.residual_rms,
                "unit": "kg/m3",
            },
            "uncompensated": self.uncompensated,
            "points": self.points,
            "ranges": {k: list(v) for k, v in self.ranges.items()},
            "notes": list(self.notes),
        })
        return doc

    def __repr__(self) -> str:
        return (f"<Calibration mode {self.mode}, order {self.order}, {self.points} points, "
                f"max residual {self.residual_max:.3g} kg/m3 (uncompensated "
                f"{self.uncompensated_max:.3g})>")


def _max(r: xr.DataArray) -> float:
    v = np.abs(r.values)
    return float(np.nanmax(v)) if np.isfinite(v).any() else math.nan


def _rms(r: xr.DataArray) -> float:
    v = r.values[np.isfinite(r.values)]
    return float(np.sqrt(np.mean(v * v))) if v.size else math.nan


# -- reading the sweep ---------------------------------------------------------------------
def _grid_dims(ds: xr.Dataset) -> list[str]:
    return [d for d in ds.natural_frequency.dims if d != "mode"]


def _per_point(ds: xr.Dataset, path: str, dims: list[str]) -> np.ndarray:
    """The value of ``path`` at every point, shaped like the grid."""
    shape = tuple(ds.sizes[d] for d in dims)
    if path in ds.coords and ds[path].dims and ds[path].dims[0] in dims:
        along = [1] * len(dims)
        along[dims.index(str(ds[path].dims[0]))] = -1
        return np.broadcast_to(ds[path].values.astype(float).reshape(along), shape).copy()
    fixed = json.loads(ds.attrs.get("fixed_parameters", "{}") or "{}")
    value = fixed.get(path)
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        from sweepgui.params import field_info

        value = field_info(path).default
    return np.full(shape, float(value))


def _describe(ds: xr.Dataset, dims: list[str], flat: int) -> str:
    index = np.unravel_index(flat, tuple(ds.sizes[d] for d in dims))
    parts = []
    for paths in _dimension_paths(ds).values():
        for p in paths:
            if p in ds.coords and ds[p].dims and ds[p].dims[0] in dims:
                v = ds[p].values[index[dims.index(str(ds[p].dims[0]))]]
                parts.append(f"{p}={v:g}" if isinstance(v, (float, np.floating)) else f"{p}={v}")
    return ", ".join(parts) or "the only point"


def _name_points(ds: xr.Dataset, dims: list[str], flats: np.ndarray, why: Any) -> str:
    listed = [f"{_describe(ds, dims, int(k))} ({why(int(k))})" for k in flats[:5]]
    more = f"; and {len(flats) - 5} more" if len(flats) > 5 else ""
    return "; ".join(listed) + more


def _check_points(ds: xr.Dataset, dims: list[str], f: np.ndarray) -> None:
    status = ds.status.transpose(*dims).values.ravel().astype(str)
    error = ds.error.transpose(*dims).values.ravel().astype(str) if "error" in ds else None
    bad = np.flatnonzero(~np.isin(status, DONE))
    if bad.size:
        def why(k: int) -> str:
            e = error[k].strip() if error is not None else ""
            return f"{status[k]}: {e}" if e else status[k]
        raise CalibrationError(
            f"{bad.size} of {status.size} points have no result, and every point of the grid "
            f"enters the fit: {_name_points(ds, dims, bad, why)}. Run the sweep again "
            "(sweepgui run) to build them, or remove their values from the sweep")
    if "stable" in ds:
        stable = ds.stable.transpose(*dims).values.ravel()
        unstable = np.flatnonzero(stable == 0.0)
        if unstable.size:
            raise CalibrationError(
                f"{unstable.size} points are beyond divergence (unstable), where no densitometer "
                f"reads a period: {_name_points(ds, dims, unstable, lambda k: 'unstable')}. "
                "Lower state.flow_velocity or remove those points from the sweep")
    ff = f.ravel()
    blank = np.flatnonzero(~(np.isfinite(ff) & (ff > 0)))
    if blank.size:
        raise CalibrationError(
            f"{blank.size} points have no positive frequency for this mode: "
            f"{_name_points(ds, dims, blank, lambda k: f'f = {ff[k]:g} Hz')}")


def _reference(ds: xr.Dataset, dims: list[str], given: dict[str, Any] | None,
               values: dict[str, np.ndarray]) -> dict[str, float]:
    given = dict(given or {})
    for key in given:
        if key not in STATE:
            raise CalibrationError(f"reference {key}: the reference state is "
                                   f"{TEMPERATURE} and/or {PRESSURE}")
    ref: dict[str, float] = {}
    centre = grid_index(ds)
    for path in STATE:
        if path in given:
            try:
                v = float(given[path])
            except (TypeError, ValueError):
                raise CalibrationError(f"reference {path}={given[path]}: expected a number "
                                       "(SI: K, Pa)") from None
            if not (math.isfinite(v) and v > 0):
                raise CalibrationError(f"reference {path}={given[path]}: expected a positive "
                                       "number (SI: K, Pa)")
            ref[path] = v
            continue
        if path in ds.coords and ds[path].dims and ds[path].dims[0] in centre:
            ref[path] = float(ds[path].values[centre[str(ds[path].dims[0])]])
        else:
            ref[path] = float(values[path].flat[0])
    return ref


def _design(tau2: np.ndarray, scaled: dict[str, np.ndarray], terms: list[tuple[int, int]]
            ) -> tuple[np.ndarray, np.ndarray]:
    """Columns tau^2 phi_k, -phi_k in scaled variables, each scaled to unit length."""
    phis = [scaled[TEMPERATURE] ** i * scaled[PRESSURE] ** j for i, j in terms]
    m = np.column_stack([tau2 * phi for phi in phis] + [-phi for phi in phis])
    norms = np.linalg.norm(m, axis=0)
    norms[norms == 0] = 1.0
    return m / norms, norms


def _fit(rho: np.ndarray, tau2: np.ndarray, scaled: dict[str, np.ndarray],
         terms: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray, float, int]:
    """(A coefficients, B coefficients) in the scaled variables, condition, rank."""
    tau_scale = float(np.mean(tau2))
    m, norms = _design(tau2 / tau_scale, scaled, terms)
    sv = np.linalg.svd(m, compute_uv=False)
    condition = float(sv[0] / sv[-1]) if sv[-1] > 0 else math.inf
    rank = int(np.sum(sv > sv[0] / RANK_LIMIT))
    z, *_ = np.linalg.lstsq(m, rho, rcond=None)
    z = z / norms
    n = len(terms)
    return z[:n] / tau_scale, z[n:], condition, rank


def calibrate(ds: xr.Dataset, mode: int = 1, order: int = 1,
              reference: dict[str, Any] | None = None) -> Calibration:
    """Fit rho = A(T, p) tau^2 - B(T, p) to the finished points of a density sweep.

    Parameters
    ----------
    ds
        A dataset from ``load_dataset`` (spectra not needed). The sweep must vary
        ``fluid.density`` (three values or more) and may vary ``state.temperature`` and
        ``state.pressure``; nothing else may be swept (a calibration is for one tube).
    mode
        The mode whose period tau = 1/f_n the instrument measures (1-based).
    order
        Total order K of A and B in (T - T0) and (p - p0): 0 no compensation, 1 linear,
        2 quadratic. Only the state parameters the sweep varies are compensated for.
    reference
        {"state.temperature": T0, "state.pressure": p0} (K, Pa); missing entries are the
        grid's centre (as ``sensitivities``) or the fixed value.

    Returns
    -------
    Calibration

    Raises
    ------
    CalibrationError
        (a ValueError) saying why the sweep cannot support this fit: too few densities,
        an order the grid of states cannot resolve, points without a result or unstable,
        other parameters swept.
    """
    if "natural_frequency" not in ds or "mode" not in ds.coords:
        raise CalibrationError("this dataset has no natural frequencies (load it with load_dataset)")
    if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or not 0 <= order <= MAX_ORDER:
        raise CalibrationError(f"order {order!r}: expected a whole number 0..{MAX_ORDER} "
                               "(0 no compensation, 1 linear, 2 quadratic)")
    order = int(order)
    modes = [int(m) for m in ds["mode"].values]
    if isinstance(mode, bool) or not isinstance(mode, (int, np.integer)) or int(mode) not in modes:
        raise CalibrationError(f"mode {mode}: " + (f"this sweep has modes 1..{len(modes)}" if modes
                                                  else "this sweep has no natural frequencies"))
    mode = int(mode)
    paths = _dimension_paths(ds)
    swept = {p: d for d, ps in paths.items() for p in ps}
    if DENSITY not in swept:
        raise CalibrationError(f"{DENSITY} is not swept: a calibration needs at least 3 densities "
                               f"at every state; add \"{DENSITY}\" to [variable], e.g. "
                               f"{{ linspace = [600.0, 1200.0, 5] }}")
    others = [p for p, d in swept.items() if p not in (DENSITY, *STATE) and ds.sizes[d] > 1]
    if others:
        raise CalibrationError(
            f"{', '.join(others)} {'is' if len(others) == 1 else 'are'} swept too: a calibration "
            f"is for one tube and one fluid, varying only {DENSITY}, {TEMPERATURE} and "
            f"{PRESSURE}; fix {'it' if len(others) == 1 else 'them'} in [fixed]")
    dims = _grid_dims(ds)
    nf = ds.natural_frequency.sel(mode=mode).transpose(*dims)
    f = np.asarray(nf.values, dtype=float)
    densities = ds[DENSITY].values
    distinct = np.unique(densities[np.isfinite(densities)]) if np.issubdtype(
        densities.dtype, np.number) else np.unique(densities.astype(str))
    if len(distinct) < 3:
        raise CalibrationError(
            f"{DENSITY} has {len(distinct)} value{'s' if len(distinct) != 1 else ''} in this "
            "sweep; a calibration needs at least 3 densities (two fix A and B exactly and leave "
            "no residual to judge the fit); sweep more, e.g. { linspace = [600.0, 1200.0, 5] }")
    _check_points(ds, dims, f)

    rho = ds.fluid_density.transpose(*dims).values.astype(float)
    values = {p: _per_point(ds, p, dims) for p in STATE}
    units = {p: (ds[p].attrs.get("units") if p in ds.coords else None) or
             {TEMPERATURE: "K", PRESSURE: "Pa"}[p] for p in STATE}
    ref = _reference(ds, dims, reference, values)
    variables = tuple(p for p in STATE if len(np.unique(values[p])) >= 2)
    notes = []
    for p in STATE:
        if p not in variables and not math.isclose(ref[p], float(values[p].flat[0]), rel_tol=1e-12):
            notes.append(f"{p} is not swept (always {values[p].flat[0]:g} {units[p]}); the "
                         f"reference {ref[p]:g} {units[p]} changes nothing")

    tau2 = (1.0 / f.ravel()) ** 2
    rho_flat = rho.ravel()
    if not np.all(np.isfinite(rho_flat)):
        raise CalibrationError("some points have no fluid density in their result; "
                               "run the sweep again")
    offsets = {p: values[p].ravel() - ref[p] for p in STATE}
    scale = {p: float(np.max(np.abs(offsets[p]))) or 1.0 for p in STATE}
    scaled = {p: offsets[p] / scale[p] for p in STATE}

    terms = _monomials(order, variables)
    states = {tuple(float(values[p].flat[k]) for p in variables) for k in range(rho_flat.size)}
    if order > 0 and not variables:
        raise CalibrationError(
            f"order {order} compensates for temperature and pressure, but this sweep varies "
            f"neither; use --order 0, or sweep {TEMPERATURE} and/or {PRESSURE}")
    if len(terms) > len(states):
        grid = " x ".join(f"{len(np.unique(values[p]))} {SYMBOL[p]}" for p in variables)
        raise CalibrationError(
            f"order {order} needs {len(terms)} terms per polynomial in "
            f"{' and '.join(SYMBOL[v] for v in variables)}, but the sweep has only "
            f"{len(states)} distinct states ({grid}); lower the order or sweep more values of "
            f"{' and '.join(variables)}")
    a_s, b_s, condition, rank = _fit(rho_flat, tau2, scaled, terms)
    if rank < 2 * len(terms):
        raise CalibrationError(
            f"order {order} cannot be resolved by this grid: the fit is rank-deficient "
            f"({rank} of {2 * len(terms)} coefficients determined, condition {condition:.3g}); "
            "the states may lie on a line (temperature and pressure zipped together?) or the "
            "densities may not cross the states; lower the order or sweep a full grid")

    for p in variables:
        count = len(np.unique(values[p]))
        if 0 < order and count <= order + 1:
            notes.append(
                f"{p} has {count} values for a polynomial of order {order}: the fit (almost) "
                "passes through them, so the residual on the grid understates the error between "
                f"them; sweep at least {order + 2} values for an honest residual")
    coefficients: dict[str, Coefficient] = {}
    for letter, zs, base in (("A", a_s, "kg/(m3 s2)"), ("B", b_s, "kg/m3")):
        for (i, j), z in zip(terms, zs):
            value = float(z) / (scale[TEMPERATURE] ** i * scale[PRESSURE] ** j)
            name = f"{letter}_{i}{j}"
            coefficients[name] = Coefficient(name, value, _unit(base, (i, j), units), _term((i, j)),
                                             (i, j))

    template = ds.fluid_density.transpose(*dims)

    def residual(pred: np.ndarray, what: str) -> xr.DataArray:
        return xr.DataArray((pred - rho_flat).reshape(rho.shape), dims=dims,
                            coords={k: v for k, v in template.coords.items()},
                            name="density_residual",
                            attrs={"units": "kg/m3",
                                   "long_name": f"density read minus true density, {what}"})

    cal = Calibration(mode=mode, order=order, reference=ref, variables=variables,
                      coefficients=coefficients, condition=condition,
                      residuals=xr.DataArray(), uncompensated_residuals=xr.DataArray(),
                      uncompensated={}, points=int(rho_flat.size), units=units, notes=notes,
                      ranges={DENSITY: (float(rho.min()), float(rho.max())),
                              **{p: (float(values[p].min()), float(values[p].max())) for p in STATE}})
    pred = cal.predict(f.ravel(), values[TEMPERATURE].ravel(), values[PRESSURE].ravel())
    cal.residuals = residual(np.asarray(pred), f"order {order}")
    cal.uncompensated, cal.uncompensated_residuals = _uncompensated(
        rho_flat, tau2, values, variables, ref, scale, residual)
    return cal


def _uncompensated(rho: np.ndarray, tau2: np.ndarray, values: dict[str, np.ndarray],
                   variables: tuple[str, ...], ref: dict[str, float], scale: dict[str, float],
                   residual: Any) -> tuple[dict[str, Any], xr.DataArray]:
    """Order 0 fitted on the points at the reference state (or the nearest grid state)."""
    flat = {p: values[p].ravel() for p in STATE}
    dist = sum(((flat[p] - ref[p]) / scale[p]) ** 2 for p in variables) if variables \
        else np.zeros_like(rho)
    k = int(np.argmin(dist))
    at = np.ones(rho.shape, dtype=bool)
    for p in variables:
        at &= flat[p] == flat[p][k]
    state = {p: float(flat[p][k]) for p in STATE}
    if len(np.unique(rho[at])) < 2:
        raise CalibrationError(
            "the uncompensated calibration is fitted at the reference state "
            f"({', '.join(f'{p}={v:g}' for p, v in state.items())}), where this sweep has "
            f"{len(np.unique(rho[at]))} density; sweep {DENSITY} as its own dimension "
            "(not zipped with the state)")
    tau_scale = float(np.mean(tau2[at]))
    m = np.column_stack([tau2[at] / tau_scale, -np.ones(int(at.sum()))])
    norms = np.linalg.norm(m, axis=0)
    z, *_ = np.linalg.lstsq(m / norms, rho[at], rcond=None)
    a0, b0 = z[0] / norms[0] / tau_scale, z[1] / norms[1]
    pred = a0 * tau2 - b0
    info = {"state": state, "points": int(at.sum()),
            "coefficients": {"A_00": {"value": float(a0), "unit": "kg/(m3 s2)", "term": "1"},
                             "B_00": {"value": float(b0), "unit": "kg/m3", "term": "1"}}}
    return info, residual(pred, "uncompensated (order 0 at the reference state)")
