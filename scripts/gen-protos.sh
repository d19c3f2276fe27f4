#!/usr/bin/env bash
# Generates the Python code for protos/ into libs/protos/src (or into $1, for the drift check).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/libs/protos/src}
py=$root/.venv/bin/python
cd "$root"
mkdir -p "$out"
# Only the generated tree under school/ is ours to replace.
rm -rf "$out/school"
mapfile -t files < <(find protos -name '*.proto' | sort)
"$py" -m grpc_tools.protoc -I protos \
  --python_out="$out" --mypy_out=quiet:"$out" \
  --grpc_python_out="$out" --mypy_grpc_out=quiet:"$out" \
  --plugin=protoc-gen-mypy="$root/.venv/bin/protoc-gen-mypy" \
  --plugin=protoc-gen-mypy_grpc="$root/.venv/bin/protoc-gen-mypy_grpc" \
  "${files[@]}"
# Regular packages, so that mypy and the wheel see every directory.
find "$out/school" -type d -exec sh -c 'for d; do [ -f "$d/__init__.py" ] || : > "$d/__init__.py"; done' _ {} +
: > "$out/school/py.typed"
