"""One line of a Nix machines file: a :class:`Machine` and the parsing of its eight columns.

See :mod:`sweepgui.nix.machines` for the file (comments, ``;``, ``@FILE``, writing).
"""

from __future__ import annotations

import base64
import binascii
import math
import numbers
import re
import shlex
from dataclasses import dataclass, field

PROTOCOLS = ("ssh", "ssh-ng")
COLUMNS = ("URI", "systems", "SSH identity file", "max jobs", "speed factor",
           "supported features", "mandatory features", "host key")
_URI_RE = re.compile(
    r"^(?:(?P<proto>[A-Za-z][A-Za-z0-9+.-]*)://)?(?:(?P<user>[^@/?\s]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)(?::(?P<port>[0-9]*))?(?:\?(?P<query>.*))?$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)$")
_USER_RE = re.compile(r"^[^@/?\s]+$")
# Nix reads max jobs (and, before 2.20, the speed factor) as an unsigned int: a larger
# number makes it reject the whole file ("bad machine specification")
UINT_MAX = 2**32 - 1
# what to do when a column value holds a character the file cannot (see check_column_text)
_ADVICE = (
    "write the host name, user name and store settings without it",
    "write system names such as x86_64-linux, separated by commas",
    "use a key file whose path has none of these (move it, or link it: "
    "`ln -s PATH ~/.ssh/id_builder`, and give that path)",
    "write a whole number",
    "write a number",
    "write feature names such as big-parallel, separated by commas",
    "write feature names such as big-parallel, separated by commas",
    "give the base64 of the key line (`base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`), or run "
    "`sweepgui machines fetch-host-key HOST`",
)


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

    Attributes
    ----------
    host : str
        Host name or address (``[::1]`` style for IPv6).
    protocol : str
        "ssh" (``nix-store --serve`` on the builder) or "ssh-ng" (``nix-daemon --stdio``).
    user, port : str | None, int | None
        Login name and ssh port, both optional.
    systems : list of str
        Column 2, e.g. ["x86_64-linux"].
    ssh_key : str | None
        Column 3, the identity file (absolute path, mode 600, no passphrase).
    max_jobs : int | None
        Column 4, builds at once.
    speed_factor : float | None
        Column 5, preference among machines (whole numbers before Nix 2.20).
    supported_features, mandatory_features : list of str
        Columns 6 and 7.
    host_key : str | None
        Column 8, base64 of the host's public key line (pinned; ssh checks it).
    uri_params : dict
        ``?key=value`` store settings of the URI, kept as written.
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
        """The eight column texts, ``-`` for defaults, trailing defaults dropped.

        Raises :class:`MachinesError` for a value the file cannot hold (see :meth:`validate`).
        """
        self.validate()
        return self._columns(with_port=with_port, speed_as_int=speed_as_int)

    def _columns(self, *, with_port: bool = True, speed_as_int: bool = False) -> list[str]:
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

    def validate(self, file: str | None = None, line: int | None = None) -> None:
        """Raise :class:`MachinesError` unless this machine can be written as one line that
        Nix (and sweepgui) read back as the same machine.

        Nix splits columns on blanks and entries on ``;`` and line breaks, cuts comments at
        ``#`` and reads no quoting, so no column value may hold them; numbers must fit their
        columns (Nix reads max jobs as an unsigned int); a host or user name starting with
        ``-`` would reach ssh as an option. The message names the machine and the column.
        """
        try:
            self._check()
        except MachinesError as exc:
            raise MachinesError(file, line, None, f"{self.name}: {exc.msg}") from None

    def _check(self) -> None:
        def fail(msg: str):
            raise MachinesError(None, None, None, msg)

        if self.protocol not in PROTOCOLS:
            fail(f"unsupported protocol '{self.protocol}://': remote builders are reached with "
                 "ssh:// or ssh-ng://")
        if not isinstance(self.host, str) or not self.host:
            fail("no host name: give the builder's host name or address")
        lists = {1: self.systems, 5: self.supported_features, 6: self.mandatory_features}
        texts = [(0, self.host), (0, self.user or "")]
        texts += [(0, t) for kv in self.uri_params.items() for t in kv]
        texts += [(i, t) for i, items in lists.items() for t in items]
        texts += [(2, self.ssh_key or ""), (7, self.host_key or "")]
        for index, text in texts:
            if not isinstance(text, str):
                fail(f"the {COLUMNS[index]} (column {index + 1}) must be text, not {text!r}")
            check_column_text(text, index)
        check_user_name(self.user or "")
        check_host_name(self.host)
        if not _HOST_RE.match(self.host):
            fail(f"the host name '{self.host}' cannot stand in a URI: it has no ':', '/', '?', "
                 "'@', '[' or ']' (an IPv6 address goes in brackets, the port separately)")
        if self.user and not _USER_RE.match(self.user):
            fail(f"the user name '{self.user}' cannot stand in a URI: it has no '@', '/' or '?'")
        if self.port is not None and (not _is_int(self.port) or not 0 < self.port < 65536):
            fail(f"bad port {self.port!r}: use a number 1-65535")
        for index, items in lists.items():
            bad = [t for t in items if not _NAME_RE.match(t) or t == "-"]
            if bad:
                fail(f"bad name '{bad[0]}' in the {COLUMNS[index]} (column {index + 1}): "
                     f"{_ADVICE[index]}")
        if self.ssh_key == "-":
            fail("the SSH identity file (column 3) '-' would be read as 'no file': give the "
                 "key's absolute path, or none")
        if self.max_jobs is not None and not (_is_int(self.max_jobs)
                                              and 0 <= self.max_jobs <= UINT_MAX):
            fail(f"max jobs (column 4) must be a whole number from 0 to {UINT_MAX}; "
                 f"got {self.max_jobs!r}")
        if self.speed_factor is not None and not speed_ok(self.speed_factor):
            fail(f"the speed factor (column 5) must be a number from 0 to {UINT_MAX}; "
                 f"got {self.speed_factor!r}")
        if self.host_key:
            check_host_key(self.host_key)
        # the last word: what is written reads back as this machine
        text = " ".join(self._columns())
        try:
            again = parse_entry(text)
        except MachinesError as exc:
            fail(f"its line '{text}' would not be read back: {exc.msg}")
        if _fields(again) != _fields(self):
            fail(f"its line '{text}' would be read back as another machine ({again.name}): "
                 "check the host name, user and store settings")


