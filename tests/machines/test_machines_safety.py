"""Bad input never reaches the machines file: every value written is one the local Nix reads
back as the same machine (checked with Nix itself where it matters), numbers are bounded, and
ssh options never pass for host or user names. Issue 11, items 1-4 and 6 (Qt-free parts)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile

import pytest

from sweepgui.nix.compat import FRACTIONAL_SPEED
from sweepgui.nix.machines import Machine, MachinesError, MachinesFile
from sweepgui.nix.machines import setup as machines_setup

from .test_cli import run
from .test_machines_file import KEY, local_system, needs_nix, nix_reads


def one_machine(systems: str) -> list[str]:
    return [f"{systems}, 1, , "]


# -- 1. values the file cannot hold: whitespace, ';', '#', line breaks ---------------------------
BAD_KEYS = [
    ("/tmp/a b", "a space"),
    ("/tmp/k;evil-host", "';'"),
    ("/tmp/k#evil", "'#'"),
    ("/tmp/k\nssh://evil-host", "a line break"),
    ("/tmp/k\tx", "a tab"),
]


@needs_nix
@pytest.mark.parametrize("key, what", BAD_KEYS)
def test_cli_refuses_an_identity_file_the_machines_file_cannot_hold(tmp_path, capsys, key, what):
    f = tmp_path / "machines"
    f.write_text("ssh://a\n")
    code, _, err = run(capsys, "add", "ssh://h", "--key", key, "--file", f)
    assert code == 2 and "Traceback" not in err
    # the message names the option and the column, what is wrong and what to do
    assert "--key" in err and "SSH identity file (column 3)" in err and what in err
    assert "ln -s" in err
    assert f.read_text() == "ssh://a\n"
    # and Nix still reads exactly the one machine of the file (no ssh://evil-host)
    assert nix_reads(tmp_path, f.read_text()) == one_machine(local_system())


@pytest.mark.parametrize("field, value, column", [
    ("ssh_key", "/tmp/a b", "SSH identity file (column 3)"),
    ("ssh_key", "/tmp/k;evil-host", "SSH identity file (column 3)"),
    ("host", "h;evil-host", "URI (column 1)"),
    ("user", "al ice", "URI (column 1)"),
    ("uri_params", {"remote-store": "a#b"}, "URI (column 1)"),
    ("systems", ["x86_64-linux\nssh://evil-host"], "systems (column 2)"),
    ("supported_features", ["big parallel"], "supported features (column 6)"),
    ("mandatory_features", ["a;b"], "mandatory features (column 7)"),
    ("host_key", KEY + " ssh://evil", "host key (column 8)"),
])
def test_the_python_api_never_writes_a_value_the_file_cannot_hold(tmp_path, field, value, column):
    mf = MachinesFile.parse("# mine\nssh://a\n")
    m = Machine("h")
    setattr(m, field, value)
    mf.add(m)
    with pytest.raises(MachinesError) as err:
        mf.save(tmp_path / "machines")
    assert column in str(err.value) and m.name in str(err.value)
    assert not (tmp_path / "machines").exists()
    with pytest.raises(MachinesError):
        m.line()


@needs_nix
def test_what_the_api_writes_nix_reads_as_the_same_machines(tmp_path):
    mf = MachinesFile()
    mf.add(Machine("b1", user="alice", systems=["x86_64-linux", "i686-linux"],
                   ssh_key="/keys/id_b1", max_jobs=4, speed_factor=3,
                   supported_features=["big-parallel"], host_key=KEY))
    mf.add(Machine("b2", protocol="ssh-ng", max_jobs=4294967295))
    path = mf.save(tmp_path / "machines")
    assert nix_reads(tmp_path, path.read_text()) == [
        "x86_64-linux, i686-linux, 4, big-parallel, ", f"{local_system()}, 4294967295, , "]
    assert MachinesFile.load(path).machines == mf.machines


# -- 2. ssh options in place of a host or user name ---------------------------------------------
@pytest.mark.parametrize("line, column, words", [
    ("ssh://-oProxyCommand=touch", 7, "host name '-oProxyCommand=touch' starts with '-'"),
    ("  ssh-ng://alice@-oProxyJump=evil x86_64-linux", 18, "host name '-oProxyJump=evil'"),
    ("ssh://-luser@h", 7, "user name '-luser' starts with '-'"),
    ("-oProxyCommand=x - - 1", 1, "starts with '-'"),
])
def test_ssh_options_as_host_or_user_are_refused_naming_file_line_and_column(line, column, words):
    with pytest.raises(MachinesError) as err:
        MachinesFile.parse(f"ssh://ok\n{line}\n", "m")
    assert (err.value.file, err.value.line, err.value.column) == ("m", 2, column)
    assert str(err.value).startswith(f"m:2:{column}: ") and words in str(err.value)
    assert "option" in str(err.value)


@pytest.mark.parametrize("uri", ["ssh://-oProxyCommand=touch", "ssh://-luser@h",
                                 "ssh://h;evil-host", "ssh-ng://-J@h"])
def test_cli_add_refuses_ssh_options_and_separators_in_the_uri(tmp_path, capsys, uri):
    f = tmp_path / "machines"
    f.write_text("ssh://a\n")
    code, _, err = run(capsys, "add", uri, "--file", f)
    assert code == 2 and "Traceback" not in err and "<command line>" in err
    assert f.read_text() == "ssh://a\n"


@pytest.mark.parametrize("field, value", [("host", "-oProxyCommand=x"), ("user", "-lroot")])
def test_the_python_api_refuses_ssh_options_as_names(field, value):
    m = Machine("h")
    setattr(m, field, value)
    with pytest.raises(MachinesError, match="starts with '-'"):
        m.line()


# -- 3. fractional speed factors and Nix before 2.20 ---------------------------------------------
def test_a_fractional_speed_factor_is_saved_whole_for_nix_before_2_20(tmp_path):
    mf = MachinesFile()
    mf.add(Machine("h", speed_factor=2.5))
    mf.add(Machine("g", speed_factor=0.4))
    mf.save(tmp_path / "old", nix_version=(2, 8, 0))
    assert (tmp_path / "old").read_text() == "ssh://h - - - 2\nssh://g - - - 1\n"
    assert len(mf.adjusted) == 2 and "2.5" in mf.adjusted[0] and "Nix 2.8" in mf.adjusted[0]
    assert "2.20" in mf.adjusted[0]
    new = MachinesFile()
    new.add(Machine("h", speed_factor=2.5))
    new.save(tmp_path / "new", nix_version=(2, 20, 0))
    assert (tmp_path / "new").read_text() == "ssh://h - - - 2.5\n" and new.adjusted == []


@needs_nix
def test_cli_saves_a_speed_factor_the_local_nix_reads_and_says_so(tmp_path, capsys):
    if FRACTIONAL_SPEED.holds():
        pytest.skip("this Nix reads fractional speed factors")
    f = tmp_path / "machines"
    f.write_text("ssh://a\n")
    code, out, err = run(capsys, "add", "ssh://h", "--speed", "2.5", "--systems", "x86_64-linux",
                         "--file", f)
    assert code == 0 and "warning" in err and "2.5" in err and "whole" in err
    assert f.read_text() == "ssh://a\nssh://h x86_64-linux - - 2\n"
    assert nix_reads(tmp_path, f.read_text()) == [f"{local_system()}, 1, , ",
                                                  "x86_64-linux, 1, , "]
    # a file written by an older sweepgui (2.5 in it, which Nix rejects) is mended on saving
    f.write_text("ssh://old - - 1 1.5\n")
    assert nix_reads(tmp_path, f.read_text()) == "rejected"
    code, _, err = run(capsys, "add", "ssh://new", "--file", f)
    assert code == 0 and "1.5" in err
    assert f.read_text() == "ssh://old - - 1 2\nssh://new\n"
    assert nix_reads(tmp_path, f.read_text()) != "rejected"


# -- 4. numbers out of range -----------------------------------------------------------------
@pytest.mark.parametrize("args, words", [
    (["check", "--timeout", "1e9"], "--timeout"),
    (["check", "--timeout", "inf"], "--timeout"),
    (["check", "--timeout", "nan"], "--timeout"),
    (["check", "--timeout", "301"], "at most 300"),
    (["add", "ssh://h", "--jobs", "99999999999999999999999"], "--jobs"),
    (["add", "ssh://h", "--jobs", "4294967296"], "4294967295"),
    (["add", "ssh://h", "--speed", "inf"], "--speed"),
    (["add", "ssh://h", "--speed", "nan"], "--speed"),
    (["add", "ssh://h", "--speed", "1e300"], "--speed"),
])
def test_numbers_out_of_range_are_exit_2_with_a_plain_message(tmp_path, capsys, args, words):
    f = tmp_path / "machines"
    f.write_text("ssh://127.0.0.1:1\n")
    code, _, err = run(capsys, *args, "--file", f)
    assert code == 2 and words in err and "Traceback" not in err
    assert f.read_text() == "ssh://127.0.0.1:1\n"


@needs_nix
@pytest.mark.parametrize("line, column, words", [
    ("ssh://a - - 4294967296", 13, "max jobs"),
    ("ssh://a - - 1 4294967296", 15, "speed factor"),
])
def test_numbers_nix_cannot_hold_are_errors_naming_the_column(tmp_path, line, column, words):
    assert nix_reads(tmp_path, f"{line}\n") == "rejected"
    with pytest.raises(MachinesError) as err:
        MachinesFile.parse(f"{line}\n", "m")
    assert (err.value.line, err.value.column) == (1, column) and words in str(err.value)


# -- 6. ssh's folders in /tmp: only this user's own ------------------------------------------
@pytest.fixture
def shared_tmp(tmp_path, monkeypatch):
    """A stand-in for /tmp (sticky, everybody may write), without XDG_RUNTIME_DIR."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    os.chmod(tmp, 0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache with space"))
    return tmp


