"""Warm model processes for one run's local builds (see resources/nix/modelserver.py).

Started with the interpreter the derivations name, serving only the model store path
they name: a builder that reaches it gets exactly what running the model itself would
give, minus ~0.4 s of Python start-up per point. Builders that cannot reach it (remote
machines, other users) compute the point themselves; the derivations are the same.
"""

from __future__ import annotations

import hashlib
import os
import select
import signal
import subprocess
import time
from typing import IO

from ..resources import resources_dir
from .interpreter import InterpreterInfo


def server_key(model_store_path: str, interp: InterpreterInfo) -> str:
    """Must equal builder.py's ``_server_key`` for the same derivation."""
    interpreter_id = interp.identity_hash if interp.mode == "host" else ""
    text = "\0".join((model_store_path, interpreter_id, interp.python))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class ModelServer:
    """A running model server; ``stop()`` ends it and its workers."""

    def __init__(self, interp: InterpreterInfo, model_store_path: str, workers: int,
                 ready_timeout: float = 5.0, preload_eos: bool = False):
        script = resources_dir() / "nix" / "modelserver.py"
        python = interp.python
        # the environment of a build: no PYTHONPATH or user site, one BLAS thread
        env = {"PATH": os.path.dirname(python), "HOME": "/homeless-shelter",
               **({"PYTHONPATH": interp.site} if interp.site else {}),
               "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
               "LANG": "C.UTF-8",
               # it imports the model from its store path: a __pycache__ written there (root,
               # no sandbox) corrupts that path, which then cannot be copied to remote builders
               "PYTHONDONTWRITEBYTECODE": "1"}
        self.proc = subprocess.Popen(
            [*interp.command, str(script), "--model", model_store_path,
             "--key", server_key(model_store_path, interp), "--workers", str(max(1, workers)),
             *(["--preload-eos"] if preload_eos else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            env=env, start_new_session=True)
        # both are pipes (stdin=PIPE, stdout=PIPE): Popen's types allow None for other modes
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._stdin: IO[bytes] = self.proc.stdin
        self._stdout: IO[bytes] = self.proc.stdout
        self.ready = self._wait_ready(ready_timeout)

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            r, _, _ = select.select([self._stdout], [], [], 0.05)
            if r:
                return self._stdout.readline().strip() == b"ready"
            if self.proc.poll() is not None:
                return False
        return False

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self._stdin.close()  # the server's signal to stop and clean up
            except OSError:
                pass
            try:
                self.proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGTERM)
                except OSError:
                    pass
                try:
                    self.proc.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # any worker left behind
        except OSError:
            pass
        try:
            self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self._stdout, self._stdin):
            try:
                stream.close()
            except (OSError, ValueError):
                pass
