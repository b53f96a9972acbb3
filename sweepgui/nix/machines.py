"""The Nix machines file (remote builders): parse, edit and write it, keeping comments and order.

One line per builder, whitespace-separated columns, ``-`` for "default"::

    URI  SYSTEMS  SSH-KEY  MAX-JOBS  SPEED-FACTOR  SUPPORTED-FEATURES  MANDATORY-FEATURES  HOST-KEY
    ssh://alice@build1 x86_64-linux,i686-linux /home/alice/.ssh/id_build 4 2 big-parallel - c3NoLWVk...

``#`` starts a comment, ``;`` separates entries like a newline, and ``@FILE`` includes another
file. Nix before 2.29 splits on ``;`` *before* it strips comments (so ``# a; b`` makes ``b`` an
entry there, and not in newer Nix); this module reads comments the newer way, warns about lines
whose meaning differs, and writes one machine per line with comments on their own lines and no
``;`` inside them, which means the same to every Nix.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

PROTOCOLS = ("ssh", "ssh-ng")
COLUMNS = ("URI", "systems", "SSH identity file", "max jobs", "speed factor",
           "supported features", "mandatory features", "host key")
_URI_RE = re.compile(
    r"^(?:(?P<proto>[A-Za-z][A-Za-z0-9+.-]*)://)?(?:(?P<user>[^@/?\s]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)(?::(?P<port>[0-9]*))?(?:\?(?P<query>.*))?$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")


def default_machines_path() -> Path:
    """The user's own machines file, ``$XDG_CONFIG_HOME/sweepgui/machines`` (~/.config/...)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "sweepgui" / "machines"


class MachinesError(ValueError):
    """A machines file (or one entry of it) that Nix would reject or misread.

    The message names the file, line and column and says what to change.
    """

    def __init__(self, file: str | None, line: int | None, column: int | None, msg: str):
        self.file, self.line, self.column, self.msg = file, line, column, msg
        where = ":".join(str(p) for p in (file or "<machines>", line, column) if p is not None)
        super().__init__(f"{where}: {msg}")


@dataclass
class Machine:
    """One remote builder: the eight columns of a machines-file line.

    ``None`` / empty lists mean "the column's default" (written as ``-``): systems default to
    the local system, max jobs to 1, speed factor to 1, no features, host key from
    ``~/.ssh/known_hosts``. ``port`` is kept here even though Nix before 2.31 cannot read it
    in a URI (see :mod:`sweepgui.nix.machines_nix` for how it reaches ssh there).
    """

    host: str
    protocol: str = "ssh"
    user: str | None = None
    port: int | None = None
    systems: list[str] = field(default_factory=list)
    ssh_key: str | None = None
    max_jobs: int | None = None
    speed_factor: float | None = None
    supported_features: list[str] = field(default_factory=list)
    mandatory_features: list[str] = field(default_factory=list)
    host_key: str | None = None  # base64 of the "ssh-ed25519 AAAA..." line, as in the file
    uri_params: dict[str, str] = field(default_factory=dict)  # ?key=value store settings

    @property
    def address(self) -> str:
        """``user@host`` as ssh gets it (no port)."""
        return f"{self.user}@{self.host}" if self.user else self.host

    @property
    def uri(self) -> str:
        """The store URI with the port in it (the form Nix >= 2.31 reads)."""
        return self.store_uri(with_port=True)

    def store_uri(self, with_port: bool = True, with_params: bool = True) -> str:
        uri = f"{self.protocol}://{self.address}"
        if with_port and self.port is not None:
            uri += f":{self.port}"
        if with_params and self.uri_params:
            uri += "?" + "&".join(f"{k}={v}" for k, v in self.uri_params.items())
        return uri

    @property
    def name(self) -> str:
        """A short label for messages: the URI without store settings."""
        return self.store_uri(with_params=False)

    def host_key_line(self) -> str | None:
        """The pinned key as an OpenSSH public-key line (``ssh-ed25519 AAAA...``), or None."""
        if not self.host_key:
            return None
        return base64.b64decode(self.host_key).decode("utf-8", "replace").strip()

    def columns(self, *, with_port: bool = True, speed_as_int: bool = False) -> list[str]:
        """The eight column texts, ``-`` for defaults, trailing defaults dropped."""
        speed = self.speed_factor
        if speed is not None and speed_as_int:
            speed = max(1, round(speed))
        cols = [
            self.store_uri(with_port=with_port),
            ",".join(self.systems) or "-",
            self.ssh_key or "-",
            "-" if self.max_jobs is None else str(self.max_jobs),
            "-" if speed is None else _format_number(speed),
            ",".join(self.supported_features) or "-",
            ",".join(self.mandatory_features) or "-",
            self.host_key or "-",
        ]
        while len(cols) > 1 and cols[-1] == "-":
            cols.pop()
        return cols

    def line(self, **kwargs) -> str:
        return " ".join(self.columns(**kwargs))


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


