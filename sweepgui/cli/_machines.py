"""``sweepgui machines ...``: list, check, add and remove remote builders, export them for NixOS.

Every sub-command works on one machines file (``--file``, default ~/.config/sweepgui/machines),
the file sweeps pass to Nix with ``sweepgui run SWEEP --machines FILE``.
Exit codes: 0 fine, 1 a check found a problem, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import UserError

if TYPE_CHECKING:
    from ..nix.machines import Machine, MachinesFile


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("machines", help="remote builders: list, check, add, remove, export",
                              description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="machines_command", metavar="ACTION")

    def usage(_args: argparse.Namespace) -> int:
        p.print_help()
        return 2

    p.set_defaults(handler=usage)

    def cmd(name: str, func: Callable[[argparse.Namespace], int],
            help_: str) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_)
        c.add_argument("--file", type=Path, default=None,
                       help="machines file (default: ~/.config/sweepgui/machines)")
        c.set_defaults(handler=func)
        return c

    c = cmd("list", _list, "show the machines of the file (or of Nix with --system)")
    c.add_argument("--system", action="store_true", help="the machines the local Nix uses")
    c.add_argument("--json", action="store_true")
    c = cmd("check", _check, "check each machine: connection, host key, identity file, system, "
            "and whether Nix will use it")
    c.add_argument("names", nargs="*", help="machines to check (default: all)")
    c.add_argument("--for-system", default=None, help="system the sweep needs (default: local)")
    c.add_argument("--timeout", type=float, default=10.0,
                   help="seconds per machine (default 10, at most 300)")
    c.add_argument("--json", action="store_true")
    c = cmd("add", _add, "add a machine (or replace the one with the same URI)")
    c.add_argument("uri", help="ssh://[USER@]HOST[:PORT] or ssh-ng://..., or a whole machines line")
    c.add_argument("--systems", help="comma list, e.g. x86_64-linux (default: the local system)")
    c.add_argument("--key", help="SSH identity file (absolute path, mode 600, no passphrase)")
    c.add_argument("--jobs", type=int, help="builds it may run at once")
    c.add_argument("--speed", type=float, help="speed factor (relative preference; whole "
                   "numbers before Nix 2.20)")
    c.add_argument("--features", help="supported features, comma list")
    c.add_argument("--mandatory", help="mandatory features, comma list")
    c.add_argument("--host-key", help="base64 public host key (column 8)")
    c.add_argument("--fetch-host-key", action="store_true",
                   help="fetch the host key now with ssh-keyscan and pin it")
    c.add_argument("--replace", action="store_true",
                   help="with --fetch-host-key: replace a different key pinned before (compare "
                   "the fingerprints first)")
    c = cmd("remove", _remove, "remove a machine")
    c.add_argument("name", help="URI, user@host or host")
    c = cmd("fetch-host-key", _fetch, "fetch a machine's host key and pin it in column 8")
    c.add_argument("name", help="URI, user@host or host")
    c.add_argument("--replace", action="store_true",
                   help="replace a different key pinned before (only after comparing the "
                   "fingerprints with the builder's own)")
    c = cmd("export-nixos", _export_nixos, "print the machines as NixOS nix.buildMachines")
    c.add_argument("names", nargs="*")
    c = cmd("ssh-config", _ssh_config, "print ssh config blocks giving builders their ports "
            "(for Nix before 2.31 used without sweepgui: paste into ~/.ssh/config)")
    c = cmd("import", _import, "copy the machines the local Nix uses into the file")
    c = cmd("write-system", _write_system, "write the file's machines to /etc/nix/machines")
    c.add_argument("--target", type=Path, default=None, help=argparse.SUPPRESS)
    c = cmd("install-system", _install_system,
            "add the file's machines to /etc/nix/machines (the nix-daemon's builders, for every "
            "user): shows the change, then writes it with sudo or pkexec")
    c.add_argument("names", nargs="*", help="machines to install (default: all)")
    c.add_argument("--dry-run", action="store_true", help="only show the change and the commands")
    c.add_argument("--target", type=Path, default=None, help=argparse.SUPPRESS)


def _path(args: argparse.Namespace) -> Path:
    from ..nix.machines import default_machines_path
    return (args.file or default_machines_path()).expanduser()


def _load(args: argparse.Namespace, missing_ok: bool = False) -> MachinesFile:
    from ..nix.machines import MachinesError, MachinesFile
    path = _path(args)
    if missing_ok and not path.exists():
        return MachinesFile(source=str(path))
    try:
        mf = MachinesFile.load(path)
    except MachinesError as exc:
        if not path.exists():
            raise UserError(f"no machines file at {path}: add one with `sweepgui machines add "
                            "ssh://HOST`, or copy Nix's with `sweepgui machines import`") from None
        raise UserError(str(exc)) from None
    for line, msg in mf.warnings:
        print(f"{path}:{line}: warning: {msg}", file=sys.stderr)
    return mf


def _all(mf: MachinesFile) -> list[Machine]:
    """The machines of ``mf`` and of the files it includes (a bad include: exit 2)."""
    from ..nix.machines import MachinesError
    try:
        return mf.all_machines()
    except MachinesError as exc:
        raise UserError(str(exc)) from None


def _save(mf: MachinesFile, path: Path) -> None:
    """Save ``mf`` (only values the local Nix reads: what was changed is said on stderr)."""
    from ..nix.machines import MachinesError
    try:
        mf.save(path)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc.strerror or exc}") from None
    except MachinesError as exc:
        raise UserError(str(exc)) from None
    for note in mf.adjusted:
        print(f"sweepgui: warning: {note}", file=sys.stderr)


def _pick(mf: MachinesFile, names: list[str]) -> list[Machine]:
    machines = _all(mf) if not names else []
    for n in names:
        m = mf.find(n)
        if m is None:
            raise UserError(f"no machine '{n}' in {mf.source} (`sweepgui machines list` shows them)")
        machines.append(m)
    return machines


def _row(m: Machine) -> dict[str, object]:
    return {"uri": m.uri, "systems": m.systems, "ssh_key": m.ssh_key, "max_jobs": m.max_jobs,
            "speed_factor": m.speed_factor, "supported_features": m.supported_features,
            "mandatory_features": m.mandatory_features, "host_key": m.host_key}


def _list(args: argparse.Namespace) -> int:
    if args.system:
        from ..nix.machines import MachinesError, system_machines
        try:
            machines, where = system_machines(), "the local Nix"
        except MachinesError as exc:
            raise UserError(f"Nix's machines cannot be read: {exc}") from None
    else:
        mf = _load(args, missing_ok=True)
        machines, where = _all(mf), str(_path(args))
    if args.json:
        print(json.dumps([_row(m) for m in machines], indent=2))
        return 0
    if not machines:
        print(f"no machines in {where}")
        return 0
    print(f"{len(machines)} machine(s) in {where}:")
    for m in machines:
        pinned = "host key pinned" if m.host_key else "host key NOT pinned"
        print(f"  {m.uri}  systems={','.join(m.systems) or 'local'}  jobs={m.max_jobs or 1}  "
              f"speed={m.speed_factor or 1}  key={m.ssh_key or 'default'}  {pinned}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from ..nix.machines import MAX_TIMEOUT, check_machines
    if not 0 < args.timeout <= MAX_TIMEOUT:  # also nan and inf
        raise UserError(f"--timeout {args.timeout:g}: give the seconds to wait per machine, "
                        f"more than 0 and at most {MAX_TIMEOUT:g} (e.g. 10)")
    mf = _load(args)
    machines = _pick(mf, args.names)
    if not machines:
        raise UserError(f"no machines in {mf.source} to check")
    from ..nix.setup import detect_setup
    setup = detect_setup()
    ignored = setup.ignored_machines_message(_path(args)) if not setup.own_builders_used else ""
    if ignored and not args.json:
        print(f"WARNING {ignored}\n")
    results = check_machines(machines, system=args.for_system, timeout=args.timeout,
                             via_daemon=setup.daemon)
    bad = 0
    out = []
    for m, checks in results:
        errors = [c for c in checks if c.level == "error"]
        bad += bool(errors)
        out.append({"machine": m.uri, "ok": not errors,
                    "checks": [dict(name=c.name, ok=c.ok, level=c.level, message=c.message)
                               for c in checks]})
        if not args.json:
            print(f"{'OK  ' if not errors else 'FAIL'} {m.uri}")
            for c in checks:
                mark = {"ok": "  ok     ", "warning": "  warning", "error": "  ERROR  "}[c.level]
                print(f"{mark} {c.name}: {c.message}")
    if args.json:
        for row in out:
            row["used_by_nix"] = not ignored
        print(json.dumps(out, indent=2))
    elif bad:
        print(f"{bad} of {len(results)} machine(s) cannot build: fix the errors above", file=sys.stderr)
    if ignored:
        print(f"sweepgui: {ignored}", file=sys.stderr)
    return 1 if bad or ignored else 0


def _add(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from ..nix.machines import (
        UINT_MAX,
        Machine,
        MachinesError,
        check_column_text,
        check_host_key,
        fetch_host_key,
        fingerprint,
        parse_entry,
        parse_uri,
        speed_ok,
    )
    path = _path(args)
    mf = _load(args, missing_ok=True)
    try:
        if len(args.uri.split()) > 1:
            m = parse_entry(args.uri, "<command line>")
        else:
            m = Machine(**parse_uri(args.uri, "<command line>"))
        for attr, val, opt in (("systems", args.systems, "--systems"),
                               ("supported_features", args.features, "--features"),
                               ("mandatory_features", args.mandatory, "--mandatory")):
            if val:  # the rules of the file's columns (no spaces: they would split it)
                setattr(m, attr, _names(val, opt, attr))
        if args.key:
            # one column of the file: no blanks, ';' or '#' (Nix reads no quoting)
            m.ssh_key = check_column_text(str(Path(args.key).expanduser().absolute()), 2, "--key")
        if args.jobs is not None:
            if not 0 <= args.jobs <= UINT_MAX:
                raise UserError(f"--jobs {args.jobs}: give the number of builds the machine may "
                                f"run at once, from 0 to {UINT_MAX}")
            m.max_jobs = args.jobs
        if args.speed is not None:
            if not speed_ok(args.speed):
                raise UserError(f"--speed {args.speed:g}: give a number from 0 to {UINT_MAX} "
                                "(how strongly Nix prefers this machine, e.g. 2)")
            m.speed_factor = int(args.speed) if float(args.speed).is_integer() else args.speed
        if args.host_key:
            m.host_key = check_host_key(args.host_key, "--host-key")
        m.validate("<command line>")
    except MachinesError as exc:
        raise UserError(str(exc)) from None
    if args.fetch_host_key:
        listed = mf.find(m.name)
        pinned = m.host_key or (listed.host_key if listed else None)
        try:
            key = fetch_host_key(replace(m, host_key=pinned))
        except ConnectionError as exc:
            raise UserError(str(exc)) from None
        if pinned and key != pinned and not args.replace:
            print(_changed_key(m, pinned, key, args), file=sys.stderr)
            return 1
        m.host_key = key
        print(f"pinned host key of {m.host}: {fingerprint(m.host_key)}")
    mf.add(m)
    _save(mf, path)
    print(f"{m.uri} saved in {path}")
    return 0


def _names(text: str, option: str, field: str) -> list[str]:
    """The names of a comma list option (--systems, --features, --mandatory) for the Machine
    ``field``: the grammar of the file's column, and at least one name."""
    from ..nix.machines import MachinesError, parse_field
    try:
        names: list[str] = parse_field(field, text)
    except MachinesError as exc:
        raise UserError(f"{option} {text!r}: {exc.msg}") from None
    if not names:
        raise UserError(f"{option} {text!r}: give names separated by commas, without spaces "
                        "(e.g. x86_64-linux,aarch64-linux)")
    return names


