"""The grammar of one machines-file line: a :class:`Machine` and its eight columns.

One function per column (and per part of the URI column) turns the text a user wrote into
the :class:`Machine` field, or raises :class:`MachinesError` saying what to change:
:func:`parse_uri` (with :func:`parse_protocol`, :func:`parse_user`, :func:`parse_host`,
:func:`parse_port`), :func:`parse_systems`, :func:`parse_ssh_key`, :func:`parse_max_jobs`,
:func:`parse_speed_factor`, :func:`parse_features`, :func:`parse_host_key`.
:func:`parse_field` reaches them by field name. The file parser (:func:`parse_entry`), the
CLI and the GUI's table cells all read through these, so they accept the same values.

In every column ``-`` (and, in a table cell, nothing) means the column's default. See
:mod:`sweepgui.nix.machines.file` for the file (comments, ``;``, ``@FILE``, writing).
"""

from __future__ import annotations

import base64
import binascii
import math
import numbers
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn, TypedDict

PROTOCOLS = ("ssh", "ssh-ng")
COLUMNS = ("URI", "systems", "SSH identity file", "max jobs", "speed factor",
           "supported features", "mandatory features", "host key")
_URI_RE = re.compile(
    r"^(?:(?P<proto>[A-Za-z][A-Za-z0-9+.-]*)://)?(?:(?P<user>[^@/?\s]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)(?::(?P<port>[0-9]*))?(?:\?(?P<query>.*))?$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")
_HOST_RE = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)$")
# no ':' either: Nix 2.31 reads "user:password@host" (RFC 3986), older Nix gives ssh "user:password"
_USER_RE = re.compile(r"^[^@/?:\s]+$")
_DIGITS_RE = re.compile(r"^[0-9]+$")
_NUMBER_RE = re.compile(r"^\+?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$")
_KEY_TYPE_RE = re.compile(r"^(ssh-[a-z0-9-]+|ecdsa-sha2-[a-z0-9-]+|sk-[a-z0-9@.-]+)$")
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
_HOST_KEY_HELP = ("the host key (column 8) must be base64 of the host's public key line (e.g. "
                  "`base64 -w0 /etc/ssh/ssh_host_ed25519_key.pub`), or the key line itself as "
                  "ssh-keyscan or known_hosts give it ('ssh-ed25519 AAAA…'); "
                  "`sweepgui machines fetch-host-key HOST` fetches it")


class MachinesError(ValueError):
    """A machines file (or one entry of it) that Nix would reject or misread.

    The message names the file, line and column and says what to change; ``msg`` is the
    message without the place.
    """

    def __init__(self, file: str | None, line: int | None, column: int | None, msg: str):
        self.file, self.line, self.column, self.msg = file, line, column, msg
        where = ":".join(str(p) for p in (file or "<machines>", line, column) if p is not None)
        super().__init__(f"{where}: {msg}")


def _fail(msg: str) -> NoReturn:
    raise MachinesError(None, None, None, msg)


def _is_default(text: str) -> bool:
    return text in ("", "-")


# -- the columns, one function each --------------------------------------------------------
def parse_protocol(text: str) -> str:
    """The URI's scheme: "ssh" or "ssh-ng" (any case)."""
    proto = text.lower()
    if proto not in PROTOCOLS:
        _fail(f"unsupported protocol '{text}://': remote builders are reached with ssh:// or "
              "ssh-ng://")
    return proto


def parse_user(text: str) -> str | None:
    """The login name of the URI (None: ssh's default)."""
    if text == "":
        return None
    check_column_text(text, 0)
    check_user_name(text)
    if not _USER_RE.match(text):
        _fail(f"the user name '{text}' cannot stand in a URI: it has no '@', '/', ':' or '?'")
    return text


def parse_host(text: str) -> str:
    """The host name or address of the URI (IPv6 in brackets)."""
    if text == "":
        _fail("no host name: give the builder's host name or address")
    check_column_text(text, 0)
    check_host_name(text)
    if not _HOST_RE.match(text):
        _fail(f"the host name '{text}' cannot stand in a URI: it has no ':', '/', '?', '@', "
              "'[' or ']' (an IPv6 address goes in brackets, the port separately)")
    return text


