#!/usr/bin/env bash
# Train on one H100 for a 15-minute device budget, in three steps.
#
#  1. here:     tools/train/run_gpu.sh prepare [CHECKPOINT]
#     Builds a static mkshard (the device image has PyTorch but no Go) into data/gpu/ and checks
#     that data/photos/train is fetched. With CHECKPOINT (e.g. the ckpt-*.pt of an earlier call)
#     the GPU run resumes from its weights and EMA (Adam's state is dropped to halve what is
#     carried, ~7.4 MB for Tiny); with a pack instead (models/diffuir-tiny.duir) a new run starts
#     from its weights (train.py --init). Carried: data/gpu (~10 MB; 16 MB more when
#     native_gpu.sh prepare has put its benchmark binaries in data/gpu/bin) and data/photos/train
#     (~32 MB), with the working tree (~14 MB) inside the 64 MiB of a call: for a training-only
#     call (SKIP_BENCH=1) move data/gpu/bin aside.
#     If data/gpu/train.shard exists (made here, carried along), it is used as is instead.
#
#  2. device:   the device tool's run, e.g.
#       run(command="bash tools/train/run_gpu.sh device", carry=["data/gpu", "data/photos/train"],
#           timeout_s=600)
#     On the machine: makes the shard with 16 workers (PATCHES pairs of SIZE px from photos
#     reduced to MAX_SIDE, the size 'diffuir eval' scores at; ~30 s), trains with --device cuda
#     --amp bf16 for BUDGET seconds (cosine learning rate over that budget), and leaves in $OUT:
#     ckpt-STEP.pt (resume state, ~14.7 MB for Tiny), ema.pt (EMA weights only, ~3.7 MB),
#     ema-snapshots.pt (the EMA at every SAVE_EVERY steps, the newest 4, to pick the best
#     afterwards), loss.csv and train.log: the device tool brings back at most 8 files.
#     BUDGET (default 420 s) + shard + start-up must stay under the 600 s a command may run.
#     `run_gpu.sh shard` makes the shard alone (e.g. in the background while something else uses
#     the GPU); `device` then takes it as it is. Arguments after `device` go to train.py as they are
#     (e.g. `--objective sampler`, `--task-weights blur=3`, `--color-aug 0.5`).
#
#  3. here:     tools/train/run_gpu.sh finish DIR      (DIR = the files_at folder the run returned)
#     Copies the results into data/runs/tiny-gpu/ (RUN=DIR: elsewhere) and converts them into
#     data/runs/tiny-gpu/diffuir-tiny.duir (from ckpt-*.pt, or ema.pt if the checkpoint did not
#     come back) and each snapshot of ema-snapshots.pt into ema-STEP.duir, then prints the eval
#     commands.
#
# Settings for the device step (environment): PATCHES [50000] SIZE [144] MAX_SIDE [512] SEED [2] DARKEN [0]
# CROP [128] BATCH [80] LR [4e-4] LR_SCHEDULE [cosine] BUDGET [420] SAVE_EVERY [1000] DEVICE [cuda]
# WORKERS [16] THREADS [8] CLEAN [0] (train.py --clean-frac: pairs trained on their clean patch)
# CLEAN_DARKEN [0] (--clean-darken: of those, the fraction darkened first) GRAY [0] (--gray-frac:
# pairs turned grey) EQ_LOWLIGHT [0] (1: --equalized-lowlight-only, no low-light pairs the runtime
# would leave unequalized) TASK_WEIGHTS [] (--task-weights, e.g. blur=3) COLOR_AUG [0] (--color-aug:
# pairs recoloured).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
GPU="$REPO/data/gpu"

case "${1:-}" in
prepare)
	mkdir -p "$GPU"
	"$REPO/tools/data/fetch_photos.sh"
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build -trimpath -ldflags="-s -w" -o "$GPU/mkshard" ./tools/train/mkshard
	rm -rf "$GPU/init"
	if [ -n "${2:-}" ]; then
		mkdir -p "$GPU/init"
		case "$2" in *.duir) cp "$2" "$GPU/init/" ;; *)
		# weights and EMA only: Adam's moments would double what the call must carry
		/usr/bin/python3 -c 'import sys, torch
st = torch.load(sys.argv[1], map_location="cpu")
st["opt0"] = None
torch.save(st, sys.argv[2])' "$2" "$GPU/init/$(basename "$2")" ;;
		esac
	fi
	du -sh "$GPU" "$REPO/data/photos/train"
	echo "ready: run(command=\"bash tools/train/run_gpu.sh device\", carry=[\"data/gpu\", \"data/photos/train\"], timeout_s=600)"
	;;
