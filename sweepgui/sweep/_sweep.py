"""The Sweep model: fixed parameters, variables, zips, run and model settings."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, cast

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)

from ..params import canonical_json
from ._errors import SweepError
from ._locate import KeyLocator
from ._spec import MAX_POINTS, VariableSpec

if TYPE_CHECKING:
    from ._points import Points
    from ._resolve import Resolved



def _no_nul(value: Any) -> Any:
    """A path or label with NUL cannot name a file (the OS refuses it) nor go to Nix."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which no file name or label can "
                         "hold: remove it")
    return value


class RunSettings(BaseModel):
    """The ``[run]`` table: defaults for ``sweepgui run`` and the GUI's Run button."""

    model_config = ConfigDict(extra="forbid")

    # Defaults are given as `default=`: type checkers (dataclass_transform) read only a keyword
    # default as one, and without it `RunSettings()` would seem to need every field.
    # strict: `jobs = true` or `batch = "4"` is a mistake to report, not 1 and 4
    jobs: Annotated[int, Strict()] | None = Field(
        default=None, ge=0, le=4096,
        description="Points built at once on this computer (nix --max-jobs); 0 = remote only")
    machines: str | None = Field(
        default=None, min_length=1, description="Nix machines file, relative to the sweep file's folder")
    batch: Annotated[int, Strict()] | None = Field(
        default=None, ge=1, le=100_000,
        description="Points computed per Nix build (default: automatic, about two groups per "
        "build slot for the built-in model); every point is still cached and reused on its own")
    timeout: int | None = Field(
        default=None, ge=1, le=10_000_000,
        description="Seconds a point may take to build (Nix's timeout); a point that takes "
        "longer fails \"timed out\" and the others go on. Default: no limit")

    _machines_without_nul = field_validator("machines")(_no_nul)

    @model_validator(mode="after")
    def _remote_only_needs_machines(self) -> RunSettings:
        if self.jobs == 0 and not self.machines:
            raise ValueError("jobs = 0 builds nothing on this computer: give machines = "
                             "\"a machines file\" too, or at least 1 job")
        return self


class ModelSettings(BaseModel):
    """The ``[model]`` table: the built-in pipe model unless ``executable`` is given."""

    model_config = ConfigDict(extra="forbid")

    # `default=` by keyword, as in RunSettings
    executable: str | None = Field(
        default=None, min_length=1,
        description="Custom model script (params JSON in, output path out), relative to the sweep file")
    name: str | None = Field(default=None, min_length=1, description="Label of a custom model")
    version: str | None = Field(default=None, min_length=1, description="Version label of a custom model")

    _without_nul = field_validator("executable", "name", "version")(_no_nul)


@dataclass(frozen=True)
class Dimension:
    """One axis of the sweep: a single variable, or a zip group of variables moving together."""

    name: str                       # the variable's path, or the zip group's name
    paths: list[str]
    values: dict[str, list[Any]]    # path -> its values along this axis (all equally long)

    @property
    def size(self) -> int:
        return len(self.values[self.paths[0]])

    def __len__(self) -> int:
        return self.size


