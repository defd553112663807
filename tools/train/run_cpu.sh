#!/usr/bin/env bash
# Launch (or resume) the CPU training run as a background job.
#
#   tools/train/run_cpu.sh [train.py options...]     # starts in the background, returns at once
#   tools/train/run_cpu.sh --fg [train.py options]   # the same in the foreground
#
# Steps, all idempotent: make the training shard once (tools/train/mkshard, from the photos that
# tools/data/fetch_photos.sh fetches and verifies), then train with tools/train/train.py for at most
# BUDGET seconds of training (the shard, if it has to be made, takes ~2-4 min more). Running the
# script again resumes from the newest checkpoint in RUN and trains for another BUDGET seconds.
# At the end (or on SIGTERM: `kill $(cat RUN/train.pid)`) the newest checkpoint is converted to
# RUN/diffuir-tiny.duir.
#
# Settings (environment variables, defaults in brackets):
#   RUN [data/runs/tiny-cpu]      run directory: ckpt-*.pt, loss.csv, train.log, train.pid, the pack
#   SHARD [data/shards/train96.shard]  PATCHES [12000]  SIZE [96]  MAX_SIDE [512]  SEED [1]   the shard (~660 MB)
#   CROP [64]  BATCH [10]  LR [2e-4]  THREADS [2]  BUDGET [7200]  SAVE_EVERY [200]
#   NICE [19]  niceness of the background job (the machine is shared: training takes what is left)
#   AMP [none] bf16: train.py --amp bf16 (CPU autocast; time it first with tools/train/bench_cpu.py)
# A new run starts from given weights with `--init PACK` among the options (ignored once RUN has a
# checkpoint, so the same command line resumes), e.g. --init models/diffuir-tiny.duir.
# A later, longer phase can train on bigger crops from the same shard: CROP=96 tools/train/run_cpu.sh
#
# Follow it:  tail -f data/runs/tiny-cpu/train.log      (loss.csv: step, loss, per-task loss, seconds)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"

RUN="${RUN:-$REPO/data/runs/tiny-cpu}"
SHARD="${SHARD:-$REPO/data/shards/train96.shard}"
PATCHES="${PATCHES:-12000}"
SIZE="${SIZE:-96}"
MAX_SIDE="${MAX_SIDE:-512}"
SEED="${SEED:-1}"
CROP="${CROP:-64}"
BATCH="${BATCH:-10}"
LR="${LR:-2e-4}"
THREADS="${THREADS:-2}"
BUDGET="${BUDGET:-7200}"
SAVE_EVERY="${SAVE_EVERY:-200}"
NICE="${NICE:-19}"
AMP="${AMP:-none}"
PY=/usr/bin/python3
mkdir -p "$RUN"

if [ "${1:-}" != "--fg" ]; then
	if [ -f "$RUN/train.pid" ] && kill -0 "$(cat "$RUN/train.pid")" 2>/dev/null; then
		echo "run_cpu: already running (pid $(cat "$RUN/train.pid")); stop it with: kill $(cat "$RUN/train.pid")" >&2
		exit 1
	fi
	nohup nice -n "$NICE" env RUN="$RUN" SHARD="$SHARD" PATCHES="$PATCHES" SIZE="$SIZE" MAX_SIDE="$MAX_SIDE" SEED="$SEED" CROP="$CROP" BATCH="$BATCH" \
		LR="$LR" THREADS="$THREADS" BUDGET="$BUDGET" SAVE_EVERY="$SAVE_EVERY" AMP="$AMP" \
		"$0" --fg "$@" >>"$RUN/train.log" 2>&1 </dev/null &
	echo $! >"$RUN/train.pid"
	echo "run_cpu: started in the background (pid $!), budget ${BUDGET}s of training"
	echo "  log:    tail -f $RUN/train.log"
	echo "  stop:   kill $! (saves a checkpoint and exports the pack)"
	echo "  resume: run this script again"
	exit 0
fi
shift
echo "=== run_cpu $(date -u +%FT%TZ): RUN=$RUN SHARD=$SHARD CROP=$CROP BATCH=$BATCH LR=$LR THREADS=$THREADS AMP=$AMP BUDGET=$BUDGET"

# photos are needed only to make the shard: a resume with an existing SHARD works from any checkout
if [ ! -f "$SHARD" ]; then
	"$REPO/tools/data/fetch_photos.sh"
	go run ./tools/train/mkshard --photos data/photos/train --out "$SHARD" --patches "$PATCHES" \
		--size "$SIZE" --max-side "$MAX_SIDE" --seed "$SEED" --workers "$THREADS"
fi

# train.py saves and exports on SIGTERM/SIGINT; pass the signal on to it.
"$PY" tools/train/train.py --shard "$SHARD" --run-dir "$RUN" --size tiny --crop "$CROP" --batch "$BATCH" \
	--lr "$LR" --threads "$THREADS" --amp "$AMP" --max-seconds "$BUDGET" --save-every "$SAVE_EVERY" "$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null || true' TERM INT
set +e
wait $child
status=$?
if kill -0 $child 2>/dev/null; then # interrupted by a signal: wait for the save and export
	wait $child
	status=$?
fi
set -e
echo "=== run_cpu $(date -u +%FT%TZ): train.py exited with $status"
[ -f "$RUN/diffuir-tiny.duir" ] && echo "pack: $RUN/diffuir-tiny.duir  (score it: go run ./tools/diffuir eval --photos data/photos/eval --model $RUN/diffuir-tiny.duir)"
exit $status
