#!/usr/bin/env python3
"""Validates JSON documents against a JSON Schema (draft 2020-12) with the jsonschema package.

Usage: validate_json_schema.py SCHEMA DOCUMENT...
Prints a JSON list with, per document, the list of validation errors (empty when valid).
"""
import json
import sys

import jsonschema


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema)
    results = []
    for path in sys.argv[2:]:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
        results.append([f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(document)])
    print(json.dumps(results))


if __name__ == "__main__":
    main()