def parse_port(text: str) -> int | None:
    """The ssh port (None: 22, or what the ssh config says)."""
    if _is_default(text):
        return None
    if not _DIGITS_RE.match(text) or not 0 < int(text) < 65536:
        _fail(f"bad port '{text}': use a whole number from 1 to 65535")
    return int(text)


def parse_names(text: str, what: str) -> list[str]:
    """A comma list of system or feature names (column 2, 6 or 7); ``-``: none."""
    text = text.strip()
    if _is_default(text):
        return []
    items = [item.strip() for item in text.split(",")]
    if not all(_NAME_RE.match(item) and item != "-" for item in items):
        _fail(f"bad {what} list '{text}': write names separated by commas without spaces "
              "(e.g. x86_64-linux,aarch64-linux), or -")
    return items


def parse_systems(text: str) -> list[str]:
    """Column 2: the systems it builds for ([]: the local system)."""
    return parse_names(text, "system")


def parse_features(text: str) -> list[str]:
    """Column 6 or 7: supported or mandatory features."""
    return parse_names(text, "feature")


def parse_ssh_key(text: str) -> str | None:
    """Column 3: the identity file (None: ssh's default keys)."""
    if _is_default(text):
        return None
    return check_column_text(text, 2)


def parse_max_jobs(text: str) -> int | None:
    """Column 4: builds at once (None: 1)."""
    if _is_default(text):
        return None
    if not _DIGITS_RE.match(text) or int(text) > UINT_MAX:
        _fail(f"max jobs (column 4) must be a whole number such as 4 (at most {UINT_MAX}), "
              f"or -; got '{text}'")
    return int(text)


def parse_speed_factor(text: str) -> int | float | None:
    """Column 5: the preference among machines (None: 1); whole numbers as int."""
    if _is_default(text):
        return None
    speed = float(text) if _NUMBER_RE.match(text) else -1.0
    if not speed_ok(speed):
        _fail(f"the speed factor (column 5) must be a number from 0 to {UINT_MAX} such as 2, "
              f"or -; got '{text}'")
    return int(speed) if speed.is_integer() else speed


def parse_host_key(text: str) -> str | None:
    """Column 8: the pinned host key as the file holds it (base64 of ``TYPE KEY``), from
    that base64 or from the key line itself (``ssh-ed25519 AAAA…``, a line of ssh-keyscan
    or known_hosts: what a user pastes). None: not pinned."""
    text = text.strip()
    if _is_default(text):
        return None
    tokens = text.split()
    if len(tokens) == 1:
        return check_host_key(text)
    for i, token in enumerate(tokens[:-1]):
        if _KEY_TYPE_RE.match(token):
            return _key_line_column(token, tokens[i + 1])
    _fail(_HOST_KEY_HELP)


def _key_line_column(kind: str, blob: str) -> str:
    """Column 8 for the key line ``kind blob``, once the blob is seen to be a ``kind`` key."""
    try:
        raw = base64.b64decode(blob, validate=True)
        n = int.from_bytes(raw[:4], "big")
        inner = raw[4:4 + n].decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        _fail(f"the text after '{kind}' is not a key (base64 expected): {_HOST_KEY_HELP}")
    if inner != kind or len(raw) < 4 + n + 4:
        _fail(f"the key after '{kind}' is not a {kind} key: {_HOST_KEY_HELP}")
    return base64.b64encode(f"{kind} {blob}".encode()).decode()


