"""The Nix machines file (remote builders): parse, edit and write it, keeping comments and order.

One line per builder, whitespace-separated columns, ``-`` for "default"::

    URI  SYSTEMS  SSH-KEY  MAX-JOBS  SPEED-FACTOR  SUPPORTED-FEATURES  MANDATORY-FEATURES  HOST-KEY
    ssh://alice@build1 x86_64-linux,i686-linux /home/alice/.ssh/id_build 4 2 big-parallel - c3NoLWVk...

``#`` starts a comment, ``;`` separates entries like a newline, and ``@FILE`` includes another
file. Nix before 2.29 (:data:`~sweepgui.nix.compat.COMMENT_BEFORE_SEMICOLON`) splits on ``;``
*before* it strips comments (so ``# a; b`` makes ``b`` an entry there, and not in newer Nix);
this module reads comments the newer way, warns about lines whose meaning differs, and writes
one machine per line with comments on their own lines and no ``;`` inside them, which means the
same to every Nix. The columns of one line are :mod:`sweepgui.nix.machines.line`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field, replace
from pathlib import Path

from ...atomic import atomic_path
from ..compat import COMMENT_BEFORE_SEMICOLON, Version
from .line import Machine, MachinesError, parse_entry
from .versions import readable_by_nix


def default_machines_path() -> Path:
    """The user's own machines file, ``$XDG_CONFIG_HOME/sweepgui/machines`` (~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "sweepgui" / "machines"


@dataclass
class Comment:
    """A comment line (``text`` without the ``#``), or a blank line when ``text`` is None."""

    text: str | None


@dataclass
class Include:
    """An ``@FILE`` entry: Nix reads that file's machines too (a missing file adds none).

    ``line`` is where it was read (None when added in code), for messages.
    """

    path: str
    line: int | None = field(default=None, compare=False)


@dataclass
class Entry:
    """A machine as it appears in the file. ``raw`` is the original text, reused on writing
    while the machine is unchanged so that hand-made alignment survives."""

    machine: Machine
    raw: str | None = None
    parsed: Machine | None = None


Item = Comment | Include | Entry


