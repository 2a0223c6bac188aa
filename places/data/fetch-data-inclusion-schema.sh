#!/bin/sh
# Re-create the data.inclusion JSON Schemas (v0: structures and services) from the
# data-inclusion-schema package on PyPI, as its maintainers compile theirs: each model's
# JSON Schema (pydantic), indented by 2, keys sorted, UTF-8.
# 1.0.6 is the last release that ships v0, the version with the fee `pass-numerique` and the
# national label `aptic` (v1 has neither). Usage: sh places/data/fetch-data-inclusion-schema.sh
set -eu
DATA="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
VERSION=1.0.6

python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet "data-inclusion-schema==$VERSION"
"$WORK/venv/bin/python" - "$DATA" <<'PYTHON'
import json
import sys
from pathlib import Path

from data_inclusion.schema import v0

for model, name in ((v0.Structure, "structure"), (v0.Service, "service")):
    path = Path(sys.argv[1]) / f"data-inclusion_v0_{name}.json"
    text = json.dumps(model.model_json_schema(), indent=2, ensure_ascii=False, sort_keys=True)
    path.write_text(text + "\n", encoding="utf-8")
PYTHON
