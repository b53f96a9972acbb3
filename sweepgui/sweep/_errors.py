"""The one exception of sweep files, and the 'did you mean' helper its messages use."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class SweepError(ValueError):
    """A problem in a sweep a user can fix, located as precisely as we can.

    Attributes
    ----------
    file : str or None
        The sweep file, or None for a sweep that was never saved.
    line : int or None
        1-based line of the offending key (or of a TOML syntax error).
    key : str or None
        The offending key as a dotted path, e.g. ``"fluid.density"`` or ``"run.jobs"``.
    section : str or None
        The TOML table the key lives in (``fixed``, ``variable``, ``zip``, ``run``, ``model``).
    reason : str
        The message without its location, for forms that show the location themselves.
    """

    def __init__(self, reason: str, *, file: str | Path | None = None, line: int | None = None,
                 key: str | None = None, section: str | None = None):
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.line = line
        self.key = key
        self.section = section
        where = self.file or "<unsaved sweep>"
        if line is not None:
            where += f", line {line}"
        if key is not None:
            where += f", [{section}] {key}" if section else f", {key}"
        elif section:
            where += f", [{section}]"
        super().__init__(f"{where}: {reason}")


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the closest candidate, or '' if none is close.

    Dotted candidates are also matched on their last part, so that ``density`` finds
    ``fluid.density`` (difflib alone scores that pair too low).
    """
    candidates = list(candidates)
    tail = name.rsplit(".", 1)[-1]
    close = [c for c in candidates if "." in c and c.rsplit(".", 1)[-1] == tail and c != name]
    if not close:
        close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    if not close:
        tails = sorted({c.rsplit(".", 1)[-1] for c in candidates})
        near = difflib.get_close_matches(tail, tails, n=1, cutoff=0.75)
        if near:
            close = [c for c in candidates if c.rsplit(".", 1)[-1] == near[0]]
    if not close:
        return ""
    return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