def _is_int(x) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def speed_ok(x) -> bool:
    """Whether ``x`` can be a speed factor: a finite number from 0 to Nix's limit."""
    return (isinstance(x, numbers.Real) and not isinstance(x, bool) and math.isfinite(x)
            and 0 <= x <= UINT_MAX)


def _fields(m: Machine) -> tuple:
    return (m.protocol, m.user or None, m.host, m.port, list(m.systems), m.ssh_key or None,
            m.max_jobs, m.speed_factor, list(m.supported_features), list(m.mandatory_features),
            m.host_key or None, dict(m.uri_params))


def _bad_char(text: str) -> str | None:
    """What in ``text`` a machines-file column cannot hold (None: nothing)."""
    for c in text:
        if c in "\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029":
            return "a line break"
        if c == ";":
            return "';' (it separates machines)"
        if c == "#":
            return "'#' (it starts a comment)"
        if c == " ":
            return "a space"
        if c == "\t":
            return "a tab"
        if c.isspace():
            return f"a blank character ({c!r})"
        if ord(c) < 32 or ord(c) == 127:
            return f"a control character ({c!r})"
    return None


def column_text_problem(text: str, index: int) -> str | None:
    """Why ``text`` cannot be the value of column ``index`` (0-7) of a machines file, with
    what to do; None when it can (as far as characters go)."""
    what = _bad_char(text)
    if what is None:
        return None
    advice = _ADVICE[index]
    if index == 2 and text.isprintable():
        advice = advice.replace("PATH", shlex.quote(text))
    return (f"the {COLUMNS[index]} (column {index + 1}) {text!r} contains {what}, which a "
            "machines file cannot hold: columns are separated by blanks, machines by ';' and "
            "line breaks, '#' starts a comment, and Nix reads no quotes. "
            f"{advice[0].upper()}{advice[1:]}")


def check_column_text(text: str, index: int, file=None, line=None, column=None) -> str:
    """``text`` unchanged if column ``index`` can hold it, else :class:`MachinesError`."""
    problem = column_text_problem(text, index)
    if problem:
        raise MachinesError(file, line, column, problem)
    return text


def check_host_name(host: str, file=None, line=None, column=None) -> str:
    """Refuse a host name ssh would read as an option (``-oProxyCommand=...``)."""
    if host.startswith("-"):
        raise MachinesError(file, line, column, f"the host name '{host}' starts with '-', so "
                            "ssh would read it as an option (e.g. -oProxyCommand runs a command): "
                            "write the builder's host name or address")
    return host


def check_user_name(user: str, file=None, line=None, column=None) -> str:
    """Refuse a user name ssh would read as an option (``-l...``)."""
    if user.startswith("-"):
        raise MachinesError(file, line, column, f"the user name '{user}' starts with '-', so "
                            "ssh would read it as an option: write the login name on the builder")
    return user


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def parse_uri(text: str, file: str | None = None, line: int | None = None,
              column: int | None = None) -> dict:
    """Split a builder URI into protocol, user, host, port and store settings."""
    m = _URI_RE.match(text)
    if not m:
        raise MachinesError(file, line, column, f"'{text}' is not a builder address; write it as "
                            "ssh://[USER@]HOST or ssh-ng://[USER@]HOST")

    def at(group: str):
        return None if column is None else column + m.start(group)

    if m["user"] is not None:
        check_user_name(m["user"], file, line, at("user"))
    check_host_name(m["host"], file, line, at("host"))
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
    for index, (tok, col) in enumerate(toks):  # e.g. a control character, or '#' or ';'
        check_column_text(tok, index, file, line, col)  # in a line given on its own
    cols = [t for t, _ in toks] + ["-"] * (len(COLUMNS) - len(toks))
    cpos = [c for _, c in toks] + [None] * (len(COLUMNS) - len(toks))
    if cols[0] == "-":
        raise MachinesError(file, line, cpos[0], "the first column must be the builder's address")
    kw = parse_uri(cols[0], file, line, cpos[0])
    kw["systems"] = _list(cols[1], "system", file, line, cpos[1])
    kw["ssh_key"] = None if cols[2] == "-" else cols[2]
    if cols[3] != "-":
        if not cols[3].isdigit() or int(cols[3]) > UINT_MAX:
            raise MachinesError(file, line, cpos[3], f"max jobs (column 4) must be a whole number "
                                f"such as 4 (at most {UINT_MAX}), or -; got '{cols[3]}'")
        kw["max_jobs"] = int(cols[3])
    if cols[4] != "-":
        try:
            speed = float(cols[4])
        except ValueError:
            speed = -1.0
        if not speed_ok(speed):
            raise MachinesError(file, line, cpos[4], f"speed factor (column 5) must be a number "
                                f"from 0 to {UINT_MAX} such as 2, or -; got '{cols[4]}'")
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
