#!/usr/bin/env bash
# Writes services/<name>/Dockerfile from deploy/docker/service.Dockerfile.in (or into $1/<name>/Dockerfile,
# for the drift check). One image per service, all built the same way.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$root/services}
for dir in "$root"/services/*/; do
  service=$(basename "$dir")
  module=${service//-/_}
  mkdir -p "$out/$service"
  sed "s/{{SERVICE}}/$service/g; s/{{MODULE}}/$module/g" "$root/deploy/docker/service.Dockerfile.in" \
    > "$out/$service/Dockerfile"
done
