"""Checks the result of example.nix: ``verify.py LISTING`` (the result's output file).

LISTING names one output per line, in point order; each must hold the result of its own
point: a = 1, b = 2, c = 1, 2, 3 -> 121, 122, 123. Used by tests/nix/test_lib.py and by
the flake's checks.lib-example.
"""

import json
import sys

with open(sys.argv[1], encoding="utf-8") as fh:
    outputs = fh.read().splitlines()
if len(outputs) != 3 or len(set(outputs)) != 3:
    sys.exit(f"expected 3 distinct outputs, got {outputs!r}")
for c, path in zip((1, 2, 3), outputs):
    with open(path, encoding="utf-8") as fh:
        out = json.load(fh)
    params = json.loads(out["received"])
    params.pop("salt", None)
    if params != {"a": 1, "b": 2, "c": c}:
        sys.exit(f"{path}: wrong parameters {params!r} for c = {c}")
    if out["result"] != 100 + 20 + c:
        sys.exit(f"{path}: wrong result {out['result']!r} for c = {c}")
print(f"lib-example: {len(outputs)} points, each with its own result")