shard | device)
	PATCHES="${PATCHES:-50000}"
	SIZE="${SIZE:-144}"
	MAX_SIDE="${MAX_SIDE:-512}"
	SEED="${SEED:-2}"
	DARKEN="${DARKEN:-0}"
	WORKERS="${WORKERS:-16}"
	SHARD="$GPU/train.shard"
	[ -f "$SHARD" ] || SHARD=/tmp/diffuir-train.shard
	if [ ! -f "$SHARD" ]; then
		"$GPU/mkshard" --photos data/photos/train --out "$SHARD.tmp" --patches "$PATCHES" --size "$SIZE" \
			--max-side "$MAX_SIDE" --seed "$SEED" --per-image 16 --workers "$WORKERS" --darken "$DARKEN" 2>&1 | tail -n 2
		mv "$SHARD.tmp" "$SHARD"
	fi
	[ "$1" = shard ] && exit 0
	OUT="${OUT:?run this through the device tool (it sets OUT)}"
	CROP="${CROP:-128}"
	BATCH="${BATCH:-80}"
	LR="${LR:-4e-4}"
	LR_SCHEDULE="${LR_SCHEDULE:-cosine}"
	CLEAN="${CLEAN:-0}"
	CLEAN_DARKEN="${CLEAN_DARKEN:-0}"
	EQ_LOWLIGHT="${EQ_LOWLIGHT:-0}"
	GRAY="${GRAY:-0}"
	TASK_WEIGHTS="${TASK_WEIGHTS:-}"
	COLOR_AUG="${COLOR_AUG:-0}"
	BUDGET="${BUDGET:-420}"
	SAVE_EVERY="${SAVE_EVERY:-1000}"
	DEVICE="${DEVICE:-cuda}"
	THREADS="${THREADS:-8}"
	PY="${PY:-python3}"
	RUN="${RUN_DIR:-/tmp/diffuir-run}"
	export PYTHONUNBUFFERED=1
	log="$OUT/train.log"
	{
		date -u +%FT%TZ
		nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
		"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())'
	} 2>&1 | tee "$log"
	mkdir -p "$RUN"
	extra=()
	if [ "$EQ_LOWLIGHT" = 1 ]; then extra+=(--equalized-lowlight-only); fi
	if [ -d "$GPU/init" ]; then
		cp "$GPU"/init/*.pt "$RUN/" 2>/dev/null || true
		pack="$(ls "$GPU"/init/*.duir 2>/dev/null | head -n 1 || true)"
		[ -z "$pack" ] || extra+=(--init "$pack")
	fi
	set +e
	"$PY" tools/train/train.py --shard "$SHARD" --run-dir "$RUN" --size tiny --crop "$CROP" --batch "$BATCH" \
		--lr "$LR" --lr-schedule "$LR_SCHEDULE" --clean-frac "$CLEAN" --clean-darken "$CLEAN_DARKEN" --gray-frac "$GRAY" --color-aug "$COLOR_AUG" --task-weights "$TASK_WEIGHTS" --threads "$THREADS" --device "$DEVICE" --amp bf16 --max-seconds "$BUDGET" \
		--save-every "$SAVE_EVERY" --ema-snapshots "$OUT/ema-snapshots.pt" --log-every 100 --no-export --export-pt "$OUT/ema.pt" ${extra[@]+"${extra[@]}"} "${@:2}" 2>&1 | tee -a "$log"
	status=${PIPESTATUS[0]}
	set -e
	last="$(ls "$RUN"/ckpt-*.pt 2>/dev/null | sort | tail -n 1)"
	[ -n "$last" ] && cp "$last" "$OUT/"
	cp "$RUN/loss.csv" "$OUT/" 2>/dev/null || true
	ls -la "$OUT"
	exit "$status"
	;;
finish)
	src="${2:?usage: run_gpu.sh finish DIR}"
	dst="${RUN:-$REPO/data/runs/tiny-gpu}"
	mkdir -p "$dst"
	cp "$src"/* "$dst/"
	ck="$(ls "$dst"/ckpt-*.pt 2>/dev/null | sort | tail -n 1)"
	[ -n "$ck" ] || ck="$dst/ema.pt"
	# the LayerNorm epsilon the weights learned (1e-3 under bf16 autocast), from the checkpoint
	eps="$(PYTHONPATH=tools/pyref /usr/bin/python3 -c 'import sys, export_onnx; print(export_onnx.norm_eps_of(sys.argv[1]))' "$ck")"
	go build -o "$dst/.diffuir" ./tools/diffuir
	"$dst/.diffuir" convert "$ck" -o "$dst/diffuir-tiny.duir" --name diffuir-tiny --norm-eps "$eps"
	echo "pack: $dst/diffuir-tiny.duir"
	if [ -f "$dst/ema-snapshots.pt" ]; then
		/usr/bin/python3 -c 'import sys; sys.path.insert(0, "tools/train"); import train
train.split_snapshots(sys.argv[1], sys.argv[2])' "$dst/ema-snapshots.pt" "$dst"
	fi
	for snap in "$dst"/ema-[0-9]*.pt; do
		[ -e "$snap" ] || continue
		"$dst/.diffuir" convert "$snap" -o "${snap%.pt}.duir" --name diffuir-tiny --norm-eps "$eps"
		echo "pack: ${snap%.pt}.duir"
	done
	rm -f "$dst/.diffuir"
	echo "score: go run ./tools/diffuir eval --photos data/photos/eval --clean --model PACK"
	echo "resume on the CPU: cp $ck data/runs/tiny-cpu/ && tools/train/run_cpu.sh"
	;;
*)
	sed -n '2,/^[^#]/{/^#/p;}' "$0"  # the header comment, however long
	exit 2
	;;
esac
