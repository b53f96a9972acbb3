"""The values of one swept parameter: a list, or one generator (linspace, logspace, arange).

Generators compute in exact decimal arithmetic on the numbers *as written* (``0.1`` is
one tenth, not the binary float nearest to it) and return the float nearest to each exact
result. So ``arange = [0.3, 0.6, 0.1]`` gives exactly ``[0.3, 0.4, 0.5]`` and
``linspace = [0.3, 0.6, 4]`` gives ``[0.3, 0.4, 0.5, 0.6]``: the values a person would
type, never ``0.30000000000000004``.

arange excludes ``stop`` and also any value within 1e-9 steps of it, so a step written
with limited precision (``0.3333333333333333`` towards ``1``) does not add a value that
is ``stop`` in all but rounding. If start, stop and step are all integers the values are
integers (for integer fields such as ``analysis.elements``).

Absurd arguments are refused before anything is computed: more than ``MAX_POINTS`` values
(a count, or an arange's step count), or a logspace exponent beyond +-308 (10^308 is the
largest power of ten a float holds; 10^1e9 would be a billion-digit integer). The exact
results are computed as integer fractions over one common denominator, whose true
division Python rounds correctly: the float nearest to each exact value, a million of
them in about a second.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

GENERATORS = ("linspace", "logspace", "arange")
GeneratorName = Literal["linspace", "logspace", "arange"]
GENERATOR_ARGS = {
    "linspace": "[start, stop, count]",
    "logspace": "[start_exponent, stop_exponent, count]  (values 10^start .. 10^stop)",
    "arange": "[start, stop (excluded), step]",
}
# Relative tolerance of arange's excluded stop, in steps.
ARANGE_TOLERANCE = 1e-9
# The planning limit: sweeps with more points are refused when they load, before any value
# is expanded (see Sweep._refuse_too_many_points), and no variable, generated or listed, has
# more values. Loading is cheap at any size (a million
# points load and check in ~0.2 s and 30 MB: points are built when read, see _points), but a
# plan evaluates every point's store path with Nix: measured here (2 shared cores, Nix 2.8),
# 10,000 points plan in ~1.4 s and 100,000 in ~16 s and 0.7 GB, so a million would take
# ~3 min and several GB, far over the budget of 30 s and 2 GB (issue 13). Bigger studies
# are split into several sweep files, each planned, built and cached on its own.
MAX_POINTS = 100_000
# |logspace exponent|: 10^308 is the largest power of ten a float holds (max 1.8e308), and
# 10^-308 about the smallest normal one.
MAX_EXPONENT = 308


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _exact(x: int | float) -> Fraction:
    """The decimal number as written: repr is the shortest text that round-trips."""
    return Fraction(x) if isinstance(x, int) else Fraction(repr(x))


def too_many(name: str, n: int) -> str:
    """The message for a generator (or list) of ``n`` values, more than the limit."""
    many = f"{n:,}" if n < 10**15 else f"about 10^{len(str(n)) - 1}"
    return f"{name} gives {many} values, more than the limit of {MAX_POINTS:,} points"


def _count(name: str, x: Any) -> int:
    if not _is_number(x) or not math.isfinite(x) or x != int(x):
        raise ValueError(f"{name}: the count must be a whole number, got {x!r}")
    if x < 1:
        raise ValueError(f"{name}: the count must be at least 1, got {x!r}")
    return int(x)


def _bounded_count(name: str, x: Any) -> int:
    n = _count(name, x)
    if n > MAX_POINTS:
        raise ValueError(too_many(name, n))
    return n


def _exponents(start_exp: Any, stop_exp: Any) -> None:
    for e in (start_exp, stop_exp):
        if _is_number(e) and not -MAX_EXPONENT <= e <= MAX_EXPONENT:
            raise ValueError(
                f"logspace: the exponents must lie within -{MAX_EXPONENT}..{MAX_EXPONENT} "
                f"(10^-{MAX_EXPONENT} .. 10^{MAX_EXPONENT}, the range of a float), got {e!r}")


def _over(*xs: int | float) -> tuple[list[int], int]:
    """The exact decimals ``xs`` as integer numerators over one common denominator."""
    fractions = [_exact(x) for x in xs]
    den = math.lcm(*(f.denominator for f in fractions))
    return [f.numerator * (den // f.denominator) for f in fractions], den


class VariableSpec(BaseModel):
    """How the values of one variable are given: ``values`` or ``generator`` + ``args``.

    Build one with ``VariableSpec.from_values([...])`` or
    ``VariableSpec.from_generator("linspace", start, stop, count)``; ``from_toml`` takes the
    TOML value of a ``[variable]`` key (a list or a one-key table). Semantic problems
    (a zero step, a count below 1) surface from :meth:`expand` as ``ValueError``; the sweep
    turns them into :class:`SweepError` with the file, line and key.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    values: tuple[Any, ...] | None = None   # immutable, like the whole spec
    generator: GeneratorName | None = None
    args: tuple[int | float, int | float, int | float] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> VariableSpec:
        if (self.values is None) == (self.generator is None):
            raise ValueError("give either values or a generator")
        if (self.generator is None) != (self.args is None):
            raise ValueError("a generator needs its three arguments")
        return self

    @classmethod
    def from_values(cls, values: list[Any]) -> VariableSpec:
        return cls(values=tuple(values))

    @classmethod
    def from_generator(cls, name: str, a: float, b: float, c: float) -> VariableSpec:
        return cls.from_toml({name: [a, b, c]})

    @classmethod
    def from_toml(cls, raw: Any) -> VariableSpec:
        """From a TOML value; raises ValueError with a message for a person."""
        if isinstance(raw, VariableSpec):
            return raw
        if isinstance(raw, (list, tuple)):
            return cls(values=tuple(raw))
        if not isinstance(raw, dict):
            raise ValueError(
                f"a variable takes a list of values or a generator table such as "
                f"{{ linspace = [start, stop, count] }}, not {raw!r}; a single value belongs in [fixed]")
        if len(raw) != 1:
            names = ", ".join(raw) or "none"
            raise ValueError(f"give exactly one generator ({', '.join(GENERATORS)}), got {names}")
        (name, args), = raw.items()
        if name not in GENERATORS:
            from ._errors import did_you_mean
            raise ValueError(f"unknown generator '{name}'{did_you_mean(name, GENERATORS)}; "
                             f"known: {', '.join(GENERATORS)}")
        if not isinstance(args, (list, tuple)) or len(args) != 3:
            raise ValueError(f"{name} takes three numbers {GENERATOR_ARGS[name]}, got {args!r}")
        for a in args:
            if not _is_number(a) or not math.isfinite(a):
                raise ValueError(f"{name} takes three finite numbers {GENERATOR_ARGS[name]}, got {args!r}")
        return cls(generator=name, args=tuple(args))

    def to_toml_value(self) -> Any:
        """The plain value that ``from_toml`` reads back (a list, or {generator: [a, b, c]})."""
        if self.generator is None:
            return list(self.values or [])
        return {self.generator: list(self.args or ())}

    def count(self) -> int:
        """Number of values, computed without expanding (to refuse absurd sweeps cheaply)."""
        if self.generator is None:
            return len(self.values or [])
        a, b, c = self.args or (0, 0, 0)
        if self.generator == "logspace":
            _exponents(a, b)
        if self.generator in ("linspace", "logspace"):
            return _count(self.generator, c)
        return _arange_range(a, b, c).stop  # not len(): a tiny step overflows it

    def expand(self) -> list[Any]:
        """The values, in order. Raises ValueError for a generator that makes no sense."""
        if self.generator is None:
            return list(self.values or [])
        a, b, c = self.args or (0, 0, 0)
        if self.generator == "linspace":
            return linspace(a, b, c)
        if self.generator == "logspace":
            return logspace(a, b, c)
        return arange(a, b, c)


