#!/usr/bin/env bash
# go test -exec runner for GOOS=js GOARCH=wasm builds with -tags simd128: Go's
# own Node runner (go_js_wasm_exec) plus the diffuir_simd imports, wired as
# the page wires them (site/wasmsimd.js, with the kernels this checkout's
# tools/wasmsimd generates). WASMSIMD_LEVEL caps the kernels (0 none,
# 1 SIMD128, 2 relaxed SIMD: Node 20 needs --experimental-wasm-relaxed-simd,
# which this passes).
#
#   GOOS=js GOARCH=wasm go test -tags simd128 -exec "$PWD/tools/wasmsimd/node_exec.sh" ./runtime/backend/cpu/
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/exec_env.sh"
flags=(--stack-size=8192)
[[ ${WASMSIMD_LEVEL:-2} -ge 2 ]] && flags+=(--experimental-wasm-relaxed-simd)
WASMSIMD_LOADER=$work/wasmsimd.js node "${flags[@]}" "$here/node_exec.cjs" "$@"
