"""The one model behind the forms, the sweep file and the run (see :class:`SweepModel`).

The data itself is a Qt-free :class:`~sweepgui.sweep.SweepDraft` (what a sweep file
holds); this module adds the signals views subscribe to, the unsaved state and file I/O.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from sweepgui.atomic import atomic_write
from sweepgui.sweep import SweepDraft


class SweepModel(QObject):
    """The one model behind the forms, the file and the run: a :class:`SweepDraft` + signals.

    ``changed`` fires after every edit (views refresh from ``draft``), ``dirtyChanged`` when the
    unsaved state flips, ``sourceChanged`` when the file name changes.  Text the forms cannot parse
    yet (``"1e"``) is kept as an input error per path, so that Run says why it is disabled.
    """

    changed = Signal()
    dirtyChanged = Signal(bool)
    sourceChanged = Signal(object)

    def __init__(self, draft: SweepDraft | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self._draft = draft or SweepDraft()
        self._saved = self._draft.to_toml()
        self._input_errors: dict[str, str] = {}

    # reading
    @property
    def draft(self) -> SweepDraft:
        return self._draft

    @property
    def source(self) -> Path | None:
        return self._draft.source

    def is_dirty(self) -> bool:
        return self._draft.to_toml() != self._saved

    def problems(self) -> list[tuple[str, str]]:
        return list(self._input_errors.items()) + self._draft.problems()

    def input_problems(self) -> list[tuple[str, str]]:
        """(path, message) of text in the forms that does not parse yet."""
        return list(self._input_errors.items())

    def input_error(self, path: str) -> str | None:
        """The message for text in the forms that does not parse yet (None: none)."""
        return self._input_errors.get(path)

    # editing: every edit goes through _edit so that views and the dirty flag follow
    def _edit(self, fn, *args) -> None:
        was = self.is_dirty()
        fn(*args)
        self.changed.emit()
        if self.is_dirty() != was:
            self.dirtyChanged.emit(not was)

    def set_fixed(self, path: str, value: Any) -> None:
        self._input_errors.pop(path, None)
        self._edit(self._draft.set_fixed, path, value)

    def set_variable(self, path: str, spec: Any) -> None:
        self._input_errors.pop(path, None)
        self._edit(self._draft.set_variable, path, spec)

    def set_mode(self, path: str, mode: str) -> None:
        self._input_errors.pop(path, None)
        self._edit(self._draft.set_mode, path, mode)

    def apply_material_preset(self, name: str) -> None:
        self._edit(self._draft.apply_material_preset, name)

    def set_setting(self, section: str, key: str, value: Any) -> None:
        """Set ``[run]`` or ``[model]`` ``key`` (None or "" removes it: the default applies)."""
        table = {"run": self._draft.run, "model": self._draft.model}[section]

        def apply() -> None:
            if value is None or value == "":
                table.pop(key, None)
            else:
                table[key] = value

        self._edit(apply)

    def set_zips(self, zips: dict[str, list[str]]) -> None:
        self._edit(setattr, self._draft, "zips", {k: list(v) for k, v in zips.items()})

    def set_input_error(self, path: str, message: str | None) -> None:
        if message is None:
            if self._input_errors.pop(path, None) is not None:
                self.changed.emit()
        elif self._input_errors.get(path) != message:
            self._input_errors[path] = message
            self.changed.emit()

    # whole documents
    def replace(self, draft: SweepDraft, saved: bool = True) -> None:
        """Show another sweep (New/Open); ``saved``: it equals its file on disk."""
        was = self.is_dirty()
        old_source = self._draft.source
        self._draft = draft
        self._input_errors.clear()
        if saved:
            self._saved = draft.to_toml()
        self.changed.emit()
        if self.is_dirty() != was:
            self.dirtyChanged.emit(self.is_dirty())
        if draft.source != old_source:
            self.sourceChanged.emit(draft.source)

    def load(self, path: Path) -> None:
        """Open a sweep file (DraftError/OSError with a message on failure)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        self.replace(SweepDraft.from_toml(text, source=path.resolve()))

    def _rebase(self, folder: Path) -> None:
        """Keep relative ``[run] machines`` / ``[model] executable`` naming the same files
        when the sweep is saved into another folder (they are relative to the sweep file)."""
        import os

        old = self._draft.source.parent if self._draft.source else Path.cwd()
        if old == folder:
            return
        for table, key in ((self._draft.run, "machines"), (self._draft.model, "executable")):
            name = table.get(key)
            if isinstance(name, str) and name and not Path(name).expanduser().is_absolute():
                table[key] = Path(os.path.relpath(old / name, folder)).as_posix()

    def save(self, path: Path | None = None) -> Path:
        """Write the sweep file atomically (temp file + rename); returns the path."""
        target = Path(path or self._draft.source or "")
        if not str(target):
            raise ValueError("no file name: use Save As")
        target = target.resolve()
        self._rebase(target.parent)
        text = self._draft.to_toml()
        atomic_write(target, text, fsync=True)
        was = self.is_dirty()
        old = self._draft.source
        self._draft.source = target
        self._saved = text
        if was:
            self.dirtyChanged.emit(False)
        if old != target:
            self.sourceChanged.emit(target)
        return target
