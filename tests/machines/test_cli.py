"""`sweepgui machines ...` on a file of the user's: add, list, remove, export; exit codes 0/1/2."""

from __future__ import annotations

import json

import pytest

from sweepgui.cli import main

from .test_machines_file import KEY, needs_nix


def run(capsys, *args):
    code = main(["machines", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_add_list_remove_keep_the_file_tidy(tmp_path, capsys):
    f = tmp_path / "machines"
    f.write_text("# my builders\n")
    assert run(capsys, "add", "ssh://alice@b1:2222", "--file", f, "--systems", "x86_64-linux",
               "--key", "/keys/id_b1", "--jobs", 4, "--speed", 2, "--host-key", KEY)[0] == 0
    assert run(capsys, "add", "ssh-ng://b2 aarch64-linux - 2", "--file", f)[0] == 0
    assert f.read_text() == ("# my builders\n"
                             f"ssh://alice@b1:2222 x86_64-linux /keys/id_b1 4 2 - - {KEY}\n"
                             "ssh-ng://b2 aarch64-linux - 2\n")
    code, out, _ = run(capsys, "list", "--file", f, "--json")
    rows = json.loads(out)
    assert code == 0 and [r["uri"] for r in rows] == ["ssh://alice@b1:2222", "ssh-ng://b2"]
    assert rows[0]["max_jobs"] == 4 and rows[0]["host_key"] == KEY
    code, out, _ = run(capsys, "list", "--file", f)
    assert "host key pinned" in out and "host key NOT pinned" in out
    assert run(capsys, "remove", "b1", "--file", f)[0] == 0
    assert f.read_text() == "# my builders\nssh-ng://b2 aarch64-linux - 2\n"
    assert (tmp_path / "machines.bak").exists()


def test_export_nixos_and_ssh_config(tmp_path, capsys):
    f = tmp_path / "machines"
    f.write_text("ssh://u@b1:2222 x86_64-linux /k 2\n")
    code, out, _ = run(capsys, "export-nixos", "--file", f)
    assert code == 0 and 'hostName = "b1";' in out and "Port 2222" in out
    code, out, _ = run(capsys, "ssh-config", "--file", f)
    assert code == 0 and "Host b1:2222" in out


@pytest.mark.parametrize("args, words", [
    (["add", "ftp://x"], "ssh:// or ssh-ng://"),
    (["add", "ssh://x", "--host-key", "bm9wZQ=="], "host key"),
    (["add", "ssh://x", "--jobs", "-1"], "--jobs"),
    (["remove", "nobody"], "no machine 'nobody'"),
    (["check", "ghost"], "no machine 'ghost'"),
    (["check", "--timeout", "0"], "--timeout 0"),
    (["add", "ssh://y", "--systems", "x86_64-linux,a b"], "without spaces"),
    (["add", "ssh://y", "--features", ","], "--features"),
])
def test_bad_input_is_exit_2_with_a_message(tmp_path, capsys, args, words):
    f = tmp_path / "machines"
    f.write_text("ssh://a\n")
    code, out, err = run(capsys, *args, "--file", f)
    assert code == 2 and words in err and "Traceback" not in err


def test_a_malformed_file_is_named_with_line_and_column(tmp_path, capsys):
    f = tmp_path / "machines"
    f.write_text("# ok\nssh://a - - lots\n")
    code, _, err = run(capsys, "list", "--file", f)
    assert code == 2 and f"{f}:2:13: max jobs (column 4)" in err


def test_a_missing_file_says_how_to_make_one(tmp_path, capsys):
    code, _, err = run(capsys, "check", "--file", tmp_path / "none")
    assert code == 2 and "sweepgui machines add" in err


def test_write_system_machines_where_permitted(tmp_path, capsys):
    f = tmp_path / "machines"
    f.write_text("ssh://b1 x86_64-linux - 2\n")
    target = tmp_path / "etc-nix" / "machines"
    target.parent.mkdir()
    target.write_text("# the admin's note\nssh://old\n")
    code, out, _ = run(capsys, "write-system", "--file", f, "--target", target)
    assert code == 0, out
    assert target.read_text() == "# the admin's note\nssh://old\nssh://b1 x86_64-linux - 2\n"
    assert (target.parent / "machines.bak").read_text() == "# the admin's note\nssh://old\n"


def test_write_system_refuses_what_this_nix_cannot_read(tmp_path, capsys):
    from sweepgui.nix.compat import PORT_IN_URI
    if PORT_IN_URI.holds():
        pytest.skip("this Nix reads ports in URIs")
    f = tmp_path / "machines"
    f.write_text("ssh://b1:2222\n")
    code, _, err = run(capsys, "write-system", "--file", f, "--target", tmp_path / "m")
    assert code == 2 and "cannot read a port" in err and "Port 2222" in err


def test_a_missing_include_is_exit_2_naming_file_and_line(tmp_path, capsys):
    f = tmp_path / "machines"
    f.write_text("ssh://a\n@/nowhere/machines\n")
    for action in ("list", "check"):
        code, _, err = run(capsys, action, "--file", f)
        assert code == 2 and f"{f}:2: '@/nowhere/machines' includes" in err
        assert "does not exist" in err and "Traceback" not in err


def test_fetch_host_key_of_an_unknown_host_pins_nothing(tmp_path, capsys):
    # ssh-keyscan's error ("getaddrinfo no-such-host.invalid: Name or service not known")
    # shares its output stream with the keys: it must not end up in column 8
    f = tmp_path / "machines"
    f.write_text("ssh://a\n")
    code, _, err = run(capsys, "add", "ssh://no-such-host.invalid", "--fetch-host-key", "--file", f)
    assert code == 2 and "no-such-host.invalid is unknown" in err
    assert f.read_text() == "ssh://a\n"


@needs_nix
def test_a_malformed_system_machines_file_is_named_not_a_traceback(tmp_path, capsys, monkeypatch):
    bad = tmp_path / "etc-machines"
    bad.write_text("ssh://a - - lots\n")
    monkeypatch.setenv("NIX_CONFIG", f"builders = @{bad}")
    for argv in (["list", "--system"], ["import", "--file", tmp_path / "mine"]):
        code, _, err = run(capsys, *argv)
        assert code == 2 and f"{bad}:1:13: max jobs (column 4)" in err and "Traceback" not in err
    assert not (tmp_path / "mine").exists()
