#!/usr/bin/env bash
# Builds everything this checkout can build into dist/ and prints the sizes.
#   ./build.sh          the CLI (dist/diffuir)
# The web app (wasm/, site/) joins this script with the web-app issue.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p dist
go build -trimpath -ldflags="-s -w" -o dist/diffuir ./tools/diffuir
ls -l dist | awk 'NR>1 {printf "%10d  %s\n", $5, $9}'
