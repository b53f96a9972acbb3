"""Faults around the machines file, with real tools: a real sshd on loopback with a fresh host
key (a builder whose key changed: pinning must not give way silently), another real user who
plants folders in the shared temporary folder, the GUI's cells and the local Nix reading back
what the editor saved. Issue 11 (reliability), items 1-6."""

from __future__ import annotations

import base64
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from sweepgui.cli import main
from sweepgui.nix.compat import FRACTIONAL_SPEED
from sweepgui.nix.machines import Machine, MachinesFile, fingerprint
from sweepgui.nix.machines import setup as machines_setup

SSHD = shutil.which("sshd") or ("/usr/sbin/sshd" if os.path.exists("/usr/sbin/sshd") else None)
NOMATCH = 'derivation { name = "nomatch"; system = "none-none"; builder = "/bin/sh"; args = []; }'
needs_nix = pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")


def run(capsys, *args):
    code = main(["machines", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def nix_rejects(tmp_path: Path, machines: Path) -> str | None:
    """Nix's own complaint about a machines file ("bad machine specification ..."), or None."""
    expr = tmp_path / "nomatch.nix"
    expr.write_text(NOMATCH)
    p = subprocess.run(["nix-build", str(expr), "--no-out-link", "-j0", "--builders",
                        f"@{machines}"], capture_output=True, text=True, timeout=60)
    assert "unable to start any build" in p.stderr or "bad machine specification" in p.stderr, \
        p.stderr
    lines = [ln for ln in p.stderr.splitlines() if "bad machine specification" in ln]
    return lines[0] if lines else None


def new_key(folder: Path, name: str) -> tuple[Path, str]:
    """A fresh ed25519 key pair; (public key file, its column-8 base64)."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)],
                   check=True)
    pub = folder / f"{name}.pub"
    kind, body = pub.read_text().split()[:2]
    return pub, base64.b64encode(f"{kind} {body}\n".encode()).decode()


def ssh_keygen_fingerprint(pub: Path) -> str:
    """The reference: what `ssh-keygen -lf` prints for the key (as on the builder)."""
    out = subprocess.run(["ssh-keygen", "-lf", str(pub)], capture_output=True, text=True,
                         check=True).stdout
    return out.split()[1]


@pytest.fixture
def sshd(tmp_path_factory):
    """A real sshd on 127.0.0.1 (a free port) with a fresh host key; stopped by its pid."""
    if SSHD is None or shutil.which("ssh-keyscan") is None:
        pytest.skip("sshd or ssh-keyscan is not installed")
    d = tmp_path_factory.mktemp("sshd")
    pub, key_b64 = new_key(d, "host_key")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    (d / "sshd_config").write_text("\n".join([
        f"ListenAddress 127.0.0.1:{port}", f"HostKey {d}/host_key", f"PidFile {d}/sshd.pid",
        "AuthorizedKeysFile none", "UsePAM no", "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "StrictModes no", ""]))
    if os.geteuid() == 0:
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation folder
    log = open(d / "sshd.log", "wb")
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                            start_new_session=True)
    log.close()
    try:
        deadline = time.monotonic() + 10
        while True:
            if proc.poll() is not None:
                pytest.fail(f"sshd exited: {(d / 'sshd.log').read_text()}")
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("sshd does not accept connections")
                time.sleep(0.02)
        yield SimpleNamespace(uri=f"ssh://127.0.0.1:{port}", port=port, pub=pub,
                              key_b64=key_b64, dir=d)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)  # its own session: sshd and its children
        except ProcessLookupError:
            pass
        proc.wait(timeout=10)


# -- 5. a host key that differs from the pinned one -----------------------------------------
@pytest.mark.sshd
def test_cli_fetch_host_key_does_not_replace_a_different_pinned_key(sshd, tmp_path, capsys):
    old_pub, old_b64 = new_key(tmp_path, "old_host_key")  # the key pinned before
    f = tmp_path / "machines"
    text = f"# lab\n{sshd.uri} - - 2 1 - - {old_b64}\n"
    f.write_text(text)
    code, out, err = run(capsys, "fetch-host-key", sshd.uri, "--file", f)
    assert code == 1 and "Traceback" not in err
    assert f.read_text() == text and not (tmp_path / "machines.bak").exists()
    said = out + err
    # both fingerprints, as ssh-keygen prints them on each machine
    assert ssh_keygen_fingerprint(old_pub) in said and ssh_keygen_fingerprint(sshd.pub) in said
    assert "--replace" in said and "ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub" in said
    # confirmed after comparing: replaced
    code, out, err = run(capsys, "fetch-host-key", sshd.uri, "--replace", "--file", f)
    assert code == 0, err
    assert MachinesFile.load(f).machines[0].host_key == sshd.key_b64
    assert ssh_keygen_fingerprint(sshd.pub) in out
    # the same key again: nothing to confirm
    code, out, err = run(capsys, "fetch-host-key", sshd.uri, "--file", f)
    assert code == 0 and "unchanged" in out


@pytest.mark.sshd
def test_cli_add_fetch_host_key_keeps_a_different_pinned_key(sshd, tmp_path, capsys):
    old_pub, old_b64 = new_key(tmp_path, "old_host_key")
    f = tmp_path / "machines"
    text = f"{sshd.uri} x86_64-linux - 2 1 - - {old_b64}\n"
    f.write_text(text)
    code, out, err = run(capsys, "add", sshd.uri, "--jobs", 4, "--fetch-host-key", "--file", f)
    assert code == 1 and f.read_text() == text
    assert ssh_keygen_fingerprint(old_pub) in out + err
    assert ssh_keygen_fingerprint(sshd.pub) in out + err and "--replace" in out + err
    code, _, err = run(capsys, "add", sshd.uri, "--jobs", 4, "--fetch-host-key", "--replace",
                       "--file", f)
    assert code == 0, err
    m = MachinesFile.load(f).machines[0]
    assert (m.host_key, m.max_jobs) == (sshd.key_b64, 4)


def test_fingerprints_are_those_ssh_keygen_prints(tmp_path):
    pub, b64 = new_key(tmp_path, "k")
    assert fingerprint(b64) == ssh_keygen_fingerprint(pub)


# -- the GUI: fetch host key, cells, speed factors ------------------------------------------
@pytest.fixture
def editor_on(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    from sweepgui.ui.machines.editor import QtMachineEditor

    made = []

    def make(text: str):
        path = tmp_path / "machines"
        path.write_text(text)
        widget = QtMachineEditor(path)
        qtbot.addWidget(widget)
        made.append(widget)
        return widget

    yield make
    for w in made:
        w.shutdown(wait=True)


def _col(key):
    from sweepgui.ui.machines.table import KEYS
    return KEYS.index(key)


@pytest.mark.sshd
def test_gui_fetch_host_key_asks_before_replacing_a_different_pinned_key(sshd, tmp_path, qtbot,
                                                                         editor_on):
    from PySide6.QtWidgets import QMessageBox

    old_pub, old_b64 = new_key(tmp_path, "old_host_key")
    editor = editor_on(f"{sshd.uri} - - 2 1 - - {old_b64}\n")
    for answer in ("keep", "replace"):
        editor.table.selectRow(0)
        editor.host_key_dialog = None
        editor.fetch_host_key()
        qtbot.waitUntil(lambda: editor.host_key_dialog is not None, timeout=15000)
        box = editor.host_key_dialog
        assert isinstance(box, QMessageBox) and box.isVisible()
        text = box.text() + box.informativeText()
        assert ssh_keygen_fingerprint(old_pub) in text and ssh_keygen_fingerprint(sshd.pub) in text
        keep = box.defaultButton()
        assert keep is not None and "Keep" in keep.text() and box.escapeButton() is keep
        # nothing changed while the question is open
        assert editor.model.machine(0).host_key == old_b64 and not editor.is_dirty()
        if answer == "keep":
            keep.click()
            assert editor.model.machine(0).host_key == old_b64 and not editor.is_dirty()
            assert editor.model.status(0)[0] == "error"
        else:
            [replace] = [b for b in box.buttons() if "Replace" in b.text()]
            replace.click()
            assert editor.model.machine(0).host_key == sshd.key_b64 and editor.is_dirty()
    # the key now pinned is presented again: no question
    editor.host_key_dialog = None
    editor.fetch_host_key()
    qtbot.waitUntil(lambda: editor.model.status(0)[0] != "running", timeout=15000)
    assert editor.host_key_dialog is None and "unchanged" in editor.model.status(0)[1]


@pytest.mark.parametrize("key, value, words", [
    ("ssh_key", "/tmp/k;evil-host", "';'"),
    ("ssh_key", "/tmp/a b", "space"),
    ("host", "-oProxyCommand=touch", "starts with '-'"),
    ("user", "-lroot", "starts with '-'"),
    ("max_jobs", "99999999999999999999", "4294967295"),
    ("speed_factor", "1e300", "4294967295"),
    ("speed_factor", "inf", "speed factor"),
])
def test_gui_cells_refuse_what_the_file_cannot_hold(qtbot, editor_on, key, value, words):
    editor = editor_on("ssh://b1 x86_64-linux - 2\n")
    before = editor.model.machines_file.dumps()
    with qtbot.waitSignal(editor.message) as shown:
        assert not editor.model.setData(editor.model.index(0, _col(key)), value)
    assert words in shown.args[0]
    assert editor.model.machines_file.dumps() == before and not editor.is_dirty()


@needs_nix
def test_gui_saves_a_speed_factor_the_local_nix_reads(qtbot, tmp_path, editor_on):
    if FRACTIONAL_SPEED.holds():
        pytest.skip("this Nix reads fractional speed factors")
    editor = editor_on("ssh://b1 x86_64-linux - 2\n")
    with qtbot.waitSignal(editor.message) as shown:
        assert editor.model.setData(editor.model.index(0, _col("speed_factor")), 2.5)
    assert "whole" in shown.args[0] and "2.5" in shown.args[0]
    assert editor.save()
    path = tmp_path / "machines"
    assert path.read_text() == "ssh://b1 x86_64-linux - 2 2\n"
    assert nix_rejects(tmp_path, path) is None
    # a file that already holds a fraction (an older sweepgui wrote it): said on opening,
    # written whole on saving
    path.write_text("ssh://b1 x86_64-linux - 2 1.5\n")
    assert "bad machine specification" in (nix_rejects(tmp_path, path) or "")
    with qtbot.waitSignal(editor.message) as shown:
        editor.load(path)
    assert "1.5" in shown.args[0]
    assert editor.save() and path.read_text() == "ssh://b1 x86_64-linux - 2 2\n"
    assert nix_rejects(tmp_path, path) is None


# -- 6. folders another user made in the shared temporary folder ----------------------------
@pytest.fixture
def other_user():
    """A second, unprivileged user (created with useradd, removed afterwards)."""
    if os.geteuid() != 0 or not shutil.which("useradd") or not shutil.which("setpriv"):
        pytest.skip("needs root (to create a second user), useradd and setpriv")
    name = f"sgfault{secrets.token_hex(3)}"
    for _attempt in range(20):  # /etc/passwd may be locked by a parallel useradd
        p = subprocess.run(["useradd", "--no-create-home", "--user-group", "--shell",
                            "/usr/sbin/nologin", name], capture_output=True, text=True)
        if p.returncode == 0:
            break
        time.sleep(0.2)
    else:
        pytest.skip(f"useradd failed: {p.stderr.strip()}")
    pw = pwd.getpwnam(name)

    def as_user(*cmd):
        subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                        "--clear-groups", "--", *cmd], check=True, capture_output=True)

    try:
        yield SimpleNamespace(name=name, uid=pw.pw_uid, run=as_user)
    finally:
        for _attempt in range(20):
            if subprocess.run(["userdel", name], capture_output=True).returncode == 0:
                break
            time.sleep(0.2)


@pytest.fixture
def shared_tmp(monkeypatch):
    """A stand-in for /tmp that the other user can reach (sticky, mode 1777)."""
    tmp = Path(tempfile.mkdtemp(prefix="sg-shared-tmp-", dir="/tmp"))
    os.chmod(tmp, 0o1777)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    yield tmp
    shutil.rmtree(tmp, ignore_errors=True)


def _control_dir(opts: str) -> str | None:
    for word in opts.split():
        if word.startswith("ControlPath="):
            return os.path.dirname(word.split("=", 1)[1])
    return None


def test_another_users_folder_in_tmp_is_never_used(other_user, shared_tmp, tmp_path, monkeypatch):
    # the cache folder has a blank in its path, so sweepgui looks for a short private folder
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "my cache"))
    machines = [Machine("b1", port=2222)]
    text = machines_setup.ssh_config_text(machines, (2, 8, 0))
    name = __import__("hashlib").sha256(text.encode()).hexdigest()[:16] + ".conf"
    squat = shared_tmp / f"sweepgui-ssh-{os.getuid()}"
    # the other user makes the folder first, open to all, with a config of their own inside
    other_user.run("mkdir", "-m", "0777", str(squat))
    evil = "Host *\n  ProxyCommand touch /tmp/sweepgui-owned\n"
    other_user.run("sh", "-c", f"printf '{evil}' > {squat / name}")
    assert os.lstat(squat).st_uid == other_user.uid
    opts = machines_setup.ssh_options_for(machines, (2, 8, 0))
    config = Path(opts.split()[1])
    assert not str(config).startswith(str(squat)) and config.read_text() == text
    st = os.lstat(config.parent)
    assert st.st_uid == os.getuid() and st.st_mode & 0o077 == 0
    where = _control_dir(machines_setup._multiplexing())
    assert where is None or not where.startswith(str(squat))
    assert sorted(os.listdir(squat)) == [name]  # nothing of ours went there
    # a symbolic link the other user planted, pointing at a private folder of ours
    mine = Path(tempfile.mkdtemp(prefix="sg-mine-", dir=shared_tmp))  # ours, mode 0700
    shutil.rmtree(squat)
    other_user.run("ln", "-s", str(mine), str(squat))
    assert os.lstat(squat).st_uid == other_user.uid
    where = _control_dir(machines_setup._multiplexing())
    assert where is None or not where.startswith((str(squat), str(mine)))
    config = Path(machines_setup.ssh_options_for(machines, (2, 8, 0)).split()[1])
    assert not str(config).startswith((str(squat), str(mine))) and os.listdir(mine) == []


def test_a_runtime_folder_another_user_controls_is_not_used(other_user, shared_tmp,
                                                            monkeypatch):
    # e.g. root after `su`, still with the XDG_RUNTIME_DIR of the user it came from: that
    # user may rename whatever is in there and put a control socket of their own in its place
    theirs = shared_tmp / "run-user"
    other_user.run("mkdir", "-m", "0700", str(theirs))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(theirs))
    where = _control_dir(machines_setup._multiplexing())
    assert where is None or not where.startswith(str(theirs))
    assert os.listdir(theirs) == []  # root could write there; it did not
