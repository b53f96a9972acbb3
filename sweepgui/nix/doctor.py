"""``sweepgui doctor``: the whole Nix set-up checked, each item with a plain-words fix.

Qt-free: the CLI prints the report, the GUI's Help > Check set-up shows the same items.
Every item is a :class:`~sweepgui.nix.machines.Check` (name, level, message).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .interpreter import InterpreterInfo, build_user_paths, detect_interpreter
from .machines import Check, Machine, MachinesError, MachinesFile, daemon_ssh_checks, default_machines_path
from .setup import NixSetup, detect_setup, store_free_bytes, unreadable_for_build_users

LOW_SPACE = 2 * 1024**3        # warn below 2 GiB free in the store
NO_SPACE = 200 * 1024**2       # builds fail soon below 200 MiB


@dataclass
class DoctorReport:
    """The outcome of :func:`run_doctor`: the set-up and the checked items in order."""

    setup: NixSetup
    interpreter: InterpreterInfo | None
    machines_file: Path | None
    user_machines: list[Machine] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.level != "error" for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        s = self.setup
        return {
            "ok": self.ok, "nix_version": s.version, "mode": s.mode, "user": s.user,
            "trusted": s.trusted, "conf_file": s.conf_file,
            "daemon_builders": [m.name for m in s.daemon_builders],
            "user_machines_file": str(self.machines_file) if self.machines_file else None,
            "user_machines": [m.name for m in self.user_machines],
            "user_machines_used": bool(self.user_machines) and s.own_builders_used,
            "interpreter": ({"mode": self.interpreter.mode, "python": self.interpreter.python}
                            if self.interpreter else None),
            "checks": [{"name": c.name, "level": c.level, "message": c.message}
                       for c in self.checks],
        }


def _nix_checks(s: NixSetup) -> list[Check]:
    if not s.version:
        return [Check.error("nix", s.store_error or "Nix is not installed")]
    out = [Check.passed("nix", f"Nix {s.version}")]
    if s.mode == "unavailable":
        out.append(Check.error("store", s.store_error))
        return out
    if s.daemon:
        out.append(Check.passed("store", f"a nix-daemon owns the store and builds as the build users "
                                f"(group {s.build_users_group or '?'}); {s.user} talks to it"))
        if s.trusted:
            how = "the daemon says so" if s.trust_known else f"trusted-users = " \
                f"{' '.join(s.trusted_users)} in {s.conf_file}"
            out.append(Check.passed("trust", f"{s.user} is a trusted user of the daemon ({how}): your "
                                    "own machines files are used"))
        else:
            out.append(Check.passed("trust", f"{s.user} is not a trusted user of the daemon "
                                    f"(trusted-users = {' '.join(s.trusted_users)} in {s.conf_file}): "
                                    "the daemon ignores your own machines files and uses only its "
                                    "own builders. That is the normal, safe set-up; see the machines "
                                    "items for what it means here"))
    else:
        how = (f"builds run as the build users (group {s.build_users_group})" if s.build_users
               else "Nix builds in your own processes")
        out.append(Check.passed("store", f"single-user Nix: {s.user} writes the store itself and {how}; "
                                "your settings and machines files are used"))
    if s.sandbox == "true":
        out.append(Check.warning("sandbox", f"sandbox = true in {s.conf_file}: builds see only the Nix "
                                 "store, so the host Python (the default interpreter) cannot run in "
                                 "them: set sandbox = false, or use a Python from the Nix store "
                                 "(SWEEPGUI_NIX_PYTHON)"))
    return out


def _builder_checks(s: NixSetup, machines_file: Path | None,
                    user_machines: list[Machine], file_error: str) -> list[Check]:
    out = []
    who = "the nix-daemon" if s.daemon else "Nix"
    if s.builders_error:
        out.append(Check.error("daemon-builders", f"{who}'s builders cannot be read: {s.builders_error}"))
    elif s.daemon_builders:
        names = ", ".join(m.name for m in s.daemon_builders)
        out.append(Check.passed("daemon-builders", f"{who} builds on {names} (builders = "
                                f"{s.builders_setting}); --jobs 0 sends every point there"))
        if s.daemon:
            for m in s.daemon_builders:
                out += [c.about(m.name) for c in daemon_ssh_checks(m)]
    else:
        out.append(Check.passed("daemon-builders", f"{who} has no remote builders of its own "
                                f"(builders = {s.builders_setting or '(empty)'})"))
    if file_error:
        out.append(Check.error("machines-file", file_error))
    elif machines_file is None or not user_machines:
        where = machines_file or default_machines_path()
        out.append(Check.passed("machines-file", f"no machines of your own ({where} lists none)"))
    elif not s.own_builders_used:
        out.append(Check.warning("machines-file", s.ignored_machines_message(machines_file)))
    else:
        names = ", ".join(m.name for m in user_machines)
        out.append(Check.passed("machines-file", f"your machines ({names}, in {machines_file}) are "
                                f"used by runs that name the file (`--machines`, [run] machines)"))
        if s.daemon:
            for m in user_machines:
                out += [c.about(m.name) for c in daemon_ssh_checks(m)]
    return out


def _interpreter_checks(s: NixSetup, interp: InterpreterInfo) -> list[Check]:
    out = [Check.passed("interpreter", interp.description)]
    if s.build_users and interp.mode == "host":
        problem = unreadable_for_build_users(build_user_paths(interp))
        if problem and s.daemon:
            out.append(Check.error("interpreter-access", problem))
        elif problem:
            out.append(Check.warning("interpreter-access", problem + "; as root, sweepgui builds as "
                                     "root instead of the build users (build-users-group = '')"))
        else:
            out.append(Check.passed("interpreter-access", "the Nix build users can run the interpreter "
                                    "and read its packages"))
    return out


def _space_checks() -> list[Check]:
    free = store_free_bytes()
    if free is None:
        return []
    gib = free / 1024**3
    if free < NO_SPACE:
        return [Check.error("disk", f"only {gib:.2f} GiB free for /nix/store: builds will fail; free "
                            "space (`nix-collect-garbage` removes what no GC root keeps)")]
    if free < LOW_SPACE:
        return [Check.warning("disk", f"{gib:.1f} GiB free for /nix/store: large sweeps may run out; "
                              "`nix-collect-garbage` frees what no GC root keeps")]
    return [Check.passed("disk", f"{gib:.1f} GiB free for /nix/store")]


def run_doctor(machines_file: Path | None = None, refresh: bool = True) -> DoctorReport:
    """Check the Nix set-up, the builders and the interpreter (see the module doc).

    ``machines_file``: the user's machines file (default ~/.config/sweepgui/machines when
    it exists). Takes well under a second; it never connects to a builder (that is
    ``sweepgui machines check``).
    """
    s = detect_setup(refresh=refresh)
    path = machines_file
    if path is None and default_machines_path().exists():
        path = default_machines_path()
    user_machines: list[Machine] = []
    file_error = ""
    if path is not None:
        try:
            user_machines = MachinesFile.load(Path(path).expanduser()).all_machines()
        except MachinesError as exc:
            file_error = str(exc)
    report = DoctorReport(s, None, path, user_machines)
    report.checks += _nix_checks(s)
    if s.usable:
        report.checks += _builder_checks(s, path, user_machines, file_error)
        report.interpreter = detect_interpreter()
        report.checks += _interpreter_checks(s, report.interpreter)
        report.checks += _space_checks()
    return report