@dataclass
class Comment:
    """A comment line (``text`` without the ``#``), or a blank line when ``text`` is None."""

    text: str | None


@dataclass
class Include:
    """An ``@FILE`` entry: Nix reads that file's machines too (a missing file adds none)."""

    path: str


@dataclass
class Entry:
    """A machine as it appears in the file. ``raw`` is the original text, reused on writing
    while the machine is unchanged so that hand-made alignment survives."""

    machine: Machine
    raw: str | None = None
    parsed: Machine | None = None


Item = Comment | Include | Entry


def parse_uri(text: str, file: str | None = None, line: int | None = None,
              column: int | None = None) -> dict:
    """Split a builder URI into protocol, user, host, port and store settings."""
    m = _URI_RE.match(text)
    if not m:
        raise MachinesError(file, line, column, f"'{text}' is not a builder address; write it as "
                            "ssh://[USER@]HOST or ssh-ng://[USER@]HOST")
    proto = (m["proto"] or "ssh").lower()
    if proto not in PROTOCOLS:
        raise MachinesError(file, line, column, f"unsupported protocol '{proto}://' in '{text}'; "
                            "remote builders are reached with ssh:// or ssh-ng://")
    port = None
    if m["port"] is not None:
        if not m["port"] or not 0 < int(m["port"]) < 65536:
            raise MachinesError(file, line, column, f"bad port in '{text}': use a number 1-65535")
        port = int(m["port"])
    params: dict[str, str] = {}
    for part in filter(None, (m["query"] or "").split("&")):
        key, _, value = part.partition("=")
        params[key] = value
    return dict(protocol=proto, user=m["user"], host=m["host"], port=port, uri_params=params)


def _list(text: str, what: str, file, line, col) -> list[str]:
    if text == "-":
        return []
    items = text.split(",")
    for item in items:
        if not item or not _NAME_RE.match(item):
            raise MachinesError(file, line, col, f"bad {what} list '{text}': write names separated "
                                "by commas without spaces (e.g. x86_64-linux,aarch64-linux), or -")
    return items


def parse_entry(text: str, file: str | None = None, line: int | None = None,
                column: int = 1) -> Machine:
    """Parse one entry (the columns of one machine); ``column`` is where ``text`` starts."""
    toks = [(m.group(), column + m.start()) for m in re.finditer(r"\S+", text)]
    if not toks:
        raise MachinesError(file, line, column, "empty machine entry")
    if len(toks) > len(COLUMNS):
        tok, col = toks[len(COLUMNS)]
        raise MachinesError(file, line, col, f"too many columns: a machine has at most 8 "
                            f"({', '.join(COLUMNS)}); '{tok}' is a 9th. Separate machines by newlines")
    cols = [t for t, _ in toks] + ["-"] * (len(COLUMNS) - len(toks))
    cpos = [c for _, c in toks] + [None] * (len(COLUMNS) - len(toks))
    if cols[0] == "-":
        raise MachinesError(file, line, cpos[0], "the first column must be the builder's address")
    kw = parse_uri(cols[0], file, line, cpos[0])
    kw["systems"] = _list(cols[1], "system", file, line, cpos[1])
    kw["ssh_key"] = None if cols[2] == "-" else cols[2]
    if cols[3] != "-":
        if not cols[3].isdigit():
            raise MachinesError(file, line, cpos[3], f"max jobs (column 4) must be a whole number "
                                f"such as 4, or -; got '{cols[3]}'")
        kw["max_jobs"] = int(cols[3])
    if cols[4] != "-":
        try:
            speed = float(cols[4])
        except ValueError:
            speed = -1.0
        if not (speed >= 0 and speed < float("inf")):
            raise MachinesError(file, line, cpos[4], f"speed factor (column 5) must be a number "
                                f">= 0 such as 2, or -; got '{cols[4]}'")
        kw["speed_factor"] = int(speed) if cols[4].isdigit() else speed
    kw["supported_features"] = _list(cols[5], "feature", file, line, cpos[5])
    kw["mandatory_features"] = _list(cols[6], "feature", file, line, cpos[6])
    if cols[7] != "-":
        kw["host_key"] = check_host_key(cols[7], file, line, cpos[7])
    return Machine(**kw)


