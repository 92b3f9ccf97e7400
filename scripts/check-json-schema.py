#!/usr/bin/env python3
"""Validates JSON Lines on stdin against docs/wirewalk.schema.json (python3-jsonschema)."""
import json, sys, pathlib
import jsonschema

schema = json.loads((pathlib.Path(__file__).parent.parent / "docs/wirewalk.schema.json").read_text())
validator = jsonschema.Draft202012Validator(schema)
count = {}
for n, line in enumerate(sys.stdin, 1):
    obj = json.loads(line)
    errors = sorted(validator.iter_errors(obj), key=str)
    if errors:
        sys.exit(f"line {n} ({obj.get('type')}): {errors[0].message}")
    count[obj["type"]] = count.get(obj["type"], 0) + 1
if not count.get("summary"):
    sys.exit("no summary line")
print("schema ok:", ", ".join(f"{v} {k}" for k, v in sorted(count.items())))
