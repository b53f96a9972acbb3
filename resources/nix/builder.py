"""Builder of one sweepgui point (run by Nix as ``INTERPRETER builder.py``).

Environment (set by sweep.nix): ``out``; ``paramsPath`` (the point's canonical JSON);
``model`` (store path of the model source, or of a custom executable); ``modelKind``.
Writes ``$out/parameters.json`` and has the model write ``$out/result.json``; exits
with the model's exit code, so Nix's "failed with exit code N" is the model's own.
A model that exits 0 without a readable result fails the build, so that no broken
result is ever cached.
"""

import json
import os
import shutil
import subprocess
import sys


def _aggregate() -> int:
    out = os.environ["out"]
    os.mkdir(out)
    shutil.copyfile(os.environ["pointsPath"], os.path.join(out, "points"))
    return 0


def _server_key(model: str) -> str:
    import hashlib

    text = "\0".join((model, os.environ.get("interpreterId", ""), sys.executable))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _private_folder(path: str, uid: int) -> bool:
    """Whether ``path`` is a real folder of ``uid`` that nobody else may write (lstat: a
    symlink planted by someone else does not count)."""
    import stat

    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and st.st_uid == uid and not st.st_mode & 0o022


def _peer_uid(s) -> int:
    import socket
    import struct

    creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    return struct.unpack("3i", creds)[1]


def _via_server(model: str, params: str, result: str) -> int | None:
    """Have a warm model process of this run compute the point (see modelserver.py).

    Returns the model's exit code, or None when no server can take it (then the caller
    computes the point itself: same interpreter, same model, same answer). Only a server
    of this build's own user, or of root, counts: its folders must be that user's and
    writable by nobody else, and the process at the other end of the socket must run as
    that user (peer credentials), so another local user cannot answer in the model's place.
    """
    import socket

    with open(params, encoding="utf-8") as fh:
        request = json.dumps({"model": model, "params": fh.read()}).encode() + b"\n"
    # this build's own user's server, or root's (root's builds run as the build users)
    for uid in dict.fromkeys((os.getuid(), 0)):
        base = os.path.join("/tmp", f"sweepgui-modelserver-{uid}")
        folder = os.path.join(base, _server_key(model))
        if not (_private_folder(base, uid) and _private_folder(folder, uid)):
            continue
        try:
            names = sorted(n for n in os.listdir(folder) if n.endswith(".sock"))
        except OSError:
            continue
        for name in names:
            try:
                with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                    s.connect(os.path.join(folder, name))
                    if _peer_uid(s) != uid:
                        continue
                    s.sendall(request)
                    with s.makefile("rb") as rf:
                        reply = json.loads(rf.readline())
                        size = reply.get("result_bytes", -1)
                        data = rf.read(size) if size >= 0 else None
                        if data is not None and len(data) != size:
                            continue  # the server went away mid-reply
            except (OSError, ValueError):
                continue
            if reply.get("unsupported"):
                continue
            return _answer(reply, data, result)
    return None


def _answer(reply: dict, data, result: str) -> int:
    """Pass on a server's answer as the model's own: its output, result file, exit code."""
    sys.stdout.write(reply.get("stdout", ""))
    sys.stdout.flush()
    sys.stderr.write(reply.get("stderr", ""))
    sys.stderr.flush()
    if data is not None:
        tmp = result + ".tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, result)
    return int(reply.get("code", 1))


def _run_builtin(model: str, params: str, result: str) -> int:
    code = _via_server(model, params, result)
    if code is not None:
        return code
    return _run_in_process(model, params, result)


