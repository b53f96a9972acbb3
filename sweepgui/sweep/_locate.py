"""Line numbers of keys in TOML text (tomllib reports none for valid files).

A small scanner that knows just enough TOML: table headers, bare / quoted / dotted keys,
and which lines are continuations of a value (multi-line arrays and strings), so that a
line inside a multi-line string that looks like ``x = 1`` is not taken for a key.
Keys are recorded as the dotted join of their parts (``"fluid.density"`` quoted and
``fluid.density`` dotted give the same entry), which is how sweep files treat them.
"""

from __future__ import annotations

import json
import re

_BARE = re.compile(r"[A-Za-z0-9_-]+")
_WS = " \t"


def toml_lines(text: str) -> list[str]:
    """Lines as TOML counts them: only LF (or CRLF) ends a line, not U+0085 or U+2028."""
    return [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]


def _skip_ws(s: str, i: int) -> int:
    while i < len(s) and s[i] in _WS:
        i += 1
    return i


def _basic_string_end(s: str, i: int) -> int:
    """Index just past the closing quote of a one-line basic string opening at s[i]."""
    j = i + 1
    while j < len(s):
        if s[j] == "\\":
            j += 2
            continue
        if s[j] == '"':
            return j + 1
        j += 1
    return len(s)


def _parse_key(s: str, i: int) -> tuple[list[str], int] | None:
    """The parts of a (dotted) key starting at s[i] and the index after it, or None."""
    parts: list[str] = []
    while True:
        i = _skip_ws(s, i)
        if i >= len(s):
            return None
        if s[i] == '"':
            end = _basic_string_end(s, i)
            raw = s[i:end]
            try:
                parts.append(json.loads(raw))
            except ValueError:  # TOML escapes JSON lacks (\e, \U...): keep the raw text
                parts.append(raw[1:-1])
            i = end
        elif s[i] == "'":
            end = s.find("'", i + 1)
            if end < 0:
                return None
            parts.append(s[i + 1:end])
            i = end + 1
        else:
            m = _BARE.match(s, i)
            if not m:
                return None
            parts.append(m.group())
            i = m.end()
        i = _skip_ws(s, i)
        if i < len(s) and s[i] == ".":
            i += 1
            continue
        return parts, i


class KeyLocator:
    """Maps dotted key paths (table + key) of a TOML text to their 1-based line numbers."""

    def __init__(self, text: str):
        self.lines: dict[str, int] = {}
        self._scan(text)

    def _record(self, parts: list[str], line: int) -> None:
        self.lines.setdefault(".".join(parts), line)

    def _scan(self, text: str) -> None:
        table: list[str] = []
        depth = 0            # open [ and { of a value that continues on the next line
        in_ml: str | None = None
        for number, s in enumerate(toml_lines(text), start=1):
            i = 0
            if in_ml is None and depth == 0:
                i = _skip_ws(s, 0)
                if i >= len(s) or s[i] == "#":
                    continue
                if s[i] == "[":
                    i += 2 if s.startswith("[[", i) else 1
                    parsed = _parse_key(s, i)
                    if parsed:
                        table = parsed[0]
                        self._record(table, number)
                    continue
                parsed = _parse_key(s, i)
                if not parsed:
                    continue
                parts, i = parsed
                self._record(table + parts, number)
                i = _skip_ws(s, i)
                if i < len(s) and s[i] == "=":
                    i += 1
            depth, in_ml = self._scan_value(s, i, depth, in_ml)

    @staticmethod
    def _scan_value(s: str, i: int, depth: int, in_ml: str | None) -> tuple[int, str | None]:
        while i < len(s):
            if in_ml is not None:
                end = s.find(in_ml, i)
                while end > 0 and in_ml == '"""' and s[end - 1] == "\\":
                    end = s.find(in_ml, end + 1)
                if end < 0:
                    return depth, in_ml
                i = end + 3
                while i < len(s) and s[i] == in_ml[0]:  # up to two quotes may close it
                    i += 1
                in_ml = None
                continue
            c = s[i]
            if c == "#":
                break
            if s.startswith('"""', i) or s.startswith("'''", i):
                in_ml = s[i:i + 3]
                i += 3
            elif c == '"':
                i = _basic_string_end(s, i)
            elif c == "'":
                end = s.find("'", i + 1)
                i = len(s) if end < 0 else end + 1
            else:
                if c in "[{":
                    depth += 1
                elif c in "]}":
                    depth = max(0, depth - 1)
                i += 1
        return depth, in_ml

    def line(self, *parts: str) -> int | None:
        """Line of the key ``parts`` joined by dots, else of its nearest recorded parent."""
        path = ".".join(p for p in parts if p)
        children = [n for k, n in self.lines.items() if k.startswith(path + ".")]
        if path not in self.lines and children:
            return min(children)  # e.g. a top-level pipe.length names the table "pipe"
        while path:
            if path in self.lines:
                return self.lines[path]
            if "." not in path:
                return None
            path = path.rsplit(".", 1)[0]
        return None

    def exact(self, *parts: str) -> int | None:
        return self.lines.get(".".join(p for p in parts if p))
