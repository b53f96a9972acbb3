"""Headless commands sharing the engine with the GUI.

Each command lives in its own module exposing ``register(subparsers)``; the module's
handler returns the process exit code: 0 all done, 1 some points failed, 2 bad input.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# module name -> the subcommands it registers (modules are imported lazily, so that
# `sweepgui plan` does not pay for xarray and `sweepgui machines` not for the engine)
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "_run": ("run", "plan"),
    "_machines": ("machines",),
    "_results": ("export", "sensitivity"),
    "_calibrate": ("calibrate",),
    "_doctor": ("doctor",),
}
COMMANDS = tuple(c for cmds in COMMAND_MODULES.values() for c in cmds)


class UserError(Exception):
    """An error the user can fix: printed as one message, exit code 2, no traceback."""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sweepgui",
        description="Parameter sweeps of a vibrating-tube model, each point a Nix build. "
        "Without a command, opens the desktop app.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod_name, cmds in COMMAND_MODULES.items():
        if only is not None and only not in cmds:
            continue
        importlib.import_module(f"{__name__}.{mod_name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(only=argv[0] if argv and argv[0] in COMMANDS else None)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    try:
        return int(args.handler(args) or 0)
    except UserError as exc:
        print(f"sweepgui: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sweepgui: interrupted", file=sys.stderr)
        return 130
