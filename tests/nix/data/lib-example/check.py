"""One point of the lib.compute examples: ``check.py PARAMS.json OUT``.

Writes to OUT a JSON object with ``received`` (the exact text of PARAMS.json) and
``result`` = 100 a + 10 b + c when a, b and c are numbers (else null). Exits 2 unless it
gets exactly the two arguments. Only the standard library: any Python 3 runs it.
"""

import json
import sys

if len(sys.argv) != 3:
    print(f"check.py takes PARAMS.json OUT, got {sys.argv[1:]!r}", file=sys.stderr)
    sys.exit(2)
with open(sys.argv[1], encoding="utf-8") as fh:
    text = fh.read()
params = json.loads(text)


def number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


result = None
if isinstance(params, dict) and all(number(params.get(k)) for k in "abc"):
    result = 100 * params["a"] + 10 * params["b"] + params["c"]
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    json.dump({"received": text, "result": result}, fh)