def _control_dir(opts: str) -> str | None:
    for word in opts.split():
        if word.startswith("ControlPath="):
            return os.path.dirname(word.split("=", 1)[1])
    return None


def test_a_planted_symlink_is_not_used_for_ssh_sockets_or_configs(tmp_path, shared_tmp):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)  # this user's own private folder, reached through a link
    planted = shared_tmp / f"sweepgui-ssh-{os.getuid()}"
    planted.symlink_to(elsewhere)
    where = _control_dir(machines_setup._multiplexing())
    assert where is None or not where.startswith((str(planted), str(elsewhere)))
    opts = machines_setup.ssh_options_for([Machine("b", port=2222)], (2, 8, 0))
    config = opts.split()[1]
    assert not config.startswith((str(planted), str(elsewhere)))
    assert os.listdir(elsewhere) == [] and os.path.islink(planted)
    assert "Port 2222" in open(config).read()


def test_a_folder_open_to_others_is_not_used(shared_tmp):
    folder = shared_tmp / f"sweepgui-ssh-{os.getuid()}"
    folder.mkdir()
    os.chmod(folder, 0o777)
    assert (_control_dir(machines_setup._multiplexing()) or "") != str(folder)
    config = machines_setup.ssh_options_for([Machine("b", port=2222)], (2, 8, 0)).split()[1]
    assert os.path.dirname(config) != str(folder)


def test_ssh_sockets_go_to_the_private_runtime_folder(shared_tmp, monkeypatch):
    # short, like /run/user/UID: a socket path has room for about 107 characters
    run_dir = tempfile.mkdtemp(prefix="sg-run-", dir="/tmp")
    try:
        monkeypatch.setenv("XDG_RUNTIME_DIR", run_dir)
        where = _control_dir(machines_setup._multiplexing())
        assert where is not None and where.startswith(run_dir)
        st = os.lstat(where)
        assert stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid()
        assert stat.S_IMODE(st.st_mode) == 0o700
        assert not os.listdir(shared_tmp)  # nothing in the shared folder
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