@dataclass
class MachinesFile:
    """A machines file as a list of items (comments, blank lines, includes, machines) in order.

    Parse with :meth:`parse` / :meth:`load`; edit ``items`` or use :meth:`add` / :meth:`remove`;
    write with :meth:`dumps` / :meth:`save` (atomic, keeps one ``.bak``).
    ``warnings`` lists (line, message) for text that older and newer Nix read differently;
    ``adjusted`` what the last :meth:`save` changed so that the local Nix reads the file.
    """

    items: list[Item] = field(default_factory=list)
    source: str | None = None
    warnings: list[tuple[int, str]] = field(default_factory=list)
    adjusted: list[str] = field(default_factory=list, compare=False, repr=False)

    @classmethod
    def parse(cls, text: str, source: str | os.PathLike[str] | None = None) -> MachinesFile:
        src = None if source is None else str(source)
        mf = cls(source=src)
        for lineno, line in enumerate(text.splitlines(), start=1):
            content, hash_, comment = line.partition("#")
            if hash_ and ";" in comment:
                mf.warnings.append((lineno, "';' inside a comment: Nix before "
                                    f"{COMMENT_BEFORE_SEMICOLON.since} reads the text after it "
                                    "as another machine; sweepgui writes ',' instead"))
            segments, pos = [], 0
            for seg in content.split(";"):
                segments.append((seg, pos + 1))
                pos += len(seg) + 1
            entries = [(s, c) for s, c in segments if s.strip()]
            if not entries:
                mf.items.append(Comment(comment.rstrip() if hash_ else None))
                continue
            if hash_:  # trailing comment: kept, written on its own line above the entry
                mf.items.append(Comment(comment.rstrip()))
            single = len(entries) == 1 and not hash_
            for seg, col in entries:
                stripped = seg.lstrip()
                col += len(seg) - len(stripped)
                if stripped.startswith("@"):
                    path = stripped[1:].strip()
                    if not path:
                        raise MachinesError(src, lineno, col, "'@' must be followed by a file name")
                    mf.items.append(Include(path, lineno))
                    continue
                machine = parse_entry(stripped, src, lineno, col)
                mf.items.append(Entry(machine, raw=line.rstrip() if single else None,
                                      parsed=replace(machine) if single else None))
        return mf

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> MachinesFile:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise MachinesError(str(path), None, None, "no such machines file; create it with "
                                "`sweepgui machines add` or choose another file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise MachinesError(str(path), None, None, f"cannot read the machines file: {exc}") from None
        return cls.parse(text, path)

    # -- the machines ---------------------------------------------------------------------
    @property
    def machines(self) -> list[Machine]:
        """The machines of this file itself (not of the files it includes)."""
        return [it.machine for it in self.items if isinstance(it, Entry)]

    @property
    def includes(self) -> list[str]:
        return [it.path for it in self.items if isinstance(it, Include)]

    def all_machines(self, missing_ok: bool = False,
                     _seen: frozenset[str] = frozenset()) -> list[Machine]:
        """Machines of this file and, in place of each ``@FILE``, of that file.

        A relative ``@FILE`` is read from this file's folder (Nix itself reads it from its
        working folder, so runs hand Nix a copy with the includes resolved; see
        :func:`sweepgui.nix.machines.setup.builder_setup`). A missing file is an error naming this file and
        line, since it is almost always a typo; with ``missing_ok`` it adds no machine,
        as in Nix (whose default ``builders`` names /etc/nix/machines, often absent).
        An include loop is an error.
        """
        out: list[Machine] = []
        here = os.path.realpath(self.source) if self.source else None
        seen = _seen | ({here} if here else set())
        for it in self.items:
            if isinstance(it, Entry):
                out.append(it.machine)
            elif isinstance(it, Include):
                base = os.path.dirname(self.source) if self.source else "."
                path = os.path.join(base, os.path.expanduser(it.path))
                if os.path.realpath(path) in seen:
                    raise MachinesError(self.source, it.line, None, f"'@{it.path}' includes "
                                        "itself (directly or through other files); remove that line")
                if os.path.exists(path):
                    out.extend(MachinesFile.load(path).all_machines(missing_ok, seen))
                elif not missing_ok:
                    raise MachinesError(self.source, it.line, None, f"'@{it.path}' includes "
                                        f"{os.path.abspath(path)}, which does not exist: fix the "
                                        "file name (relative names start at this file's folder) "
                                        "or remove that line")
        return out

    def find(self, name: str) -> Machine | None:
        """The machine whose URI, name, ``user@host`` or host is ``name``."""
        for m in self.machines:
            if name in (m.uri, m.name, m.address, m.host, f"{m.host}:{m.port}"):
                return m
        return None

    def add(self, machine: Machine, replace_existing: bool = True) -> None:
        """Append ``machine``; a machine with the same URI is replaced in place instead."""
        for it in self.items:
            if isinstance(it, Entry) and it.machine.name == machine.name:
                if not replace_existing:
                    raise MachinesError(self.source, None, None, f"{machine.name} is already listed")
                it.machine = machine
                return
        self.items.append(Entry(machine))

    def remove(self, name: str) -> Machine:
        m = self.find(name)
        if m is None:
            raise MachinesError(self.source, None, None, f"no machine '{name}' in this file "
                                "(`sweepgui machines list` shows them)")
        self.items = [it for it in self.items if not (isinstance(it, Entry) and it.machine is m)]
        return m

    # -- writing --------------------------------------------------------------------------
    def dumps(self) -> str:
        """The file's text: one item per line; unchanged machines keep their original line.

        Raises :class:`MachinesError` (naming this file and the machine) for a machine that
        cannot be written so that it reads back the same (see :meth:`Machine.validate`).
        """
        lines = []
        for it in self.items:
            if isinstance(it, Comment):
                # no ';' (Nix < 2.29 would split there) and no line break inside a comment
                text = "" if it.text is None else it.text.replace(";", ",")
                lines.append("" if it.text is None else
                             "#" + " ".join(text.splitlines()).rstrip())
            elif isinstance(it, Include):
                lines.append("@" + it.path)
            elif it.raw is not None and it.machine == it.parsed:
                lines.append(it.raw)
            else:
                try:
                    lines.append(it.machine.line())
                except MachinesError as exc:
                    raise MachinesError(self.source, None, None, exc.msg) from None
        return "".join(line + "\n" for line in lines)

    def fit_to_nix(self, nix_version: Version | None = None) -> list[str]:
        """Change what the local Nix (or Nix ``nix_version``) cannot read in a machines file:
        a fractional speed factor becomes whole before Nix 2.20 (which would reject the whole
        file). Returns a plain note per change, to tell the user."""
        notes = []
        for it in self.items:
            if isinstance(it, Entry):
                fitted, note = readable_by_nix(it.machine, nix_version)
                if note:
                    it.machine = fitted
                    notes.append(note)
        return notes

    def save(self, path: str | os.PathLike[str] | None = None, backup: bool = True,
             nix_version: Version | None = None) -> Path:
        """Write atomically (temp file + rename); the previous version becomes ``FILE.bak``.

        Only what the local Nix (or Nix ``nix_version``) reads is written: see
        :meth:`fit_to_nix`; ``adjusted`` then lists what was changed, for the user.
        Raises :class:`MachinesError` for a machine the file cannot hold, writing nothing.
        """
        target = Path(path or self.source or default_machines_path())
        self.adjusted = self.fit_to_nix(nix_version)
        write_atomic(target, self.dumps(), backup=backup)
        self.source = str(target)
        return target


def write_atomic(target: Path, text: str, backup: bool = True, mode: int | None = None) -> None:
    """Write ``text`` to ``target`` via a temp file in the same folder; keep one ``.bak``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target, mode) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if backup and target.exists():
            bak = target.with_name(target.name + ".bak")
            # a hard link keeps the old version in place until the rename is done
            if bak.exists():
                bak.unlink()
            try:
                os.link(target, bak)
            except OSError:
                shutil.copy2(target, bak)