def check_host_key(b64: str, file=None, line=None, column=None) -> str:
    """Validate column 8: base64 of one ``TYPE KEY`` public-key line. Returns it unchanged."""
    try:
        decoded = base64.b64decode(b64, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    parts = decoded.split()
    if len(parts) < 2 or not (parts[0].startswith("ssh-") or parts[0].startswith("ecdsa-")):
        raise MachinesError(file, line, column, "the host key (column 8) must be base64 of the "
                            "host's public key line (e.g. `base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`); "
                            "run `sweepgui machines fetch-host-key HOST` to get it")
    return b64


@dataclass
class MachinesFile:
    """A machines file as a list of items (comments, blank lines, includes, machines) in order.

    Parse with :meth:`parse` / :meth:`load`; edit ``items`` or use :meth:`add` / :meth:`remove`;
    write with :meth:`dumps` / :meth:`save` (atomic, keeps one ``.bak``).
    ``warnings`` lists (line, message) for text that older and newer Nix read differently.
    """

    items: list[Item] = field(default_factory=list)
    source: str | None = None
    warnings: list[tuple[int, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, source: str | os.PathLike | None = None) -> "MachinesFile":
        src = None if source is None else str(source)
        mf = cls(source=src)
        for lineno, line in enumerate(text.splitlines(), start=1):
            content, hash_, comment = line.partition("#")
            if hash_ and ";" in comment:
                mf.warnings.append((lineno, "';' inside a comment: Nix before 2.29 reads the text "
                                    "after it as another machine; sweepgui writes ',' instead"))
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
                    mf.items.append(Include(path))
                    continue
                machine = parse_entry(stripped, src, lineno, col)
                mf.items.append(Entry(machine, raw=line.rstrip() if single else None,
                                      parsed=replace(machine) if single else None))
        return mf

    @classmethod
    def load(cls, path: str | os.PathLike) -> "MachinesFile":
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

    def all_machines(self, _seen: frozenset[str] = frozenset()) -> list[Machine]:
        """Machines of this file and, in place of each ``@FILE``, of that file (as Nix does:
        a missing file adds none; an include loop is an error)."""
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
                    raise MachinesError(self.source, None, None, f"'@{it.path}' includes itself "
                                        "(directly or through other files); remove that line")
                if os.path.exists(path):
                    out.extend(MachinesFile.load(path).all_machines(seen))
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
        """The file's text: one item per line; unchanged machines keep their original line."""
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
                lines.append(it.machine.line())
        return "".join(line + "\n" for line in lines)

    def save(self, path: str | os.PathLike | None = None, backup: bool = True) -> Path:
        """Write atomically (temp file + rename); the previous version becomes ``FILE.bak``."""
        target = Path(path or self.source or default_machines_path())
        write_atomic(target, self.dumps(), backup=backup)
        self.source = str(target)
        return target


def write_atomic(target: Path, text: str, backup: bool = True, mode: int = 0o644) -> None:
    """Write ``text`` to ``target`` via a temp file in the same folder; keep one ``.bak``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        if backup and target.exists():
            bak = target.with_name(target.name + ".bak")
            # a hard link keeps the old version in place until the rename is done
            if bak.exists():
                bak.unlink()
            try:
                os.link(target, bak)
            except OSError:
                shutil.copy2(target, bak)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
