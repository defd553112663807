#!/usr/bin/env bash
# In-browser benchmark (issue #7): this runtime (WebGPU, CPU fallback) against
# onnxruntime-web ('webgpu', 'wasm') on the same image, weights and browser.
# Builds the web app (./build.sh web), installs playwright-core and
# onnxruntime-web (npm ci, pinned in package-lock.json), makes the weights (a
# pack from $PACK, or a random-weight one), exports the UNet to ONNX with
# PyTorch (tools/pyref/export_onnx.py: needs /usr/bin/python3 with torch), serves
# everything on 127.0.0.1 and prints a markdown table. Nothing is fetched from
# outside that origin.
#
#   tools/bench/web/run.sh                          Tiny, 64x64 and 128x128, 3 timed runs
#   MODEL=small SIZES=64 RUNS=5 tools/bench/web/run.sh
#   IMPLS=diffuir-gpu,ort-wasm tools/bench/web/run.sh --budget-s 60
#   PROFILE=1 IMPLS=diffuir-gpu tools/bench/web/run.sh   + per-kernel table of a WebGPU pass
#
# Environment: MODEL (tiny|small), SIZES (comma-separated square sizes, multiples
# of 16 not required), RUNS, IMPLS (see bench.mjs), PACK (a .duir or .pt of that
# size instead of random weights), PROFILE=1 (diffuir-gpu: after the timed
# runs, the worker's per-kernel profile of one UNet pass; bench.mjs --profile), SKIP_BUILD=1 (reuse the built app), SITE (the
# built app to serve, default dist/site; implies SKIP_BUILD=1). Extra
# arguments go to bench.mjs. JSON results: artifacts/bench-web/.
set -euo pipefail
cd "$(dirname "$0")/../../.."
D=tools/bench/web
W=$D/.work
MODEL=${MODEL:-tiny}
SITE=${SITE:-}
[[ -n $SITE ]] && SKIP_BUILD=1
SITE=${SITE:-dist/site}
mkdir -p "$W/models" artifacts/bench-web

[[ -x ${CHROMIUM:-/usr/bin/chromium} ]] || { echo "run.sh: needs Debian's chromium: apt-get install -y chromium" >&2; exit 1; }
/usr/bin/python3 -c 'import torch' 2>/dev/null || { echo "run.sh: needs /usr/bin/python3 with torch (apt-get install -y python3-torch) for the ONNX export" >&2; exit 1; }
if [[ ! -f $D/node_modules/onnxruntime-web/package.json || ! -f $D/node_modules/playwright-core/package.json ]]; then
  echo "== npm ci ($D)"
  (cd "$D" && npm ci --no-audit --no-fund --loglevel=error)
fi

if [[ ${SKIP_BUILD:-} != 1 ]]; then
  echo "== ./build.sh web"
  ./build.sh web | grep -E '^(web app|WARNING)' || true
fi
[[ -f $SITE/build-info.js ]] || { echo "run.sh: $SITE/build-info.js is missing: the web build failed" >&2; exit 1; }

echo "== weights ($MODEL) and ONNX export"
pack=$W/models/$MODEL.duir
if [[ -n ${PACK:-} ]]; then
  case $PACK in
    *.duir) cp "$PACK" "$pack" ;;
    *) go run ./tools/diffuir convert "$PACK" -o "$pack" ;;
  esac
elif [[ ! -f $pack ]]; then
  go run ./tools/mkpack -size "$MODEL" -o "$pack"
fi
for v in "" -pad8; do
  onnx=$W/models/$MODEL$v.onnx
  if [[ ! -f $onnx || $onnx -ot $pack || $onnx -ot tools/pyref/export_onnx.py ]]; then
    /usr/bin/python3 tools/pyref/export_onnx.py "$pack" -o "$onnx" ${v:+--pad8}
  fi
done

echo "== benchmark"
args=(--site "$SITE" --models "$W/models" --model "$MODEL" --sizes "${SIZES:-64,128}" --runs "${RUNS:-3}"
  --json "artifacts/bench-web/$MODEL-$(date -u +%Y%m%dT%H%M%SZ).json")
[[ -n ${IMPLS:-} ]] && args+=(--impls "$IMPLS")
[[ ${PROFILE:-} == 1 ]] && args+=(--profile)
node "$D/bench.mjs" "${args[@]}" "$@"