def _remove(args: argparse.Namespace) -> int:
    from ..nix.machines import MachinesError
    mf = _load(args)
    try:
        m = mf.remove(args.name)
    except MachinesError as exc:
        raise UserError(str(exc)) from None
    _save(mf, _path(args))
    print(f"removed {m.uri} from {_path(args)}")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from ..nix.machines import fetch_host_key, fingerprint, host_key_file
    mf = _load(args)
    m = _pick(mf, [args.name])[0]
    try:
        key = fetch_host_key(m)  # the pinned key when the host still presents it
    except ConnectionError as exc:
        raise UserError(str(exc)) from None
    old = m.host_key
    if old == key:
        print(f"the pinned host key of {m.uri} is unchanged: {fingerprint(key)}")
        return 0
    if old and not args.replace:
        # exactly what pinning is for: another machine (or a man in the middle) answering
        print(_changed_key(m, old, key, args), file=sys.stderr)
        return 1
    m.host_key = key
    _save(mf, _path(args))
    what = "replaced the pinned" if old else "pinned the"
    print(f"{what} host key of {m.uri}: {fingerprint(key)}\n"
          f"compare it with `ssh-keygen -lf {host_key_file(key)}` on the builder")
    return 0


def _changed_key(m: Machine, pinned: str, presented: str, args: argparse.Namespace) -> str:
    """The message when a builder presents another key than the pinned one (nothing changed)."""
    from ..nix.machines import fingerprint, host_key_file
    if args.machines_command == "fetch-host-key":
        file = f" --file {shlex.quote(str(args.file))}" if args.file else ""
        confirm = f"`sweepgui machines fetch-host-key {shlex.quote(m.name)}{file} --replace`"
    else:
        confirm = "the same `sweepgui machines add` command with --replace"
    return (f"the host key of {m.name} differs from the key pinned in column 8; nothing was "
            f"changed.\n"
            f"  pinned:    {fingerprint(pinned)}\n"
            f"  presented: {fingerprint(presented)}\n"
            f"If the builder was reinstalled, run `ssh-keygen -lf {host_key_file(presented)}` on "
            f"the builder itself (at its console, not over this connection); if it prints the "
            f"presented fingerprint, confirm with {confirm}. Otherwise keep the pinned key: "
            f"the machine answering may not be your builder.")