class Sweep(BaseModel):
    """A parameter sweep: the Cartesian product of its dimensions over fixed parameters.

    Parameters
    ----------
    fixed : dict
        Dotted parameter path -> one value (``{"pipe.length": 0.5}``; nested dicts are
        flattened). ``material.name`` set to a preset fills the other material fields,
        which explicit ``material.*`` values override. ``None`` of ``fluid.density``
        (``"eos"`` in a file) takes the density from the equation of state.
    variables : dict
        Ordered path -> :class:`VariableSpec`; plain lists and one-generator tables such as
        ``{"linspace": [start, stop, count]}`` are converted.
    zips : dict
        Group name -> variable paths that move together (one dimension named by the group).
    run, model : RunSettings, ModelSettings
        The ``[run]`` and ``[model]`` tables.
    source : Path or None
        The sweep file (named in errors); ``base_dir`` defaults to its folder, else the
        current folder, and anchors relative paths of ``[run]`` and ``[model]``.

    Notes
    -----
    Constructing a Sweep checks only the structure; :meth:`check`, :meth:`points` and
    :func:`loads_sweep` check the meaning and raise :class:`SweepError` naming the file,
    line and key. Two sweeps are equal when their content is (``source`` and ``base_dir``
    are not compared), so ``loads_sweep(s.to_toml()) == s``. Points are C-ordered over
    :meth:`dimensions`: the last dimension varies fastest.
    """

    model_config = ConfigDict(extra="forbid")

    fixed: dict[str, Any] = Field(default_factory=dict)
    variables: dict[str, VariableSpec] = Field(default_factory=dict)
    zips: dict[str, list[str]] = Field(default_factory=dict)
    run: RunSettings = Field(default_factory=RunSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    source: Path | None = None
    base_dir: Path = Field(default_factory=Path.cwd)

    _locator: KeyLocator | None = PrivateAttr(default=None)
    _cache: tuple[Any, Any] | None = PrivateAttr(default=None)
    # The fingerprint of the content check() last passed: points() checks only once.
    _checked: tuple[Any, ...] | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _base_dir_from_source(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("base_dir") is None:
            data = {k: v for k, v in data.items() if k != "base_dir"}
            if data.get("source"):
                data["base_dir"] = Path(data["source"]).absolute().parent
        return data

    @field_validator("fixed", mode="before")
    @classmethod
    def _flat(cls, v: Any) -> Any:
        # {"pipe": {"length": 0.5}} is accepted for {"pipe.length": 0.5}, as in TOML
        if isinstance(v, dict) and any(isinstance(x, dict) for x in v.values()):
            from ._load import flatten

            return dict(flatten(v, "", is_variable=False))
        return v

    @field_validator("variables", mode="before")
    @classmethod
    def _specs(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: VariableSpec.from_toml(s) for k, s in v.items()}
        return v

    # -- equality and identity -------------------------------------------------------
    def _content(self) -> tuple[Any, ...]:
        return (self.fixed, list(self.variables.items()), list(self.zips.items()),
                self.run, self.model)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sweep):
            return NotImplemented
        return self._content() == other._content()

    __hash__ = None  # type: ignore[assignment]  # mutable, like every pydantic model

    def _fingerprint(self) -> tuple[Any, ...]:
        """Cheap key of everything the resolved dimensions depend on (for the cache)."""
        return (tuple((k, type(v), v) for k, v in self.fixed.items()),
                tuple(self.variables.items()),
                tuple((k, tuple(m)) for k, m in self.zips.items()))

    @staticmethod
    def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
        # specs are immutable: the same objects mean the same values (and 1 == True
        # must not pass for an unchanged value, so == is not enough for them)
        return (a[0] == b[0] and a[2] == b[2] and len(a[1]) == len(b[1])
                and all(x[0] == y[0] and x[1] is y[1] for x, y in zip(a[1], b[1])))

    def _resolved(self) -> Resolved:
        from ._resolve import resolve

        # __pydantic_private__ directly: pydantic's private-attribute access costs
        # microseconds, and coordinates() may be called for every row of a table
        # (a model with private attributes always has the dict: only its type says "or None")
        private = cast("dict[str, Any]", self.__pydantic_private__)
        fp = self._fingerprint()
        cache: tuple[tuple[Any, ...], Resolved] | None = private["_cache"]
        if cache is None or not self._same(cache[0], fp):
            self._refuse_too_many_points()
            cache = private["_cache"] = (fp, resolve(self))
        return cache[1]

    def _refuse_too_many_points(self) -> None:
        """SweepError at once (nothing expanded yet) for more than MAX_POINTS points."""
        sizes: dict[str, int] = {}  # dimension -> values
        zipped = {m: group for group, members in self.zips.items() for m in members}
        for path, spec in self.variables.items():
            try:
                n = spec.count()
            except ValueError:
                return  # a generator that makes no sense: resolving says why
            if n > MAX_POINTS:
                return  # one variable over its own limit: resolving names it at its line
            dim = zipped.get(path, path)
            sizes[dim] = min(sizes.get(dim, n), n)  # unequal zips are reported elsewhere
        count = math.prod(sizes.values())
        if count <= MAX_POINTS:
            return
        biggest = max(self.variables, key=lambda p: self.variables[p].count())
        shape = " x ".join(f"{n:,} ({d})" for d, n in sizes.items())
        raise self.error(
            f"the sweep has {count:,} points = {shape}, more than the limit of {MAX_POINTS:,} "
            f"points per sweep: planning evaluates every point's store path with Nix, and a "
            f"bigger sweep would take minutes and gigabytes of memory to plan. Split it into "
            f"sweeps of at most {MAX_POINTS:,} points (e.g. one file per range of {biggest}), "
            f"or use fewer values", "variable", None)

    # -- errors -----------------------------------------------------------------------
    def error(self, reason: str, section: str | None = None, key: str | None = None) -> SweepError:
        """A SweepError located at ``[section] key`` of this sweep's file (if it has one)."""
        line = None
        if self._locator is not None and section:
            line = self._locator.line(section, key or "")
        return SweepError(reason, file=self.source, line=line, key=key, section=section)

    # -- the public API ---------------------------------------------------------------
    def check(self) -> None:
        """Raise SweepError for the first problem, including cross-field ones at any point."""
        from ._points import check_points

        fp = self._fingerprint()
        if self._checked is not None and self._same(self._checked, fp):
            return
        check_points(self, self._resolved())
        self._checked = fp

    def dimensions(self) -> list[Dimension]:
        """The axes in file order; a zip group sits at the place of its first member."""
        # copies: a caller editing a list must not edit the cached, checked values
        return [Dimension(d.name, list(d.paths), {p: list(v) for p, v in d.values.items()})
                for d in self._resolved().dimensions]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(d.size for d in self._resolved().dimensions)

    @property
    def size(self) -> int:
        """Number of points (1 for a sweep without variables)."""
        return math.prod(self.shape)

    def points(self) -> Points:
        """Every point's parameters, C order over :meth:`dimensions` (the last varies fastest).

        Checks the sweep first (SweepError for the first bad point). The result is a
        read-only sequence of :class:`~sweepgui.params.Parameters` built on access: a
        million points cost no memory until read, and each read gives a new object.
        """
        from ._points import build_points

        self.check()
        return build_points(self, self._resolved())

    def coordinates(self, index: int) -> dict[str, Any]:
        """{path: value} of the variables at point ``index``."""
        dims = self._resolved().dimensions
        size = math.prod(d.size for d in dims)
        if not 0 <= index < size:
            raise IndexError(f"point {index} is outside 0..{size - 1}")
        picks = []
        for d in reversed(dims):
            index, k = divmod(index, d.size)
            picks.append((d, k))
        return {p: d.values[p][k] for d, k in reversed(picks) for p in d.paths}

    def variable_values(self, path: str) -> list[Any]:
        """The checked values of one variable (KeyError if ``path`` is not a variable)."""
        for d in self._resolved().dimensions:
            if path in d.values:
                return list(d.values[path])
        raise KeyError(path)

    def base_values(self) -> dict[str, Any]:
        """Every parameter path -> its value where no variable sets it (defaults, presets, fixed)."""
        return dict(self._resolved().base)

    def machines_path(self) -> Path | None:
        return self._relative(self.run.machines)

    def model_executable_path(self) -> Path | None:
        return self._relative(self.model.executable)

    def _relative(self, name: str | None) -> Path | None:
        if not name:
            return None
        p = Path(name).expanduser()
        return p if p.is_absolute() else self.base_dir / p

    def content_hash(self) -> str:
        """sha256 of what the sweep computes: base parameters, dimensions and model.

        Equal for sweeps that give the same points in the same order with the same model,
        however they were written (a list or a generator, a default written out or not);
        the ``[run]`` settings do not change results and are left out.
        """
        r = self._resolved()
        meaning = {
            "format": 1,
            "base": r.base,
            "presets": r.variable_presets,
            "dimensions": [{"name": d.name, "paths": d.paths, "values": d.values}
                           for d in r.dimensions],
            "model": self.model.model_dump(),
        }
        return "sha256:" + hashlib.sha256(canonical_json(meaning).encode()).hexdigest()

    def to_toml(self) -> str:
        """The sweep file text; ``loads_sweep(s.to_toml()) == s``."""
        from ._write import sweep_to_toml

        return sweep_to_toml(self)
