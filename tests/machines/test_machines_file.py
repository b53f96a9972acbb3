"""The machines file: parsing and writing, checked against Nix's own reading of the same text."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweepgui.nix.machines import Machine, MachinesError, MachinesFile

KEY = base64.b64encode(b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostKeyForTests000000000000000\n").decode()
NOMATCH = 'derivation { name = "nomatch"; system = "none-none"; builder = "/bin/sh"; args = []; }'
needs_nix = pytest.mark.skipif(shutil.which("nix-build") is None, reason="Nix is not installed")


def nix_reads(tmp_path, text: str) -> list[str] | str:
    """How Nix itself reads a machines file: the machine list its build hook prints when no
    machine fits (systems, max jobs, supported, mandatory), or its error message."""
    f = tmp_path / "nix-machines"
    f.write_text(text)
    expr = tmp_path / "nomatch.nix"
    expr.write_text(NOMATCH)
    p = subprocess.run(["nix-build", str(expr), "--no-out-link", "-j0", "--builders", f"@{f}"],
                       capture_output=True, text=True, timeout=60)
    if "bad machine specification" in p.stderr:
        return "rejected"
    return re.findall(r"^\((.*)\)$", p.stderr.split("mandatoryFeatures)", 1)[-1], re.M)


def as_nix_lists(machines: list[Machine], local: str) -> list[str]:
    return [f"{', '.join(m.systems or [local])}, {1 if m.max_jobs is None else m.max_jobs}, "
            f"{', '.join(sorted(set(m.supported_features)))}, "
            f"{', '.join(sorted(set(m.mandatory_features)))}" for m in machines]


def local_system() -> str:
    from sweepgui.nix.machines import local_system as ls
    return ls()


SAMPLE = f"""\
# build farm
ssh://alice@build1:2222 x86_64-linux,i686-linux /home/alice/.ssh/id_build 4 2 big-parallel,kvm benchmark {KEY}

