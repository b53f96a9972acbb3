"""JSON Schema of the parameters: ``python -m sweepgui.params.schema [--write]``.

The exported copy lives in ``resources/parameters.schema.json``; a test keeps it current.
"""

from __future__ import annotations

import json
import sys

from ..resources import resources_dir
from ._models import Parameters

SCHEMA_FILE = "parameters.schema.json"


def parameters_schema_text() -> str:
    schema = Parameters.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://sweepgui.example/parameters.schema.json"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main(argv: list[str]) -> int:
    text = parameters_schema_text()
    if "--write" in argv:
        from ..atomic import atomic_write

        target = resources_dir() / SCHEMA_FILE
        atomic_write(target, text)
        print(f"wrote {target}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
