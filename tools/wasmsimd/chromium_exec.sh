#!/usr/bin/env bash
# go test -exec runner that runs a GOOS=js GOARCH=wasm test binary (built with
# -tags simd128) in headless Chromium, with the diffuir_simd imports wired
# as the page wires them (site/wasmsimd.js): the kernels tested against
# runtime/ref in the browser that runs them. Needs Debian's chromium and
# playwright-core (tests/web/run.sh or tools/bench/web/run.sh installs it).
# WASMSIMD_LEVEL caps the kernels as in node_exec.sh. No file system in the
# page: tests that write files fail here.
#
#   GOOS=js GOARCH=wasm go test -tags simd128 -exec "$PWD/tools/wasmsimd/chromium_exec.sh" ./runtime/backend/cpu/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/exec_env.sh"
cp "$(env -u GOOS -u GOARCH go env GOROOT)/lib/wasm/wasm_exec.js" "$work/"
pw=""
for d in "$root/tests/web" "$root/tools/bench/web"; do
  [[ -f $d/node_modules/playwright-core/package.json ]] && pw=$d && break
done
[[ -n $pw ]] || { echo "chromium_exec.sh: no playwright-core (run tests/web/run.sh once, or npm ci in tests/web)" >&2; exit 1; }
WASMSIMD_WORK=$work WASMSIMD_PW=$pw node "$here/chromium_exec.mjs" "$@"
