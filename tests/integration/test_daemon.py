"""sweepgui as an unprivileged user of a real multi-user Nix (a nix-daemon run by root).

Each test creates a real user (``useradd``), gives it a sweep of the fast custom model in its
own home, and drives the CLI as that user (``setpriv``) against a real ``nix-daemon`` with its
own nix.conf and socket, building as the ``nixbld`` build users in the machine's /nix/store.
Builder hosts are real sshd servers on 127.0.0.N port 22 with stores of their own: under a
daemon, ssh to builders runs as root inside the daemon, so their URIs carry no port and the
keys are read by root.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from sweepgui.model import run_point
from sweepgui.nix.plan import default_state_dir
from tests.nix.conftest import write_model, write_sweep

from .builders import BuilderHosts, missing_tools
from .daemon import (
    NIX_STORE,
    SOCKET_GROUP,
    TempGroup,
    TestUser,
    alive,
    build_user_processes,
    build_user_uids,
    group_exists,
    parent_of,
)

pytestmark = [pytest.mark.nix]

NOT_TRUSTED = re.compile(r"\bnot\s+(a\s+)?trusted|\buntrusted", re.IGNORECASE)
NOT_USED = re.compile(r"not\s+(be\s+)?used|won't\s+be\s+used|\bignor|\bdrop", re.IGNORECASE)


# -- helpers ----------------------------------------------------------------------------------

def cli(user: TestUser, *args, timeout: float = 90) -> subprocess.CompletedProcess:
    """``sweepgui ARGS`` as ``user`` (this project's interpreter, as the user would run it)."""
    return user.run([sys.executable, "-m", "sweepgui", *map(str, args)], timeout=timeout)


def make_sweep(user: TestUser, variables: dict, folder: str = "sweep", leaf_seconds: float = 0,
               machines: Path | None = None, jobs: int | None = 2) -> Path:
    """A sweep of the fast custom model in the user's home (a fresh marker: nothing cached).

    ``leaf_seconds``: every point takes that long (so that builds overlap and both builder
    hosts get some); ``machines``: ``[run] machines`` of the sweep file.
    """
    d = user.mkdir(folder)
    model = write_model(d, marker=uuid.uuid4().hex)
    if leaf_seconds:
        text = model.read_text()
        model.write_text(text.replace('print("computing"',
                                      f'time.sleep({leaf_seconds!r})\nprint("computing"', 1))
    sweep = write_sweep(d, variables, jobs=jobs)
    if machines is not None:
        text = sweep.read_text()
        line = f"machines = {json.dumps(str(machines))}\n"
        text = text.replace("[run]\n", "[run]\n" + line, 1) if "[run]\n" in text else \
            text + "[run]\n" + line
        sweep.write_text(text)
    user.chown(d)
    return sweep


def planned_outputs(user: TestUser, sweep: Path) -> list[str]:
    """The store paths of the sweep's points (``sweepgui plan --json``, nothing built)."""
    p = cli(user, "plan", sweep, "--json")
    assert p.returncode == 0, p.stderr
    return [pt["store_path"] for pt in json.loads(p.stdout)["plan"]]


def invalid(paths: list[str]) -> list[str]:
    """Which of ``paths`` the store does not hold."""
    if not paths:
        return []
    p = subprocess.run([NIX_STORE, "--check-validity", "--print-invalid", *paths],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.split()


def user_machines(user: TestUser, hosts: BuilderHosts, jobs: int = 1) -> Path:
    """The user's own machines file listing the hosts, with the user's own copy of the key
    (~/.ssh, mode 600: readable by the user and by root, who runs ssh inside the daemon)."""
    key = user.copy(hosts.client_key, ".ssh/sweepgui_builder", mode=0o600)
    os.chmod(user.home / ".ssh", 0o700)
    return user.write("machines", "\n".join(h.line(key, jobs=jobs) for h in hosts.hosts) + "\n")


def wait_for(what, timeout: float, step: float = 0.05, message: str = ""):
    deadline = time.monotonic() + timeout
    while True:
        value = what()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"timed out after {timeout} s")
        time.sleep(step)


@pytest.fixture
def hosts(multiuser_ready):
    """Two builder hosts with port-less URIs (ssh://root@127.0.0.N), for a daemon."""
    why = missing_tools()
    if why:
        pytest.skip(why)
    h = BuilderHosts()
    try:
        h.start(2, plain_uri=True)
        yield h
    finally:
        h.close()


# -- a. an untrusted user, local builds -------------------------------------------------------

def test_untrusted_user_builds_locally_and_the_roots_keep_the_results(nix_daemon, test_users):
    # a user of its own, who also makes the portable Python through the daemon
    u = test_users(share_portable=False)
    sweep = make_sweep(u, {"fluid.density": [700.0, 800.0], "state.temperature": [293.15, 333.15]})
    p = cli(u, "run", sweep, "--jobs", 2, "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["points"], out["built"], out["cached"], out["failed"]) == (4, 4, 0, 0)
    outs = []
    for r in out["results"]:
        assert r["status"] == "built" and r["machine"] == "local", r
        outs.append(r["store_path"])
        result = json.loads((Path(r["store_path"]) / "result.json").read_text())
        assert result["density"] == r["parameters"]["fluid"]["density"]
        assert result["temperature"] == r["parameters"]["state"]["temperature"]
    assert invalid(outs) == []

    # the run's GC roots: links of the user's, in the sweep's state folder, one per point
    roots = default_state_dir(sweep) / "gcroots"
    links = sorted(roots.iterdir())
    assert len(links) == 4
    for link in links:
        st = os.lstat(link)
        assert os.path.islink(link) and st.st_uid == u.uid, (link, st.st_uid)
    assert sorted(os.readlink(link) for link in links) == sorted(outs)

    # the daemon's garbage collector keeps every finished point: none is dead, and deleting
    # one is refused (a targeted GC: the store is shared with other tests, so no full --gc)
    env = nix_daemon.root_env()
    dead = subprocess.run([NIX_STORE, "--gc", "--print-dead"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert dead.returncode == 0, dead.stderr
    assert not set(outs) & set(dead.stdout.split())
    for path in outs:
        d = subprocess.run([NIX_STORE, "--delete", path], env=env, capture_output=True,
                           text=True, timeout=60)
        assert d.returncode != 0 and "alive" in d.stderr, d.stderr
    assert invalid(outs) == []

    # a second run finds everything cached
    again = cli(u, "run", sweep, "--jobs", 2, "--json")
    assert again.returncode == 0, again.stderr
    a = json.loads(again.stdout)
    assert (a["built"], a["cached"], a["failed"]) == (0, 4, 0)
    assert sorted(r["store_path"] for r in a["results"]) == sorted(outs)

    # and it is the user's links that keep them: without them the points are garbage
    for link in links:
        u.run(["rm", "-f", str(link)]).check_returncode()
    dead = subprocess.run([NIX_STORE, "--gc", "--print-dead"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert set(outs) <= set(dead.stdout.split())
    subprocess.run([NIX_STORE, "--delete", *outs], env=env, capture_output=True, timeout=60)


# -- b. an untrusted user's own machines ------------------------------------------------------

@pytest.mark.sshd
def test_an_untrusted_user_computes_the_built_in_model_in_groups_and_reuses_each_point(
        nix_daemon, test_user):
    """The default grouping as users run it (a daemon, builds as nixbld users, no warm model
    processes): 8 built-in points in groups, every result the model's own, the user's private
    result index, and each point found again by a differently grouped run."""
    u = test_user
    d = u.mkdir("groups")
    # a pipe length no run has used yet (cold), from a fresh uuid
    length = round(0.5 + (uuid.uuid4().int % 10**6) * 1e-9, 12)
    sweep = u.write("groups/g.toml", f"""[fixed]
pipe.length = {length!r}
fluid.density = 998.0
analysis.frequencies = 101
[variable]
"state.temperature" = [283.15, 293.15, 303.15, 313.15, 323.15, 333.15, 343.15, 353.15]
[run]
jobs = 2
""")
    u.chown(d)
    p = cli(u, "run", sweep, "--json", timeout=300)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["built"], out["failed"]) == (8, 0)
    paths = [r["store_path"] for r in out["results"]]
    # 8 points on 2 slots: groups of 2 (one derivation each, one output per point)
    assert all("-sweepgui-batch-" in path for path in paths), paths
    # (each output has a store path of its own; a group's outputs share its name, -p0, -p1)
    assert len({os.path.basename(path).split("-", 1)[1].rsplit("-p", 1)[0] for path in paths}) == 4
    for r in out["results"]:  # the model's own answer for that point's parameters
        result = json.loads((Path(r["store_path"]) / "result.json").read_text())
        assert result["parameters"]["state"]["temperature"] == r["parameters"]["state"]["temperature"]
        assert result["natural_frequencies"] == pytest.approx(
            run_point(r["parameters"])["natural_frequencies"], rel=1e-9)
    index = u.home / ".cache" / "sweepgui" / "results-index.sqlite"
    st = os.stat(index)
    assert st.st_uid == u.uid and stat.S_IMODE(st.st_mode) == 0o600
    assert stat.S_IMODE(os.stat(index.parent).st_mode) & 0o022 == 0
    # one point per derivation finds every result where the groups put it
    again = cli(u, "plan", sweep, "--batch", "1", "--json")
    assert again.returncode == 0, again.stderr
    plan = json.loads(again.stdout)["plan"]
    assert all(pt["cached"] for pt in plan)
    assert [pt["store_path"] for pt in plan] == paths


def test_untrusted_users_own_machines_with_jobs_0_stop_the_run_before_any_build(
        nix_daemon, test_user, hosts):
    u = test_user
    machines = user_machines(u, hosts)
    sweep = make_sweep(u, {"fluid.density": [700.0, 800.0]})
    outs = planned_outputs(u, sweep)
    p = cli(u, "run", sweep, "--machines", machines, "--jobs", 0)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert "trusted-users" in p.stderr, p.stderr
    assert NOT_TRUSTED.search(p.stderr), p.stderr
    assert NOT_USED.search(p.stderr), p.stderr
    assert sorted(invalid(outs)) == sorted(outs)  # no point was built
    assert [h.built_here() for h in hosts.hosts] == [[], []]  # nor sent to a host
    assert "done (" not in p.stderr  # stopped before the run began (no progress line)


@pytest.mark.sshd
def test_plan_warns_that_an_untrusted_users_machines_are_not_used(nix_daemon, test_user, hosts):
    u = test_user
    machines = user_machines(u, hosts)
    if "--machines" in cli(u, "plan", "--help").stdout:
        sweep = make_sweep(u, {"fluid.density": [700.0, 800.0]})
        p = cli(u, "plan", sweep, "--machines", machines)
    else:  # the machines of the sweep file
        sweep = make_sweep(u, {"fluid.density": [700.0, 800.0]}, machines=machines)
        p = cli(u, "plan", sweep)
    assert p.returncode == 0, p.stderr
    assert "2 points" in p.stdout
    assert "trusted-users" in p.stderr, p.stderr
    assert NOT_TRUSTED.search(p.stderr), p.stderr
    assert NOT_USED.search(p.stderr), p.stderr


@pytest.mark.sshd
def test_untrusted_users_machines_with_local_jobs_are_not_dropped_silently(
        nix_daemon, test_user, hosts):
    u = test_user
    machines = user_machines(u, hosts)
    sweep = make_sweep(u, {"fluid.density": [700.0, 800.0]})
    p = cli(u, "run", sweep, "--machines", machines, "--jobs", 2, "--json")
    assert NOT_USED.search(p.stderr), p.stderr
    assert "trusted-users" in p.stderr or NOT_TRUSTED.search(p.stderr), p.stderr
    assert [h.built_here() for h in hosts.hosts] == [[], []]
    if p.returncode == 0:  # built here, as Nix does: and said so
        out = json.loads(p.stdout)
        assert out["built"] == 2 and {r["machine"] for r in out["results"]} == {"local"}
    else:
        assert p.returncode == 2, (p.returncode, p.stderr)


# -- c. a trusted user's own machines ---------------------------------------------------------

@pytest.mark.sshd
def test_trusted_users_own_machines_build_every_point_on_the_two_hosts(
        nix_daemons, test_users, hosts):
    d = nix_daemons(env=hosts.daemon_env())
    u = test_users(daemon=d)
    d.trust(u.name)
    machines = user_machines(u, hosts, jobs=1)
    sweep = make_sweep(u, {"fluid.density": [700.0, 750.0, 800.0, 850.0]}, leaf_seconds=1.0)
    p = cli(u, "run", sweep, "--machines", machines, "--jobs", 0, "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["built"], out["failed"]) == (4, 0)
    by_uri = {h.uri: h for h in hosts.hosts}
    count = {uri: 0 for uri in by_uri}
    for r in out["results"]:
        assert r["status"] == "built" and r["machine"] in by_uri, r["machine"]
        count[r["machine"]] += 1
        assert by_uri[r["machine"]].has_path(r["store_path"])  # built in that host's store
        assert os.path.exists(r["store_path"])  # and copied back
    assert all(n > 0 for n in count.values()), count
    for uri, n in count.items():  # the per-machine summary
        assert out["per_machine"][uri]["built"] == n
        assert f"  {uri}: {n} built" in p.stderr, p.stderr


# -- d. the daemon's own builders -------------------------------------------------------------

def _daemon_with_builders(nix_daemons, hosts):
    # an untrusted client cannot send build-poll-interval: with every slot taken the daemon
    # looks for a free builder only every 5 s unless its own nix.conf says otherwise
    d = nix_daemons(extra=["build-poll-interval = 1"])
    d.use_builders([h.line(hosts.client_key, jobs=1) for h in hosts.hosts],
                   env=hosts.daemon_env())
    return d


@pytest.mark.sshd
def test_the_daemons_builders_take_an_untrusted_users_run_with_jobs_0(
        nix_daemons, test_users, hosts):
    d = _daemon_with_builders(nix_daemons, hosts)
    u = test_users(daemon=d)
    sweep = make_sweep(u, {"fluid.density": [700.0, 750.0, 800.0, 850.0]}, leaf_seconds=1.0)
    p = cli(u, "run", sweep, "--jobs", 0, "--json", timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["built"], out["failed"]) == (4, 0)
    for r in out["results"]:
        assert r["status"] == "built", r
        addr = re.sub(r"^[a-z-]+://([^@/]*@)?", "", r["machine"] or "").split(":")[0].split("?")[0]
        host = next((h for h in hosts.hosts if h.addr == addr), None)
        assert host is not None, r["machine"]  # a builder of the daemon, never "local"
        assert host.has_path(r["store_path"])
        assert os.path.exists(r["store_path"])


@pytest.mark.sshd
def test_plan_lists_the_daemons_builders(nix_daemons, test_users, hosts):
    d = _daemon_with_builders(nix_daemons, hosts)
    u = test_users(daemon=d)
    sweep = make_sweep(u, {"fluid.density": [700.0, 800.0]})
    p = cli(u, "plan", sweep)
    assert p.returncode == 0, p.stderr
    for h in hosts.hosts:
        assert h.addr in p.stdout, p.stdout


# -- e. cancelling ----------------------------------------------------------------------------

def test_ctrl_c_stops_the_daemons_build_and_leaves_no_process(nix_daemon, test_user):
    u = test_user
    sweep = make_sweep(u, {"state.temperature": [1000.0]}, jobs=1)  # the model sleeps 60 s
    [out_path] = planned_outputs(u, sweep)
    run = u.popen([sys.executable, "-m", "sweepgui", "run", str(sweep), "--jobs", "1"])
    try:
        # the point's build runs, as a build user (its command line names the point's output)
        found = wait_for(lambda: build_user_processes(out_path), timeout=30,
                         message="the point's build never started as a build user")
        # the model and the builder.py above it, both run by a build user
        build_pids = {pid for _uid, pid, _cmd in found}
        build_pids |= {q for q in map(parent_of, build_pids)
                       if q and os.path.exists(f"/proc/{q}") and os.stat(f"/proc/{q}").st_uid
                       in build_user_uids()}
        t0 = time.monotonic()
        run.send_signal(signal.SIGINT)
        try:
            _out, err = run.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            raise AssertionError("sweepgui run did not stop within 15 s of Ctrl-C") from None
        took = time.monotonic() - t0
    finally:
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 130, (run.returncode, err)
    assert took < 15
    # the daemon stopped the build: no build user runs the model or the builder of the point
    wait_for(lambda: not build_user_processes(out_path), timeout=10,
             message=f"still running: {build_user_processes(out_path)}")
    wait_for(lambda: not any(alive(q) for q in build_pids), timeout=10,
             message="the model or its builder outlived the cancel")
    # and nothing of the user's is left running
    wait_for(lambda: not u.processes(), timeout=10,
             message=f"processes of the user left: {u.processes()}")
    assert invalid([out_path]) == [out_path]


# -- f. sweepgui doctor -----------------------------------------------------------------------

def _doctor(user: TestUser, *args):
    if "doctor" not in cli(user, "--help").stdout:  # else `sweepgui doctor` opens the app
        pytest.fail("there is no `sweepgui doctor` command")
    text = cli(user, "doctor", *args, timeout=60)
    js = cli(user, "doctor", *args, "--json", timeout=60)
    return text, js


def _doctor_json(p: subprocess.CompletedProcess) -> dict:
    assert p.returncode in (0, 1), (p.returncode, p.stderr)
    obj = json.loads(p.stdout)
    assert isinstance(obj, dict)
    assert isinstance(obj["checks"], list) and obj["checks"]
    for c in obj["checks"]:
        assert {"name", "level", "message"} <= set(c), c
    return obj


def test_doctor_tells_an_untrusted_user_of_the_daemon(nix_daemon, test_user):
    text, js = _doctor(test_user)
    assert text.returncode in (0, 1), (text.returncode, text.stderr)
    said = text.stdout + text.stderr
    assert "daemon" in said.lower(), said
    assert NOT_TRUSTED.search(said), said
    assert "trusted-users" in said, said
    obj = _doctor_json(js)
    assert obj["mode"] == "daemon" and obj["trusted"] is False
    assert obj["daemon_builders"] == []


def test_doctor_tells_a_trusted_user_so(nix_daemons, test_users):
    d = nix_daemons()
    u = test_users(daemon=d)
    d.trust(u.name)
    text, js = _doctor(u)
    assert text.returncode in (0, 1), (text.returncode, text.stderr)
    said = text.stdout + text.stderr
    assert "daemon" in said.lower() and "trusted" in said, said
    assert not NOT_TRUSTED.search(said), said
    obj = _doctor_json(js)
    assert obj["mode"] == "daemon" and obj["trusted"] is True


def test_doctor_knows_a_user_trusted_through_a_group(nix_daemons, test_users):
    group = TempGroup()
    try:
        d = nix_daemons(trusted_users=[f"@{group.name}"])
        member = test_users(daemon=d, groups=[group.name])  # a supplementary group
        other = test_users(daemon=d)
        assert _doctor_json(cli(member, "doctor", "--json", timeout=60))["trusted"] is True
        assert _doctor_json(cli(other, "doctor", "--json", timeout=60))["trusted"] is False
    finally:
        group.close()


@pytest.mark.sshd
def test_doctor_lists_the_daemons_builders(nix_daemons, test_users, hosts):
    d = _daemon_with_builders(nix_daemons, hosts)
    u = test_users(daemon=d)
    text, js = _doctor(u)
    assert text.returncode in (0, 1), (text.returncode, text.stderr)
    for h in hosts.hosts:
        assert h.addr in text.stdout, text.stdout
    obj = _doctor_json(js)
    assert obj["mode"] == "daemon"
    assert sorted(obj["daemon_builders"]) == sorted(h.uri for h in hosts.hosts)


# -- g. a user the daemon's socket is closed to -----------------------------------------------

@pytest.mark.skipif(not group_exists(SOCKET_GROUP), reason=f"no '{SOCKET_GROUP}' group")
def test_a_user_outside_nix_users_is_told_to_join_it(nix_daemons, test_users):
    d = nix_daemons(socket_group=SOCKET_GROUP)  # the socket's folder: root:nix-users 0750
    u = test_users(daemon=d, in_nix_users=False)
    sweep = make_sweep(u, {"fluid.density": [700.0]})
    p = cli(u, "run", sweep, "--jobs", 1)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert SOCKET_GROUP in p.stderr, p.stderr
    assert "Traceback" not in p.stderr
    # a member of the group gets in
    member = test_users(daemon=d)
    ok = cli(member, "run", make_sweep(member, {"fluid.density": [700.0]}), "--jobs", 1)
    assert ok.returncode == 0, ok.stderr


# -- the desktop app as an untrusted user -------------------------------------------------------

def test_the_app_says_before_run_that_the_daemon_ignores_the_users_machines(nix_daemon, test_user,
                                                                               hosts):
    """The real main window (offscreen) as the user: the status bar names the daemon and the
    missing trust, the run tab says before Run that the machines will not be used, the
    machines tab shows the banner, and Run builds every point (locally)."""
    u = test_user
    # the machines the user keeps in the app's Build machines tab (its default file)
    machines = user_machines(u, hosts)
    default = u.path(".config/sweepgui/machines")
    u.mkdir(".config/sweepgui")
    u.copy(machines, ".config/sweepgui/machines", mode=0o644)
    machines = default
    sweep = make_sweep(u, {"fluid.density": [990.0, 1000.0, 1020.0]})
    out = u.home / "seen.json"
    from .daemon import PROJECT

    p = u.run([sys.executable, "-m", "tests.integration.gui_driver", sweep, out],
              env={"PYTHONPATH": str(PROJECT)}, cwd=PROJECT, timeout=180)
    assert p.returncode == 0, p.stderr[-3000:]
    seen = json.loads(out.read_text())
    assert seen["nix_status"].startswith("Nix ") and "daemon, not trusted" in seen["nix_status"]
    assert f"will not use the machines in {machines}" in seen["route_before_run"]
    assert "trusted-users" in seen["route_before_run"]
    assert seen["banner_visible"] is True and seen["run_started"] is True
    assert seen["statuses"] == ["built"] * 3, seen
    assert seen["progress"].startswith("100%") and "3 built" in seen["progress"]
    assert all(not h.built_here() for h in hosts.hosts)  # the daemon used none of them