def linspace(start: float, stop: float, count: int | float) -> list[float]:
    """``count`` evenly spaced values from start to stop, both included (count 1: start).

    ``count`` is a whole number; a float such as ``4.0`` (as a TOML file may write it) is one.
    """
    n = _bounded_count("linspace", count)
    if n == 1:
        return [float(_exact(start))]
    (a, b), den = _over(start, stop)
    # value k = a + (b - a) k / (n - 1), exactly; int / int is correctly rounded
    step, den = b - a, den * (n - 1)
    a *= n - 1
    return [(a + step * k) / den for k in range(n)]


def logspace(start_exp: float, stop_exp: float, count: int | float) -> list[float]:
    """``count`` values 10**e for e evenly spaced from start_exp to stop_exp (included).

    ``count`` is a whole number, as for :func:`linspace`.
    """
    _exponents(start_exp, stop_exp)
    n = _bounded_count("logspace", count)
    (a, b), den = _over(start_exp, stop_exp)
    if n > 1:
        a, b, den = a * (n - 1), b - a, den * (n - 1)
    else:
        b = 0
    out = []
    for k in range(n):
        num = a + b * k  # the exponent is num / den, exactly
        if num % den == 0:  # 10**5 is exactly 100000.0, not pow()'s nearby float
            e = num // den
            v = float(10**e) if e >= 0 else 1 / 10**-e
        else:
            v = 10.0 ** (num / den)
        if not math.isfinite(v) or v == 0.0:
            raise ValueError(f"logspace: 10^{num / den:g} is not a usable number")
        out.append(v)
    return out


def _arange_range(start: float, stop: float, step: float) -> range:
    if not (_is_number(step) and math.isfinite(step)) or step <= 0:
        raise ValueError(f"arange: the step must be a positive number, got {step!r}")
    a, b, s = _exact(start), _exact(stop), _exact(step)
    # Values a + k*s for k = 0.. while a + k*s < b - tolerance*s.
    n = math.ceil((b - a) / s - Fraction(ARANGE_TOLERANCE))
    return range(max(0, n))


def arange(start: float, stop: float, step: float) -> list[float] | list[int]:
    """start, start+step, ... below stop (excluded, with a 1e-9-step tolerance)."""
    r = _arange_range(start, stop, step)
    if r.stop > MAX_POINTS:
        raise ValueError(too_many("arange", r.stop))
    if all(isinstance(x, int) for x in (start, stop, step)):
        return [start + step * k for k in r]
    (a, s), den = _over(start, step)
    return [(a + s * k) / den for k in r]