def _export_nixos(args: argparse.Namespace) -> int:
    from ..nix.machines import nixos_snippet
    mf = _load(args)
    print(nixos_snippet(_pick(mf, args.names)), end="")
    return 0


def _ssh_config(args: argparse.Namespace) -> int:
    from ..nix.machines import ssh_config_text
    text = ssh_config_text(_all(_load(args)), include_defaults=False)
    print(text or "# no ssh configuration needed: no builder has a port, or Nix reads ports itself",
          end="" if text else "\n")
    return 0


def _import(args: argparse.Namespace) -> int:
    from ..nix.machines import MachinesError, system_machines
    try:
        machines = system_machines()
    except MachinesError as exc:
        raise UserError(f"Nix's machines cannot be read: {exc}") from None
    if not machines:
        print("the local Nix has no remote builders (nothing to import)")
        return 0
    mf = _load(args, missing_ok=True)
    for m in machines:
        mf.add(m)
    _save(mf, _path(args))
    print(f"imported {len(machines)} machine(s) into {_path(args)}")
    return 0


def _write_system(args: argparse.Namespace) -> int:
    from ..nix.machines import SYSTEM_MACHINES, MachinesError, write_system_machines
    mf = _load(args)
    try:
        machines = _all(mf)
        target = write_system_machines(machines, args.target or SYSTEM_MACHINES)
    except (MachinesError, PermissionError) as exc:
        raise UserError(str(exc)) from None
    print(f"wrote {len(machines)} machine(s) to {target}")
    return 0


