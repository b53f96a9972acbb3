"""A hostile local user must never answer for the model (issue: forged results).

The warm model processes of a run are an execution shortcut: a point's builder hands its
parameters to a server over a Unix socket in ``/tmp/sweepgui-modelserver-<uid>/<key>/``.
/tmp is shared, and the key is predictable (it hashes the model's store path and the
interpreter). Here a second, unprivileged user creates those folders first, for every uid
builds may run as (root and the Nix build users), and serves made-up results on sockets
there. Every point must still be the model's own answer.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from sweepgui.nix import Engine, read_result
from sweepgui.nix.events import PointFinished
from sweepgui.nix.server import server_key
from sweepgui.sweep import load_sweep
from tests.integration.daemon import TestUser, build_user_uids

pytestmark = [pytest.mark.nix,
              pytest.mark.skipif(shutil.which("nix-build") is None, reason="needs Nix"),
              pytest.mark.skipif(os.geteuid() != 0, reason="creates a second user (root only)")]

FORGER = textwrap.dedent('''\
    import json, os, socket, sys, threading
    os.umask(0)
    forged = json.dumps({"forged": True, "frequencies": [1.0, 2.0, 3.0]}).encode()
    header = json.dumps({"code": 0, "stdout": "", "stderr": "",
                         "result_bytes": len(forged)}).encode() + b"\\n"
    answered = open(sys.argv[1], "a")

    def serve(listener):
        while True:
            conn, _ = listener.accept()
            with conn:
                conn.makefile("rb").readline()
                conn.sendall(header + forged)
                answered.write("x\\n"); answered.flush()

    for folder in sys.argv[2:]:
        try:
            os.makedirs(folder, mode=0o777, exist_ok=True)
            os.chmod(os.path.dirname(folder), 0o755)
            os.chmod(folder, 0o755)
        except OSError:
            continue  # somebody's own folder already: nothing to plant there
        path = os.path.join(folder, "1.sock")
        s = socket.socket(socket.AF_UNIX)
        s.bind(path)
        os.chmod(path, 0o777)
        s.listen(16)
        threading.Thread(target=serve, args=(s,), daemon=True).start()
    print("ready", flush=True)
    sys.stdin.read()
    ''')


def test_a_hostile_users_sockets_never_answer_for_the_model(tmp_path: Path):
    rho = round(800 + 300 * (uuid.uuid4().int % 10**6) / 10**6, 6)  # points nobody has built yet
    sweep_file = tmp_path / "s.toml"
    sweep_file.write_text(f'[fixed]\nanalysis.frequencies = 101\n[variable]\n'
                          f'"fluid.density" = [{rho!r}, {rho + 1!r}, {rho + 2!r}]\n'
                          '[run]\njobs = 2\n')
    sweep = load_sweep(sweep_file)
    engine = Engine(warm_model=True)
    plan = engine.plan(sweep)
    assert plan.to_build == 3
    key = server_key(plan.model_store_path, plan.interpreter)
    # every uid the builders may run as: this user, and the Nix build users
    uids = {os.getuid(), *build_user_uids()}
    folders = [f"/tmp/sweepgui-modelserver-{uid}/{key}" for uid in sorted(uids)]
    planted_before = {f for f in folders if os.path.exists(os.path.dirname(f))}
    hostile = TestUser()
    answered = hostile.home / "answered"
    script = hostile.write("forger.py", FORGER)
    proc = hostile.popen(["/usr/bin/python3", script, answered, *folders],
                         stdin=subprocess.PIPE)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        planted = [f for f in folders if os.path.exists(f) and
                   os.lstat(f).st_uid == hostile.uid]
        assert planted, f"the hostile user could plant no folder ({planted_before})"
        events = list(engine.run(sweep, jobs=2))
    finally:
        proc.stdin.close()
        proc.wait(timeout=10)
        for f in folders:  # the hostile user's folders (not anybody's own)
            top = os.path.dirname(f)
            if os.path.exists(top) and os.lstat(top).st_uid == hostile.uid:
                shutil.rmtree(top, ignore_errors=True)
        hostile.close()
    finished = [e for e in events if isinstance(e, PointFinished)]
    assert len(finished) == 3, events[-1]
    env = {"PATH": os.path.dirname(sys.executable), "PYTHONPATH": plan.model_store_path,
           "OMP_NUM_THREADS": "1", "HOME": "/homeless-shelter", "PYTHONDONTWRITEBYTECODE": "1"}
    for e in finished:
        got = read_result(e.store_path)
        assert "forged" not in got
        target = tmp_path / "direct.json"
        subprocess.run([sys.executable, "-m", "sweepgui.model",
                        f"{e.store_path}/parameters.json", str(target)],
                       env=env, cwd=tmp_path, check=True, capture_output=True)
        assert got == json.loads(target.read_text())
    assert not answered.exists() or answered.read_text() == "", "a builder talked to the forger"