def _run_in_process(model: str, params: str, result: str) -> int:
    # Run `python -m sweepgui.model PARAMS OUT` in this process: one interpreter start
    # per point instead of two. The store copy goes first on sys.path, ahead of any
    # installed (e.g. editable) sweepgui.
    import runpy
    import site

    if model not in sys.path:  # once per process (a batch runs many points)
        site.main()  # started with -S: now the interpreter's packages (numpy, ...) come in
        if os.environ.get("sitePackages"):  # portable mode: its packages' own folder
            site.addsitedir(os.environ["sitePackages"])
        # never write __pycache__ into the model's store path: where the builder runs as
        # root, the store is writable and the path's contents would no longer match its hash
        sys.dont_write_bytecode = True
        sys.path.insert(0, model)
    sys.argv = [os.path.join(model, "sweepgui", "model", "__main__.py"), params, result]
    try:
        runpy.run_module("sweepgui.model", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    return 0


def _python_command() -> list[str]:
    """How to start this same Python again (portable mode: through its own loader)."""
    if os.environ.get("loader"):
        return [os.environ["loader"], "--library-path", os.environ["libraryPath"], sys.executable]
    return [sys.executable]


def _run_custom(model: str, params: str, result: str) -> int:
    cmd = [*_python_command(), model] if model.endswith(".py") else [model]
    env = dict(os.environ)
    if env.get("sitePackages"):  # portable mode: numpy & co. for a Python model
        env["PYTHONPATH"] = env["sitePackages"]
    if env.get("hostMode"):
        # host mode is impure anyway: let a custom executable find the usual tools
        env["PATH"] = env.get("PATH", "") + os.pathsep + os.defpath.lstrip(":")
    if isinstance(sys.stdout, _Tee):
        # in a batch: the model's output passes through here, so its last lines are kept
        proc = subprocess.run(cmd + [params, result], env=env, capture_output=True, text=True)
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        return proc.returncode
    return subprocess.call(cmd + [params, result], env=env)


class _Tee:
    """Writes through to a stream and keeps the last lines (for a batch point's error)."""

    def __init__(self, stream):
        self.stream, self.lines = stream, []

    def write(self, text):
        self.lines = (self.lines + text.splitlines())[-20:]
        return self.stream.write(text)

    def flush(self):
        self.stream.flush()


def _batch() -> int:
    """Several points in one build: output ``p<k>`` holds point k.

    A point the model cannot compute gets ``error.json`` (exit code, last lines of its
    output) instead of ``result.json``, so that the batch's other points are kept; the
    engine reports such a point as failed.
    """
    import time

    with open(os.environ["paramsPath"], encoding="utf-8") as fh:
        texts = json.load(fh)
    model = os.environ["model"]
    run = _run_builtin if os.environ.get("modelKind") == "builtin" else _run_custom
    for k, text in enumerate(texts):
        out = os.environ[f"p{k}"]
        os.mkdir(out)
        params = os.path.join(out, "parameters.json")
        with open(params, "w", encoding="utf-8") as fh:
            fh.write(text)
        result = os.path.join(out, "result.json")
        t0 = time.monotonic()
        tee_out, tee_err = _Tee(sys.stdout), _Tee(sys.stderr)
        sys.stdout, sys.stderr = tee_out, tee_err
        try:
            code = run(model, params, result)
        except Exception as exc:
            print(f"sweepgui: {type(exc).__name__}: {exc}", file=sys.stderr)
            code = 1
        finally:
            sys.stdout, sys.stderr = tee_out.stream, tee_err.stream
        reason = None
        if code < 0:
            reason = f"the model was killed by signal {-code} ({_signal_name(-code)})"
            code = 128 - code
        elif code != 0:
            reason = f"the model exited with code {code}"
        else:
            try:
                _check_result(result)
            except (OSError, ValueError) as exc:
                reason, code = f"the model exited 0 but wrote no readable result.json: {exc}", 1
        if reason is not None:
            if os.path.exists(result):
                os.unlink(result)
            with open(os.path.join(out, "error.json"), "w", encoding="utf-8") as fh:
                json.dump({"exit_code": code, "reason": reason,
                           "log_tail": (tee_out.lines + tee_err.lines)[-20:]}, fh)
        print(f"sweepgui: point {k + 1}/{len(texts)} "
              f"{'failed' if reason else 'done'} in {time.monotonic() - t0:.3f} s", flush=True)
    return 0


def _refuse_constant(name: str):
    raise ValueError(f"it holds {name}, which is not a number a result may hold (JSON has no "
                     "NaN or Infinity): the model must fail instead")


def _check_result(path: str) -> None:
    """A result is a strict JSON object: readable, and without NaN or Infinity (Python's json
    writes them by default), so that no non-number is ever cached as the model's answer.
    The engine relies on this check: it takes a valid output's result.json as read."""
    if os.environ.get("modelKind") == "builtin":
        # the built-in model writes its result with allow_nan=False, atomically, and exits
        # non-zero otherwise: a result it wrote is known good (saves ~3 ms per point)
        if not os.path.isfile(path):
            raise OSError(f"{path} is missing")
        return
    with open(path, encoding="utf-8") as fh:
        data = json.load(fh, parse_constant=_refuse_constant)
    if not isinstance(data, dict):
        raise ValueError(f"it holds a JSON {type(data).__name__}, not an object")


def _signal_name(n: int) -> str:
    import signal

    try:
        return signal.Signals(n).name
    except ValueError:
        return "unknown signal"


def main() -> int:
    if sys.argv[1:] == ["--aggregate"]:
        return _aggregate()
    if sys.argv[1:] == ["--batch"]:
        return _batch()
    out = os.environ["out"]
    os.mkdir(out)
    params = os.path.join(out, "parameters.json")
    shutil.copyfile(os.environ["paramsPath"], params)
    result = os.path.join(out, "result.json")
    run = _run_builtin if os.environ.get("modelKind") == "builtin" else _run_custom
    code = run(os.environ["model"], params, result)
    sys.stdout.flush()
    if code < 0:  # killed by a signal: say which, and exit as a shell would (128 + N)
        print(f"sweepgui: the model was killed by signal {-code} ({_signal_name(-code)})",
              file=sys.stderr)
        return 128 - code
    if code != 0:
        print(f"sweepgui: the model exited with code {code}", file=sys.stderr)
        return code
    try:
        _check_result(result)
    except (OSError, ValueError) as exc:
        print(f"sweepgui: the model exited 0 but wrote no readable result.json: {exc}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
