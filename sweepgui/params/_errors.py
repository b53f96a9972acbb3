"""Turn pydantic's validation errors into messages that name the parameter path."""

from __future__ import annotations

from pydantic import ValidationError


class ParameterError(ValueError):
    """Bad parameters. ``problems`` lists (dotted path, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]], source: str | None = None):
        self.problems = problems
        self.source = source
        where = f"{source}: " if source else ""
        lines = [f"{where}{path or '(parameters)'}: {msg}" for path, msg in problems]
        super().__init__("\n".join(lines))


def format_validation_error(err: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """(dotted path, readable message) for each error, e.g. ('pipe.length', 'must be > 0')."""
    out: list[tuple[str, str]] = []
    for e in err.errors():
        loc = [str(p) for p in e.get("loc", ())]
        path = ".".join(([prefix] if prefix else []) + loc)
        msg = e.get("msg", "invalid")
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, "):]
        head, sep, rest = msg.partition(": ")
        if sep and "." in head and " " not in head:
            # a cross-group rule that names its field ("analysis.modes: ...")
            path = ".".join(([prefix] if prefix else []) + [head])
            msg = rest
        if e.get("type") == "extra_forbidden":
            msg = "unknown parameter"
        inp = e.get("input")
        if e.get("type") not in ("extra_forbidden", "missing") and not isinstance(inp, dict):
            msg = f"{msg} (got {inp!r})"
        out.append((path, msg))
    return out
