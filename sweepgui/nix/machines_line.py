"""One line of a Nix machines file: a :class:`Machine` and the parsing of its eight columns.

See :mod:`sweepgui.nix.machines` for the file (comments, ``;``, ``@FILE``, writing).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field

PROTOCOLS = ("ssh", "ssh-ng")
COLUMNS = ("URI", "systems", "SSH identity file", "max jobs", "speed factor",
           "supported features", "mandatory features", "host key")
_URI_RE = re.compile(
    r"^(?:(?P<proto>[A-Za-z][A-Za-z0-9+.-]*)://)?(?:(?P<user>[^@/?\s]+)@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[^:/?@\s\[\]]+)(?::(?P<port>[0-9]*))?(?:\?(?P<query>.*))?$")
_NAME_RE = re.compile(r"^[A-Za-z0-9_.+-]+$")


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
