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


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _exact(x: int | float) -> Fraction:
    """The decimal number as written: repr is the shortest text that round-trips."""
    return Fraction(x) if isinstance(x, int) else Fraction(repr(x))


def _count(name: str, x: Any) -> int:
    if not _is_number(x) or not math.isfinite(x) or x != int(x):
        raise ValueError(f"{name}: the count must be a whole number, got {x!r}")
    if x < 1:
        raise ValueError(f"{name}: the count must be at least 1, got {x!r}")
    return int(x)


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


def linspace(start: float, stop: float, count: int) -> list[float]:
    """``count`` evenly spaced values from start to stop, both included (count 1: start)."""
    n = _count("linspace", count)
    a, b = _exact(start), _exact(stop)
    if n == 1:
        return [float(a)]
    return [float(a + (b - a) * k / (n - 1)) for k in range(n)]


def logspace(start_exp: float, stop_exp: float, count: int) -> list[float]:
    """``count`` values 10**e for e evenly spaced from start_exp to stop_exp (included)."""
    n = _count("logspace", count)
    a, b = _exact(start_exp), _exact(stop_exp)
    exps = [a] if n == 1 else [a + (b - a) * k / (n - 1) for k in range(n)]
    out = []
    for e in exps:
        try:
            if e.denominator == 1:  # 10**5 is exactly 100000.0, not pow()'s nearby float
                v = float(Fraction(10) ** int(e))
            else:
                v = 10.0 ** float(e)
        except OverflowError:
            v = math.inf
        if not math.isfinite(v) or v == 0.0:
            raise ValueError(f"logspace: 10^{float(e):g} is not a usable number")
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
    a, s = _exact(start), _exact(step)
    if all(isinstance(x, int) for x in (start, stop, step)):
        return [int(a + s * k) for k in r]
    return [float(a + s * k) for k in r]