def check_host_key(b64: str, file: str | None = None, line: int | None = None,
                   column: int | None = None) -> str:
    """Validate column 8: base64 of one ``TYPE KEY`` public-key line. Returns it unchanged."""
    try:
        decoded = base64.b64decode(b64, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    parts = decoded.split()
    if len(parts) < 2 or not _KEY_TYPE_RE.match(parts[0]):
        raise MachinesError(file, line, column, _HOST_KEY_HELP)
    return b64


class UriParts(TypedDict):
    """The fields of a :class:`Machine` that column 1 (the URI) gives."""

    protocol: str
    user: str | None
    host: str
    port: int | None
    uri_params: dict[str, str]


def parse_uri(text: str, file: str | None = None, line: int | None = None,
              column: int | None = None) -> UriParts:
    """Column 1: split a builder URI into protocol, user, host, port and store settings."""
    m = _URI_RE.match(text)
    if not m:
        raise MachinesError(file, line, column, f"'{text}' is not a builder address; write it as "
                            "ssh://[USER@]HOST or ssh-ng://[USER@]HOST")

    def part(group: str, parse: Callable[[str], Any]) -> Any:
        try:
            return parse(m[group] or "")
        except MachinesError as exc:
            where = None if column is None else column + m.start(group)
            raise MachinesError(file, line, where, exc.msg) from None

    user = part("user", parse_user)
    host = part("host", parse_host)
    try:
        protocol = parse_protocol(m["proto"] or "ssh")
    except MachinesError:
        raise MachinesError(file, line, column, f"unsupported protocol '{m['proto']}://' in "
                            f"'{text}'; remote builders are reached with ssh:// or ssh-ng://") from None
    port = None
    if m["port"] is not None:
        try:  # "host:" has an empty port, not the default one
            port = parse_port(m["port"] or "0")
        except MachinesError:
            raise MachinesError(file, line, column, f"bad port in '{text}': use a whole number "
                                "from 1 to 65535") from None
    params: dict[str, str] = {}
    for item in filter(None, (m["query"] or "").split("&")):
        key, _, value = item.partition("=")
        params[key] = value
    return UriParts(protocol=protocol, user=user, host=host, port=port, uri_params=params)


# Machine field -> the function reading it from text (the URI's parts separately)
FIELD_PARSERS: dict[str, Callable[[str], Any]] = {
    "protocol": parse_protocol,
    "user": parse_user,
    "host": parse_host,
    "port": parse_port,
    "systems": parse_systems,
    "ssh_key": parse_ssh_key,
    "max_jobs": parse_max_jobs,
    "speed_factor": parse_speed_factor,
    "supported_features": parse_features,
    "mandatory_features": parse_features,
    "host_key": parse_host_key,
}


def parse_field(key: str, text: str) -> Any:
    """The value of :class:`Machine` field ``key`` written as ``text`` (as in the file;
    "" is the default too). MachinesError (without a place) if it is not one; KeyError for
    an unknown field."""
    return FIELD_PARSERS[key](text)


# -- characters and names ------------------------------------------------------------------
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


def check_column_text(text: str, index: int, file: str | None = None, line: int | None = None,
                      column: int | None = None) -> str:
    """``text`` unchanged if column ``index`` can hold it, else :class:`MachinesError`."""
    problem = column_text_problem(text, index)
    if problem:
        raise MachinesError(file, line, column, problem)
    return text


def check_host_name(host: str, file: str | None = None, line: int | None = None,
                    column: int | None = None) -> str:
    """Refuse a host name ssh would read as an option (``-oProxyCommand=...``)."""
    if host.startswith("-"):
        raise MachinesError(file, line, column, f"the host name '{host}' starts with '-', so "
                            "ssh would read it as an option (e.g. -oProxyCommand runs a command): "
                            "write the builder's host name or address")
    return host


def check_user_name(user: str, file: str | None = None, line: int | None = None,
                    column: int | None = None) -> str:
    """Refuse a user name ssh would read as an option (``-l...``)."""
    if user.startswith("-"):
        raise MachinesError(file, line, column, f"the user name '{user}' starts with '-', so "
                            "ssh would read it as an option: write the login name on the builder")
    return user


def speed_ok(x: object) -> bool:
    """Whether ``x`` can be a speed factor: a finite number from 0 to Nix's limit."""
    if not isinstance(x, numbers.Real) or isinstance(x, bool):
        return False
    f = float(x)
    return math.isfinite(f) and 0 <= f <= UINT_MAX


def _is_int(x: object) -> bool:
    return isinstance(x, numbers.Integral) and not isinstance(x, bool)


def _format_number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


# -- one entry -------------------------------------------------------------------------------
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
    if toks[0][0] == "-":
        raise MachinesError(file, line, toks[0][1], "the first column must be the builder's address")
    uri = parse_uri(toks[0][0], file, line, toks[0][1])
    rest = {"systems": "-", "ssh_key": "-", "max_jobs": "-", "speed_factor": "-",
            "supported_features": "-", "mandatory_features": "-", "host_key": "-"}
    values: dict[str, Any] = {}
    for (key, _), (tok, col) in zip(rest.items(), toks[1:]):
        try:
            values[key] = parse_field(key, tok)
        except MachinesError as exc:
            raise MachinesError(file, line, col, exc.msg) from None
    return Machine(**uri, **values)


@dataclass
class Machine:
    """One remote builder: the eight columns of a machines-file line.

    ``None`` / empty lists mean "the column's default" (written as ``-``): systems default to
    the local system, max jobs to 1, speed factor to 1, no features, host key from
    ``~/.ssh/known_hosts``. ``port`` is kept here even though Nix before 2.31 cannot read it
    in a URI (see :mod:`sweepgui.nix.machines.setup` for how it reaches ssh there).

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

    def line(self, *, with_port: bool = True, speed_as_int: bool = False) -> str:
        """The machine's line of a machines file (see :meth:`columns`)."""
        return " ".join(self.columns(with_port=with_port, speed_as_int=speed_as_int))

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
        if self.protocol not in PROTOCOLS:
            _fail(f"unsupported protocol '{self.protocol}://': remote builders are reached with "
                  "ssh:// or ssh-ng://")
        if not isinstance(self.host, str) or not self.host:
            _fail("no host name: give the builder's host name or address")
        self._check_texts()
        self._check_numbers()
        if self.host_key:
            check_host_key(self.host_key)
        # the last word: what is written reads back as this machine
        text = " ".join(self._columns())
        try:
            again = parse_entry(text)
        except MachinesError as exc:
            _fail(f"its line '{text}' would not be read back: {exc.msg}")
        if _fields(again) != _fields(self):
            _fail(f"its line '{text}' would be read back as another machine ({again.name}): "
                  "check the host name, user and store settings")

    def _check_texts(self) -> None:
        lists = {1: self.systems, 5: self.supported_features, 6: self.mandatory_features}
        texts: list[tuple[int, object]] = [(0, self.host), (0, self.user or "")]
        texts += [(0, t) for kv in self.uri_params.items() for t in kv]
        texts += [(i, t) for i, items in lists.items() for t in items]
        texts += [(2, self.ssh_key or ""), (7, self.host_key or "")]
        for index, text in texts:
            if not isinstance(text, str):
                _fail(f"the {COLUMNS[index]} (column {index + 1}) must be text, not {text!r}")
            check_column_text(text, index)
        parse_host(self.host)
        parse_user(self.user or "")
        for index, items in lists.items():
            bad = [t for t in items if not _NAME_RE.match(t) or t == "-"]
            if bad:
                _fail(f"bad name '{bad[0]}' in the {COLUMNS[index]} (column {index + 1}): "
                      f"{_ADVICE[index]}")
        if self.ssh_key == "-":
            _fail("the SSH identity file (column 3) '-' would be read as 'no file': give the "
                  "key's absolute path, or none")

    def _check_numbers(self) -> None:
        if self.port is not None and (not _is_int(self.port) or not 0 < self.port < 65536):
            _fail(f"bad port {self.port!r}: use a whole number from 1 to 65535")
        if self.max_jobs is not None and not (_is_int(self.max_jobs)
                                              and 0 <= self.max_jobs <= UINT_MAX):
            _fail(f"max jobs (column 4) must be a whole number from 0 to {UINT_MAX}; "
                  f"got {self.max_jobs!r}")
        if self.speed_factor is not None and not speed_ok(self.speed_factor):
            _fail(f"the speed factor (column 5) must be a number from 0 to {UINT_MAX}; "
                  f"got {self.speed_factor!r}")


def _fields(m: Machine) -> tuple[object, ...]:
    return (m.protocol, m.user or None, m.host, m.port, list(m.systems), m.ssh_key or None,
            m.max_jobs, m.speed_factor, list(m.supported_features), list(m.mandatory_features),
            m.host_key or None, dict(m.uri_params))
