"""The merged results of the sweep on show, for the run tab's data exports and sensitivities.

Qt-free: these functions run on a worker thread (``BackgroundCall``). Every number comes from
``sweepgui.results`` (``load_dataset``, ``export``, ``sensitivities``), exactly as the CLI's
``sweepgui export`` and ``sweepgui sensitivity`` compute it.

Which manifest: the run's own (``<state dir>/manifest.json``) when it belongs to this sweep;
otherwise, for a sweep only opened (its points already in the store), the manifest a run would
start from, made from the engine's plan (cached points with their store paths).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sweepgui.results import (
    EXPORT_FORMATS,
    ResultsError,
    export,
    load_dataset,
    read_manifest,
    sensitivities,
)
from sweepgui.sweep.status import DONE


@dataclass(frozen=True)
class ResultsSource:
    """Where the results of the sweep on show are: its run's state folder, or its plan."""

    sweep: Any
    plan: Any = None
    state_dir: Path | None = None

    def key(self) -> tuple:
        try:
            identity = self.sweep.content_hash()
        except Exception:
            identity = id(self.sweep)
        return (identity, str(self.state_dir), id(self.plan))

    def manifest(self) -> tuple[dict, Path | None]:
        """(manifest, state folder to cache summaries in); ResultsError when there is none."""
        if self.state_dir is not None:
            try:
                manifest = read_manifest(self.state_dir)
            except ResultsError:
                manifest = None
            if manifest is not None and manifest.get("sweep_hash") == self.sweep.content_hash():
                return manifest, self.state_dir
        if self.plan is not None and any(p.cached for p in self.plan.points):
            from sweepgui.nix.manifest import initial_manifest

            try:
                return initial_manifest(self.sweep, self.plan, self.state_dir, None), None
            except (AttributeError, TypeError, ValueError):
                pass  # a plan without the model's details (tests' fakes): nothing to merge
        raise ResultsError("this sweep has no results yet: run it first")

    def dataset(self, with_spectra: bool = False):
        manifest, state_dir = self.manifest()
        return load_dataset(manifest, with_spectra=with_spectra, state_dir=state_dir,
                            cache=state_dir is not None)


def export_dataset(source: ResultsSource, path: str | Path, fmt: str) -> str:
    """Write the sweep's merged results (``sweepgui.results.export``); the message to show."""
    path = Path(path)
    ds = source.dataset(with_spectra=EXPORT_FORMATS[fmt].spectra)
    export(ds, path, fmt)
    status = [str(s) for s in ds.status.values.ravel()]
    missing = [s for s in status if s not in DONE]
    text = f"wrote {path} ({fmt}, {len(status)} points)"
    if missing:
        text += f"; {len(missing)} without a result (NaN): {', '.join(sorted(set(missing)))}"
    return text


def sensitivities_at(source: ResultsSource, at: dict[str, Any] | None, mode: int | None,
                     dataset=None):
    """(dataset, ``sweepgui.results.sensitivities`` at the grid point nearest ``at``, the
    centre when None). ``dataset``: one loaded before for the same results, reused."""
    ds = dataset if dataset is not None else source.dataset(with_spectra=False)
    return ds, sensitivities(ds, at=at, mode=mode)