build2 - - 3
ssh-ng://bob@build3 aarch64-linux - - - - -   # the ARM box
ssh://c1 - - 1; ssh://c2 - - 2
"""


def test_every_column_is_read():
    mf = MachinesFile.parse(SAMPLE, "sample")
    a, b, c, d, e = mf.machines
    assert (a.protocol, a.user, a.host, a.port) == ("ssh", "alice", "build1", 2222)
    assert a.systems == ["x86_64-linux", "i686-linux"]
    assert a.ssh_key == "/home/alice/.ssh/id_build"
    assert (a.max_jobs, a.speed_factor) == (4, 2)
    assert a.supported_features == ["big-parallel", "kvm"]
    assert a.mandatory_features == ["benchmark"]
    assert a.host_key == KEY and a.host_key_line().startswith("ssh-ed25519 AAAA")
    assert a.uri == "ssh://alice@build1:2222"
    # a bare host name is ssh://; "-" and missing columns are defaults
    assert (b.protocol, b.host, b.systems, b.ssh_key, b.max_jobs, b.speed_factor) == \
        ("ssh", "build2", [], None, 3, None)
    assert (c.protocol, c.user, c.systems, c.max_jobs) == ("ssh-ng", "bob", ["aarch64-linux"], None)
    assert [d.host, e.host, e.max_jobs] == ["c1", "c2", 2]


@needs_nix
def test_nix_reads_the_same_machines_as_we_do(tmp_path):
    text = SAMPLE.replace("ssh://alice@build1:2222", "ssh://alice@build1")  # ports: Nix >= 2.31
    ours = MachinesFile.parse(text).machines
    assert nix_reads(tmp_path, text) == as_nix_lists(ours, local_system())


@needs_nix
def test_what_we_write_means_the_same_to_nix(tmp_path):
    text = SAMPLE.replace("ssh://alice@build1:2222", "ssh://alice@build1")
    written = MachinesFile.parse(text).dumps()
    assert ";" not in written.replace("#", "\n#").split("#")[0]  # one machine per line
    assert nix_reads(tmp_path, written) == nix_reads(tmp_path, text)


@needs_nix
def test_includes_are_read_like_nix(tmp_path):
    (tmp_path / "more").write_text("ssh://inc1 x86_64-darwin - 7\n")
    text = f"ssh://top - - 2\n@{tmp_path / 'more'}\n@{tmp_path / 'missing'}\n"
    (tmp_path / "main").write_text(text)
    mf = MachinesFile.load(tmp_path / "main")
    assert [m.host for m in mf.machines] == ["top"]
    assert mf.includes == [str(tmp_path / "more"), str(tmp_path / "missing")]
    # Nix skips a missing include; so does all_machines(missing_ok=True)
    assert nix_reads(tmp_path, text) == as_nix_lists(mf.all_machines(missing_ok=True),
                                                     local_system())


def test_a_missing_include_is_named_with_its_file_and_line(tmp_path):
    (tmp_path / "main").write_text("# farm\nssh://top\n@./mroe\n")  # a typo for "more"
    with pytest.raises(MachinesError) as err:
        MachinesFile.load(tmp_path / "main").all_machines()
    assert str(err.value).startswith(f"{tmp_path / 'main'}:3: '@./mroe' includes ")
    assert str(tmp_path / "mroe") in str(err.value) and "does not exist" in str(err.value)


def test_an_include_loop_is_an_error(tmp_path):
    (tmp_path / "a").write_text(f"@{tmp_path / 'b'}\n")
    (tmp_path / "b").write_text(f"ssh://x\n@{tmp_path / 'a'}\n")
    with pytest.raises(MachinesError, match="includes itself"):
        MachinesFile.load(tmp_path / "a").all_machines()


@needs_nix
@pytest.mark.parametrize("line, column, words", [
    ("ssh://a x86_64-linux - four", 24, "max jobs"),
    ("ssh://a - - 1 fast", 15, "speed factor"),
    ("ssh://a - - 1 1 - - not-base64!", 21, "host key"),
])
def test_lines_nix_rejects_are_errors_naming_line_and_column(tmp_path, line, column, words):
    assert nix_reads(tmp_path, f"ssh://ok\n{line}\n") == "rejected"
    with pytest.raises(MachinesError) as err:
        MachinesFile.parse(f"ssh://ok\n{line}\n", "m")
    assert (err.value.file, err.value.line, err.value.column) == ("m", 2, column)
    assert words in str(err.value) and str(err.value).startswith(f"m:2:{column}: ")


@pytest.mark.parametrize("line, words", [
    ("http://a", "ssh:// or ssh-ng://"),
    ("ssh://a x86_64-linux,,i686-linux", "system list"),
    ("ssh://a:99999", "port"),
    ("ssh://a - - 1 1 - - - extra", "too many columns"),
])
def test_other_mistakes_are_errors_too(line, words):
    with pytest.raises(MachinesError, match=re.escape(words)):
        MachinesFile.parse(line)


def test_round_trip_keeps_comments_order_and_unchanged_lines():
    canonical = (f"# farm\n\n#   aligned by hand:\nssh://a  x86_64-linux  -  4\n@/etc/nix/more\n"
                 f"ssh://b - - 2 1 - - {KEY}\n")
    mf = MachinesFile.parse(canonical)
    assert mf.dumps() == canonical
    mf.machines[1].max_jobs = 8  # an edited machine is rewritten, the rest stays
    assert mf.dumps() == canonical.replace(f"ssh://b - - 2 1 - - {KEY}", f"ssh://b - - 8 1 - - {KEY}")


def test_semicolons_and_trailing_comments_become_one_item_per_line():
    mf = MachinesFile.parse("ssh://a; ssh://b # two; three\n")
    assert mf.dumps() == "# two, three\nssh://a\nssh://b\n"
    # Nix before 2.29 would read "three" as a machine: warned, and written without the ';'
    assert mf.warnings and mf.warnings[0][0] == 1
    assert [m.host for m in MachinesFile.parse(mf.dumps()).machines] == ["a", "b"]


def test_add_replace_remove_and_find():
    mf = MachinesFile.parse("# keep me\nssh://a - - 1\n")
    mf.add(Machine("b", user="u", max_jobs=2))
    mf.add(Machine("a", max_jobs=9))  # same URI: replaced in place
    assert mf.dumps() == "# keep me\nssh://a - - 9\nssh://u@b - - 2\n"
    assert mf.find("b") is mf.find("ssh://u@b") is mf.find("u@b")
    mf.remove("a")
    assert mf.dumps() == "# keep me\nssh://u@b - - 2\n"
    with pytest.raises(MachinesError, match="no machine 'zz'"):
        mf.remove("zz")


def test_save_is_atomic_with_one_backup(tmp_path):
    path = tmp_path / "sub" / "machines"
    MachinesFile.parse("ssh://one\n").save(path)
    MachinesFile.parse("ssh://two\n").save(path)
    MachinesFile.parse("ssh://three\n").save(path)
    assert path.read_text() == "ssh://three\n"
    assert path.with_name("machines.bak").read_text() == "ssh://two\n"
    assert sorted(os.listdir(path.parent)) == ["machines", "machines.bak"]  # no temp files left


names = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
machines = st.builds(
    Machine,
    host=names,
    protocol=st.sampled_from(["ssh", "ssh-ng"]),
    user=st.none() | names,
    port=st.none() | st.integers(1, 65535),
    systems=st.lists(st.sampled_from(["x86_64-linux", "aarch64-linux", "i686-linux"]),
                     max_size=3, unique=True),
    ssh_key=st.none() | names.map(lambda n: f"/keys/{n}"),
    max_jobs=st.none() | st.integers(0, 64),
    speed_factor=st.none() | st.integers(0, 10) | st.sampled_from([0.5, 1.5, 2.25]),
    supported_features=st.lists(names, max_size=3, unique=True),
    mandatory_features=st.lists(names, max_size=2, unique=True),
    host_key=st.none() | st.just(KEY),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(machines, st.text(alphabet="abc ;#", max_size=12)), max_size=6))
def test_any_file_we_write_reads_back_the_same(items):
    mf = MachinesFile()
    for it in items:
        if isinstance(it, Machine):
            mf.add(it, replace_existing=True)
        else:
            from sweepgui.nix.machines import Comment
            mf.items.append(Comment(it))
    again = MachinesFile.parse(mf.dumps())
    assert again.machines == mf.machines
    assert again.dumps() == mf.dumps()
