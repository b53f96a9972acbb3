"""``python -m sweepgui`` / ``sweepgui``: a CLI subcommand, or the desktop app.

The first word decides: a command runs it; an option (``--run``, Qt's ``-style``) or an
existing file opens the app; anything else is an error (exit 2) naming the commands. A
mistyped command must not open the app on a file of that name (offscreen, it never returns).
"""

from __future__ import annotations

import difflib
import os
import sys


def _unknown_word(word: str, commands: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, commands, n=1, cutoff=0.6)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    if word.endswith(".toml") or os.sep in word:
        what = f"{word}: no such sweep file{hint}"
    else:
        what = f"'{word}' is not a command, nor a sweep file here{hint}"
    return (f"sweepgui: error: {what}\n"
            f"commands: {', '.join(commands)} (sweepgui COMMAND --help); "
            "or open the app: sweepgui [SWEEP.toml] [--run]")


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from .cli import COMMANDS

    if argv and (argv[0] in COMMANDS or argv[0] in ("-h", "--help")):
        from .cli import main as cli_main

        return cli_main(argv)
    if argv and not argv[0].startswith("-") and not os.path.exists(argv[0]):
        print(_unknown_word(argv[0], COMMANDS), file=sys.stderr)
        return 2
    from .ui.app import main as gui_main

    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
