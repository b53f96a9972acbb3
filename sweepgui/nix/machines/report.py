"""One checked item, in plain words: what the machine checks and ``sweepgui doctor`` report."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    Attributes
    ----------
    name : str
        What was checked: "identity", "system", "features", "max-jobs", "host-key",
        "connection", "nix-version", "uri", "daemon-ssh" (and doctor's own items).
    ok : bool
        False only for errors (the machine, or the set-up, cannot build as configured).
    level : str
        "ok", "warning" or "error".
    message : str
        Plain words: what is wrong and how to fix it.
    """

    name: str
    ok: bool
    level: str
    message: str

    @classmethod
    def passed(cls, name: str, message: str) -> Check:
        return cls(name, True, "ok", message)

    @classmethod
    def warning(cls, name: str, message: str) -> Check:
        return cls(name, True, "warning", message)

    @classmethod
    def error(cls, name: str, message: str) -> Check:
        return cls(name, False, "error", message)

    def about(self, label: str) -> Check:
        """The same check, its message prefixed with ``label`` (e.g. the machine's name)."""
        return Check(self.name, self.ok, self.level, f"{label}: {self.message}")


def run_tool(cmd: list[str], timeout: float, env: dict[str, str] | None = None
             ) -> tuple[int | None, str]:
    """Run ``cmd`` without a terminal: (exit code, or None on timeout; combined output).
    A command that cannot start gives 127 and the reason."""
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=max(0.5, timeout), env=env, start_new_session=True)
        return p.returncode, (p.stderr + p.stdout).strip()
    except subprocess.TimeoutExpired as exc:
        out = exc.stderr or b""
        return None, (out.decode(errors="replace") if isinstance(out, bytes) else out).strip()
    except OSError as exc:
        return 127, str(exc)
