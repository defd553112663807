#!/usr/bin/env bash
# Builds the Cloudflare Worker into tools/worker/build/: front.mjs (the
# entry: a static front that answers for built files without starting Go),
# manifest.mjs (the Go handler's answers for the built app, made natively
# from SITE), and the Go handler (worker.mjs, runtime.mjs, wasm_exec.js,
# app.wasm); prints its size against the Workers limits (3 MB free, 10 MB
# paid; the gzip size counts).
#   tools/worker/build.sh                    files from Workers static assets (SITE: dist/site, built by ./build.sh)
#   SITE=DIR tools/worker/build.sh           the manifest of another built app
#   TAGS=embedsite tools/worker/build.sh     files embedded from site/server/embedded/dist (no front: Go answers all)
#   OUT=/tmp/w tools/worker/build.sh         another output folder (it is wiped first)
# The manifest is made with the Worker variables FRAME_ANCESTORS, ISOLATION
# and PACKS_PREFIX from the environment (wrangler.toml's [vars] defaults when
# unset); a deployment whose variables differ sends every request to Go.
# Needs only Go; wrangler.toml runs it as its build command.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/build}
cd "$here/../.."
# Generates the JS glue of syumai/workers (it removes and recreates $out).
go run github.com/syumai/workers/cmd/workers-assets-gen -mode=go -o "$out"
GOOS=js GOARCH=wasm go build -trimpath -ldflags="-s -w" ${TAGS:+-tags "$TAGS"} -o "$out/app.wasm" ./tools/worker
cp "$here/front.mjs" "$out/front.mjs"
if [[ ${TAGS:-} == *embedsite* ]]; then
  # The files are inside the wasm: an empty manifest sends every request to Go.
  printf 'export default {"config":{"frameAncestors":null},"paths":{}};\n' >"$out/manifest.mjs"
else
  go run ./tools/worker -manifest -site "${SITE:-dist/site}" -o "$out/manifest.mjs"
fi
files=("$out"/front.mjs "$out"/manifest.mjs "$out"/worker.mjs "$out"/runtime.mjs "$out"/wasm_exec.js "$out"/app.wasm)
raw=$(cat "${files[@]}" | wc -c)
gz=$(cat "${files[@]}" | gzip -9 | wc -c)
wasm=$(wc -c <"$out/app.wasm")
awk -v raw="$raw" -v gz="$gz" -v wasm="$wasm" 'BEGIN {
  printf "worker: app.wasm %.2f MB; bundle %.2f MB raw, %.2f MB gzip (limits: 3 MB free, 10 MB paid, gzip)\n", wasm/1e6, raw/1e6, gz/1e6
  if (gz > 10e6) { print "worker: over the paid limit"; exit 1 }
  if (gz > 3e6) print "worker: over the free limit" }'