def _install_system(args: argparse.Namespace) -> int:
    from ..nix.machines import (
        SYSTEM_MACHINES,
        MachinesError,
        escalation_tool,
        install_system,
        nixos_snippet,
        system_install,
    )
    mf = _load(args)
    machines = _pick(mf, args.names)
    if not machines:
        raise UserError(f"no machines in {mf.source} to install")
    if Path("/etc/NIXOS").exists() and args.target is None:
        print("NixOS manages /etc/nix/machines: add this to configuration.nix, then run "
              "`sudo nixos-rebuild switch`:\n")
        print(nixos_snippet(machines), end="")
        return 0
    try:
        change = system_install(machines, args.target or SYSTEM_MACHINES)
    except MachinesError as exc:
        raise UserError(str(exc)) from None
    if not change.changed:
        print(f"{change.target} already lists these machines: nothing to change")
        return 0
    print(change.diff(), end="")
    if args.dry_run:
        print("\nas root, this runs:")
        for c in change.commands(Path("NEW-FILE")):
            print("  " + " ".join(c))
        return 0
    via = escalation_tool()
    if via:
        print(f"writing {change.target} with {Path(via[0]).name} (it may ask for your password)")
    try:
        print(install_system(change, via))
    except PermissionError as exc:
        raise UserError(str(exc)) from None
    print("the nix-daemon uses them from its next build, for every user "
          "(`sweepgui doctor` shows them)")
    return 0
