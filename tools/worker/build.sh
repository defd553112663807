#!/usr/bin/env bash
# Builds the Cloudflare Worker into tools/worker/build/ (worker.mjs,
# runtime.mjs, wasm_exec.js, app.wasm) and prints its size against the
# Workers limits (3 MB free, 10 MB paid; the gzip size counts).
#   tools/worker/build.sh                    files from Workers static assets
#   TAGS=embedsite tools/worker/build.sh     files embedded from site/server/embedded/dist
#   OUT=/tmp/w tools/worker/build.sh         another output folder (it is wiped first)
# Needs only Go; wrangler.toml runs it as its build command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/build}
cd "$here/../.."
# Generates the JS glue of syumai/workers (it removes and recreates $out).
go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o "$out"
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" ${TAGS:+-tags "$TAGS"} -o "$out/app.wasm" ./tools/worker
raw=$(cat "$out"/worker.mjs "$out"/runtime.mjs "$out"/wasm_exec.js "$out"/app.wasm | wc -c)
gz=$(cat "$out"/worker.mjs "$out"/runtime.mjs "$out"/wasm_exec.js "$out"/app.wasm | gzip -9 | wc -c)
wasm=$(wc -c <"$out/app.wasm")
awk -v raw="$raw" -v gz="$gz" -v wasm="$wasm" 'BEGIN {
  printf "worker: app.wasm %.2f MB; bundle %.2f MB raw, %.2f MB gzip (limits: 3 MB free, 10 MB paid, gzip)\n", wasm/1e6, raw/1e6, gz/1e6
  if (gz > 10e6) { print "worker: over the paid limit"; exit 1 }
  if (gz > 3e6) print "worker: over the free limit" }'
