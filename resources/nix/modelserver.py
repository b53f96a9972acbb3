"""Warm model processes for the builds of one run (an execution shortcut, never an input).

The built-in model computes a point in milliseconds, but a fresh Python needs ~0.4 s to
import numpy, scipy and pydantic, so one process per point wastes most of the machine.
This server, started by the engine for a run with the *same interpreter* the derivations
name, pre-forks ``--workers`` processes that import the model once from the *same store
path* the derivations name. A point's builder (builder.py) that finds the server hands it
the point's parameters and gets back exactly what ``python -m sweepgui.model PARAMS OUT``
would have produced (exit code, stdout, stderr, the result file); when there is no server
(remote builders, other users, a crash) the builder computes the point itself. The
derivations do not change either way.

Usage: PYTHON modelserver.py --model STORE_PATH --key KEY --workers N
The socket lives in ``/tmp/sweepgui-modelserver-<uid>/<key>/<pid>.sock``. Both folders must be
this user's own and writable by nobody else (made with mode 0700, or 0755 for root, whose builds
run as the Nix build users; checked with lstat: the server does not start otherwise), and both
ends check the other's user (SO_PEERCRED): a builder takes answers only from a server of its
own user or of root, and a server other than root's serves only its own user's builds. The key
hashes the model path, the interpreter identity and the interpreter path, so a builder only
ever talks to a server equal to itself.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import signal
import socket
import sys
import tempfile


def socket_dir(key: str) -> str:
    # a fixed root: builders get their own TMPDIR, but see the real /tmp (sandbox = false)
    return os.path.join("/tmp", f"sweepgui-modelserver-{os.getuid()}", key)


def private_folder(path: str) -> bool:
    """Make ``path`` unless it exists; True only if it is then a real folder of this user
    that nobody else may write. /tmp is shared: another user may have made the folder (or a
    symlink) first, and then this server must not use it.

    Root's folders are open for reading (mode 0755): the Nix build users that run root's
    builds (nixbld*) reach root's server there, and only root can add anything to them.
    Anybody else's are closed (0700).
    """
    import stat

    mode = 0o755 if os.getuid() == 0 else 0o700
    with contextlib.suppress(FileExistsError):
        os.mkdir(path, mode)
    try:
        st = os.lstat(path)
    except OSError:
        return False
    if not (stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid() and not st.st_mode & 0o022):
        return False
    if stat.S_IMODE(st.st_mode) != mode:  # e.g. root's folder made 0700 by an older version
        os.chmod(path, mode)
    return True


def peer_uid(conn: socket.socket) -> int:
    import struct

    creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _serve_one(conn: socket.socket, model: str, main, workdir: str) -> None:
    with conn, conn.makefile("rb") as rf:
        request = json.loads(rf.readline())
        if request.get("model") != model:
            conn.sendall(b'{"unsupported": true}\n')
            return
        params = os.path.join(workdir, "params.json")
        out = os.path.join(workdir, "result.json")
        with open(params, "w", encoding="utf-8") as fh:
            fh.write(request["params"])
        if os.path.exists(out):
            os.unlink(out)
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                code = main([params, out])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
        result = b""
        if code == 0 and os.path.exists(out):
            with open(out, "rb") as fh:
                result = fh.read()
        # a JSON header line, then the result file's bytes as they are (no re-encoding)
        header = {"code": int(code or 0), "stdout": stdout.getvalue(),
                  "stderr": stderr.getvalue(), "result_bytes": len(result) if code == 0 else -1}
        conn.sendall(json.dumps(header).encode() + b"\n" + result)


def _worker(listener: socket.socket, model: str, scratch: str) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # never write __pycache__ into the model's store path (see builder.py)
    sys.dont_write_bytecode = True
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # numpy & co. were imported before the fork (main); the model itself is imported on the
    # first request, when a build using it proves that its store path exists
    workdir = tempfile.mkdtemp(prefix="worker-", dir=scratch)
    main = None
    while True:
        conn, _ = listener.accept()
        try:
            # only this user's own builds (root's: also the build users running them)
            if os.getuid() != 0 and peer_uid(conn) != os.getuid():
                conn.close()
                continue
            if main is None:
                try:
                    sys.path.insert(0, model)
                    from sweepgui.model.__main__ import main  # the store copy, first on sys.path
                except Exception:
                    sys.path.remove(model)
                    main = None
                    with conn:
                        conn.sendall(b'{"unsupported": true}\n')
                    continue
            _serve_one(conn, model, main, workdir)
        except Exception:
            with contextlib.suppress(OSError):
                conn.close()


def _spawn(listener: socket.socket, model: str, scratch: str) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            _worker(listener, model, scratch)
        finally:
            os._exit(0)
    return pid


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--preload-eos", action="store_true",
                    help="load CoolProp's fluid library before the workers fork")
    args = ap.parse_args()

    folder = socket_dir(args.key)
    if not (private_folder(os.path.dirname(folder)) and private_folder(folder)):
        print(f"unsafe: {os.path.dirname(folder)} is not this user's own private folder",
              flush=True)
        return 3
    path = os.path.join(folder, f"{os.getpid()}.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    if os.getuid() == 0:
        os.chmod(path, 0o666)  # the build users connect (see private_folder)
    listener.listen(64)
    # the model writes its OUT file durably (fsync): in memory that costs nothing. The
    # workers' folders live in one folder this process removes when it ends.
    shm = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None
    scratch = tempfile.mkdtemp(prefix="sweepgui-modelserver-", dir=shm)
    children: set[int] = set()
    stop = False

    def _stdin_closed() -> None:
        # the engine closes our stdin when the run ends (or when it dies): stop then
        sys.stdin.read()
        os.kill(os.getpid(), signal.SIGTERM)

    def _term(*_):
        nonlocal stop
        if stop:
            return  # already stopping: never interrupt the clean-up below
        stop = True
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, _term)
    try:
        # What every worker needs is loaded once, here, and shared by the forked workers
        # (copy-on-write) instead of paid in each: numpy & co., and for a sweep with densities
        # from the equation of state CoolProp's fluid library (~1.4 s of parsing; CoolProp
        # cannot load one fluid alone). Builders connecting meanwhile wait in the backlog.
        print("ready", flush=True)
        for name in ("numpy", "scipy.linalg", "pydantic"):
            with contextlib.suppress(Exception):
                __import__(name)
        if args.preload_eos:
            with contextlib.suppress(Exception):
                import CoolProp.CoolProp as CP

                CP.AbstractState("HEOS", "Water")
        for _ in range(max(1, args.workers)):
            children.add(_spawn(listener, args.model, scratch))
        import threading

        threading.Thread(target=_stdin_closed, daemon=True).start()
        respawns = 0
        while not stop:
            # a worker that dies is replaced, so that queued builders are always served;
            # a worker that keeps dying ends the server (builders then compute themselves)
            pid, _ = os.wait()
            children.discard(pid)
            respawns += 1
            if stop or respawns > 10 * max(1, args.workers):
                break
            children.add(_spawn(listener, args.model, scratch))
    finally:
        stop = True
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with contextlib.suppress(OSError):
            os.unlink(path)
        for pid in children:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(OSError):
                os.waitpid(pid, 0)
        import shutil

        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
