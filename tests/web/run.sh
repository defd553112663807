#!/usr/bin/env bash
# Browser tests of the web app. Installs what is missing (Debian's chromium,
# playwright-core from package-lock.json), builds the app into
# tests/web/.work/dist (never dist/, which stays the app with its real model)
# with a random-weight Tiny pack as the bundled default, makes the CLI's
# reference output, serves that site on 127.0.0.1 and runs web.test.mjs. Screenshots and downloads go
# to artifacts/web/. Ends with 'N passed, M failed'; exits non-zero on failure.
#
#   tests/web/run.sh              all tests
#   ONLY=offline tests/web/run.sh  the tests whose name contains "offline"
set -euo pipefail
cd "$(dirname "$0")/../.."
W=tests/web/.work
mkdir -p "$W" artifacts/web

if [[ ! -x ${CHROMIUM:-/usr/bin/chromium} ]]; then
  echo "== installing chromium (apt)"
  if [[ $(id -u) != 0 ]]; then echo "run.sh: chromium is missing; install it: sudo apt-get install -y chromium" >&2; exit 1; fi
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [[ ! -f tests/web/node_modules/playwright-core/package.json ]]; then
  echo "== installing playwright-core (npm ci)"
  (cd tests/web && npm ci --no-audit --no-fund --loglevel=error)
fi

echo "== test model, build"
go run ./tools/mkpack -o "$W/models/tiny-random.duir"
D=$W/dist
rm -rf "$D"
DIFFUIR_DIST="$D" DIFFUIR_MODELS_DIR="$W/models" ./build.sh | grep -E '^(wasm|build|web app|WARNING)' || true
[[ -f $D/site/build-info.js ]] || { echo "run.sh: the build failed" >&2; exit 1; }
go build -o "$W/serve" ./tests/web/serve
go build -o "$W/pngdiff" ./tests/web/pngdiff
go build -o "$W/samples" ./tools/samples

echo "== reference output from the CLI"
fixture=runtime/parity/testdata/input_45x37.png
"$D/diffuir" restore "$fixture" -o "$W/ref.png" --model "$W/models/tiny-random.duir" \
  --steps 3 --seed 7 --noise-scale 0 --equalize=off --tile 0 --backend cpu
"$D/diffuir" restore "$fixture" -o "$W/ref-pt.png" --model runtime/parity/testdata/tiny_trainer.pt.gz \
  --steps 3 --seed 7 --noise-scale 0 --equalize=off --tile 0 --backend cpu

"$W/serve" -dir "$D/site" -addr 127.0.0.1:0 >"$W/serve.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 50); do grep -q '^serving ' "$W/serve.log" && break; sleep 0.1; done
url=$(sed -n 's/^serving //p' "$W/serve.log")
[[ -n $url ]] || { echo "run.sh: the server did not start:" >&2; cat "$W/serve.log" >&2; exit 1; }
echo "== browser tests against $url"

BASE_URL=$url FIXTURE=$PWD/$fixture REF_PNG=$PWD/$W/ref.png REF_PT_PNG=$PWD/$W/ref-pt.png PNGDIFF=$PWD/$W/pngdiff ARTIFACTS=$PWD/artifacts/web \
  SITE_DIR=$PWD/$D/site SAMPLES_TOOL=$PWD/$W/samples MODEL_PACK=$PWD/models/diffuir-tiny.duir node tests/web/web.test.mjs
