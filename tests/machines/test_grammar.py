"""One grammar for a machines line: the GUI's table cells, the file and the CLI agree.

Each row is a value a user types into one cell of the machines table, with what it must
mean (the Machine field, or BAD: refused with a message). The same text is then written
into its column of a machines-file line (a blank cell as '-', the URI's parts into the URI)
and read by the file's entry parser: both must give that meaning. Cells with blanks cannot
be written into a column (blanks separate columns); the GUI must refuse them.
"""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings

from sweepgui.nix.machines import Machine, MachinesError, MachinesFile, parse_entry, parse_field
from sweepgui.nix.machines.line import FIELD_PARSERS
from sweepgui.ui.machines.table import KEYS, parse_cell

from .test_machines_file import KEY, machines

BAD = object()
_BLOB = base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"\x00\x00\x00\x20" + b"k" * 32).decode()

CELLS = [
    # the URI's parts
    ("protocol", "ssh", "ssh"), ("protocol", "ssh-ng", "ssh-ng"), ("protocol", "SSH", "ssh"),
    ("protocol", "http", BAD), ("protocol", "", BAD),
    ("user", "alice", "alice"), ("user", "", None), ("user", "-lroot", BAD), ("user", "a:b", BAD),
    ("user", "a;b", BAD), ("user", "a#b", BAD), ("user", "a b", BAD),
    ("host", "build1", "build1"), ("host", "10.0.0.1", "10.0.0.1"), ("host", "[::1]", "[::1]"),
    ("host", "", BAD), ("host", "-oProxyCommand=x", BAD), ("host", "a;b", BAD), ("host", "a b", BAD),
    ("host", "a\x07b", BAD),
    ("port", "2222", 2222), ("port", "", None), ("port", "0", BAD), ("port", "65536", BAD),
    ("port", "abc", BAD), ("port", "\u00b2", BAD),
    # columns 2-8
    ("systems", "x86_64-linux", ["x86_64-linux"]),
    ("systems", "x86_64-linux,aarch64-linux", ["x86_64-linux", "aarch64-linux"]),
    ("systems", "", []), ("systems", "-", []), ("systems", "a,,b", BAD), ("systems", "a,", BAD),
    ("systems", "a,-", BAD), ("systems", "x86_64 linux", BAD), ("systems", "a;b", BAD),
    ("ssh_key", "/k/id_build", "/k/id_build"), ("ssh_key", "", None), ("ssh_key", "-", None),
    ("ssh_key", "/tmp/k;evil-host", BAD), ("ssh_key", "/tmp/a b", BAD), ("ssh_key", "/k#1", BAD),
    ("max_jobs", "4", 4), ("max_jobs", "0", 0), ("max_jobs", "", None), ("max_jobs", "-", None),
    ("max_jobs", "4294967295", 4294967295), ("max_jobs", "4294967296", BAD),
    ("max_jobs", "-1", BAD), ("max_jobs", "four", BAD), ("max_jobs", "4.0", BAD),
    ("max_jobs", "\u00b2", BAD),
    ("speed_factor", "2", 2), ("speed_factor", "1.5", 1.5), ("speed_factor", "2.0", 2),
    ("speed_factor", "0", 0), ("speed_factor", "1e-05", 1e-05), ("speed_factor", "", None),
    ("speed_factor", "-", None), ("speed_factor", "inf", BAD), ("speed_factor", "nan", BAD),
    ("speed_factor", "1e300", BAD), ("speed_factor", "4294967296", BAD),
    ("speed_factor", "1_0", BAD), ("speed_factor", "-1", BAD), ("speed_factor", "fast", BAD),
    ("speed_factor", "\u0663", BAD),
    ("supported_features", "big-parallel,kvm", ["big-parallel", "kvm"]),
    ("supported_features", "", []), ("supported_features", "kvm,", BAD),
    ("mandatory_features", "benchmark", ["benchmark"]), ("mandatory_features", "a b", BAD),
    ("host_key", KEY, KEY), ("host_key", "", None), ("host_key", "-", None),
    ("host_key", base64.b64encode(b"nope").decode(), BAD), ("host_key", "not-base64!", BAD),
    ("host_key", base64.b64encode(b"foo bar\n").decode(), BAD),
]


def in_file(key: str, text: str):
    """What the file's entry parser reads for ``text`` in the column of ``key``."""
    uri = {"protocol": "ssh", "user": "", "host": "h", "port": ""}
    cols = ["-"] * 7
    if key in uri:
        uri[key] = text
    else:
        cols[KEYS.index(key) - KEYS.index("systems")] = text or "-"
    line = (f"{uri['protocol']}://" + (f"{uri['user']}@" if uri["user"] else "") + uri["host"]
            + (f":{uri['port']}" if uri["port"] else "") + " " + " ".join(cols))
    try:
        return getattr(parse_entry(line, "m", 1), key)
    except MachinesError:
        return BAD


def in_cell(key: str, text: str):
    try:
        return parse_cell(key, text)
    except ValueError as exc:
        assert str(exc) and "Traceback" not in str(exc)
        return BAD


@pytest.mark.parametrize("key, text, meaning", CELLS, ids=[f"{k}={t!r}" for k, t, _ in CELLS])
def test_a_cell_and_its_column_mean_the_same(key, text, meaning):
    assert same(in_cell(key, text), meaning)
    if not any(c.isspace() for c in text):  # blanks separate the file's columns
        assert same(in_file(key, text), meaning)


def same(got, meaning) -> bool:
    return got is BAD if meaning is BAD else (got is not BAD and got == meaning
                                              and type(got) is type(meaning))


def test_every_editable_column_has_its_grammar():
    assert set(KEYS) - set(FIELD_PARSERS) == {"status"}  # the one column that is no field
    assert {key for key, _, _ in CELLS} == set(FIELD_PARSERS)  # and the table covers them
    with pytest.raises(KeyError):
        parse_field("status", "ok")


def test_a_pasted_key_line_becomes_column_8():
    column = base64.b64encode(f"ssh-ed25519 {_BLOB}".encode()).decode()
    for pasted in (f"ssh-ed25519 {_BLOB}", f"ssh-ed25519 {_BLOB} root@builder",
                   f"builder ssh-ed25519 {_BLOB}", f"[b]:2222,10.0.0.1 ssh-ed25519 {_BLOB}"):
        assert parse_cell("host_key", pasted) == column, pasted
    assert in_cell("host_key", "ssh-ed25519 not-base64!") is BAD
    assert in_cell("host_key", f"ssh-rsa {_BLOB}") is BAD  # the blob says ed25519
    assert in_file("host_key", column) == column  # and the file reads it back


def _edit_text(value) -> str:
    """What the table's editor shows for a field (its EditRole)."""
    return ",".join(value) if isinstance(value, list) else ("" if value is None else str(value))


@settings(max_examples=150, deadline=None)
@given(machines)
def test_what_a_cell_shows_reads_back_as_the_same_machine(machine: Machine):
    """Editing a cell without changing it changes nothing, for any machine the file holds."""
    for key in KEYS[1:]:
        value = getattr(machine, key)
        assert parse_cell(key, _edit_text(value)) == value, key
    line = machine.line()
    assert MachinesFile.parse(line).machines == [machine]
