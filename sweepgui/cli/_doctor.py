"""``sweepgui doctor``: check the whole Nix set-up, each item with a plain-words fix.

Exit codes: 0 nothing stops a run, 1 an item is an error, 2 bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

_MARK = {"ok": "  ok     ", "warning": "  warning", "error": "  ERROR  "}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = subparsers.add_parser(
        "doctor", help="check the Nix set-up: daemon or single-user, trust, builders, interpreter",
        description="Check what sweepgui needs from Nix here, each item with its fix: Nix and "
        "its version, the store (single-user, or a nix-daemon and whether it trusts you), the "
        "builders Nix will really use, your machines file, the interpreter the build users "
        "run, free space. Connects to no builder (`sweepgui machines check` does).")
    d.add_argument("--machines", metavar="FILE", type=Path,
                   help="your machines file (default: ~/.config/sweepgui/machines)")
    d.add_argument("--json", action="store_true", help="one JSON object on stdout")
    d.set_defaults(handler=_doctor)


def _doctor(args: argparse.Namespace) -> int:
    from sweepgui.nix.doctor import run_doctor

    report = run_doctor(args.machines.expanduser() if args.machines else None)
    if args.json:
        print(json.dumps(report.to_json(), indent=1))
        return 0 if report.ok else 1
    s = report.setup
    head = s.summary()
    if s.usable:
        head += f" -- user {s.user}, {s.conf_file}"
    print(head)
    for c in report.checks:
        print(f"{_MARK.get(c.level, c.level)} {c.name}: {c.message}")
    errors = sum(c.level == "error" for c in report.checks)
    print("nothing stops a run" if not errors else f"{errors} problem(s) stop runs: fix the "
          "ERROR items above")
    return 0 if report.ok else 1
