#!/usr/bin/env bash
# Builds everything this checkout can build into dist/ and prints the sizes.
#   ./build.sh          the CLI (dist/diffuir) and the web app (dist/site/)
#   ./build.sh cli      the CLI only (on amd64 with the AVX2/AVX-512 kernels)
#   ./build.sh web      the web app only
#   ./build.sh test     the whole test suite: vet, Go tests (GPU tests on any
#                       Vulkan adapter, lavapipe included), the SIMD build of
#                       the CPU kernels, the Workers build in workerd
#                       (tools/worker) and the browser tests (tests/web, which
#                       build into tests/web/.work/dist: dist/ is left alone)
# The web app needs Go and Node (>= 18; no npm packages). Model packs
# (*.duir) in ./models are bundled, named by content hash; a pack named
# default.duir comes first in the page's menu. dist/ only ever holds the app
# with the project's own models; tests set DIFFUIR_DIST (another output
# folder) together with DIFFUIR_MODELS_DIR (other packs), which build.sh
# refuses to write into dist/.
# DIFFUIR_NOGPU=1 leaves the WebGPU backend out of the wasm; without it the
# build falls back to that, with a warning, if runtime/backend/gpu does not
# compile for js/wasm.
set -euo pipefail
cd "$(dirname "$0")"
what=${1:-all}
case $what in all | cli | web | test) ;; *) echo "usage: ./build.sh [all|cli|web|test]" >&2; exit 2 ;; esac
if [[ $what == test ]]; then
  export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp}
  echo "== go vet (native, and GOOS=js GOARCH=wasm for what the browser runs)"
  go vet ./...
  GOOS=js GOARCH=wasm go vet ./runtime/... ./shaders/... ./wasm/...
  echo "== go test"
  go test -count=1 ./...
  echo "== go test, SIMD build of the CPU kernels"
  GOEXPERIMENT=simd go test -count=1 ./runtime/backend/cpu/
  echo "== the Workers build in workerd"
  bash tools/worker/test.sh
  echo "== browser tests"
  exec tests/web/run.sh
fi
dist=${DIFFUIR_DIST:-dist}
if [[ -n ${DIFFUIR_MODELS_DIR:-} && $(realpath -m "$dist") == $(realpath -m dist) ]]; then
  echo "build.sh: DIFFUIR_MODELS_DIR builds go elsewhere than dist/ (set DIFFUIR_DIST): dist/ is the app with models/" >&2
  exit 2
fi
mkdir -p "$dist"

if [[ $what != web ]]; then
  # On amd64 the native CLI gets the AVX2/AVX-512 convolution kernels (Go's
  # experimental simd package; they check the CPU at run time and fall back
  # to the portable kernels). Everything else builds without the experiment.
  simd=""
  [[ $(go env GOARCH) == amd64 ]] && simd=simd
  GOEXPERIMENT=$simd go build -trimpath -ldflags="-s -w" -o "$dist/diffuir" ./tools/diffuir
  ls -l "$dist/diffuir" | awk '{printf "%10d  %s\n", $5, $9}'
fi
[[ $what == cli ]] && exit 0

command -v node >/dev/null || { echo "build.sh: the web app needs node (Node.js >= 18)" >&2; exit 1; }
out=$dist/site
rm -rf "$out"
mkdir -p "$out"
rev=$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain -- wasm runtime site 2>/dev/null | head -1) ]]; then rev="$rev-dirty"; fi
ldflags="-s -w -X main.version=$rev"
tags=""
if [[ ${DIFFUIR_NOGPU:-} == 1 ]]; then
  tags=nogpu
elif ! GOOS=js GOARCH=wasm go build -o /dev/null ./runtime/backend/gpu 2>/tmp/diffuir-gpu-build.$$; then
  echo "WARNING: runtime/backend/gpu does not build for js/wasm; the web app falls back to the CPU backend only:" >&2
  head -5 /tmp/diffuir-gpu-build.$$ >&2
  tags=nogpu
fi
rm -f /tmp/diffuir-gpu-build.$$
GOOS=js GOARCH=wasm go build -trimpath -tags="$tags" -ldflags="$ldflags" -o "$out/diffuir.wasm" ./wasm
cp "$(go env GOROOT)/lib/wasm/wasm_exec.js" "$out/wasm_exec.js"
cp site/index.html site/embed-example.html site/embed-example.js site/app.js site/client.js site/worker.js site/sw.js \
  site/style.css site/manifest.webmanifest "$out/"
mkdir -p "$out/widget"
cp site/widget/diffuir-restore.js site/widget/diffuir-restore.d.ts "$out/widget/"
go run ./site/build/genassets -o "$out"
node site/build/postbuild.mjs "$out" "${DIFFUIR_MODELS_DIR:-models}"
if [[ -n $tags ]]; then backends="cpu only"; else backends="gpu, cpu"; fi
echo "web app: $out (wasm backends: $backends)"
