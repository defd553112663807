#!/usr/bin/env bash
# One device call that uses an H100 lease well: the training shard is cut on the CPU cores while
# the GPU backend's benchmarks run through Vulkan, then training gets the GPU for what is left of
# TOTAL seconds, and the CPU-side benchmarks (Go CPU backend, PyTorch CPU and CUDA) close the call.
#
#   here:    tools/train/run_gpu.sh prepare [CKPT] && tools/bench/native_gpu.sh prepare
#   device:  run(command="TOTAL=420 bash tools/train/h100_call.sh",
#                carry=["data/gpu", "data/photos/train", ".gl"], timeout_s=600)
#   here:    tools/train/run_gpu.sh finish DIR     (DIR: the files_at folder the call returned)
#
# TOTAL [420] is the command's whole budget in seconds; leave the device tool's timeout_s some
# margin above it. SKIP_BENCH=1 trains only; SKIP_CPU_BENCH=1 leaves out the CPU-side benchmarks.
# GPU_BENCH_BUDGET [170] bounds the GPU benchmarks (native_gpu.sh's BENCH_BUDGET; they run while the
# shard is cut, and their results land in $OUT/bench.log and $OUT/bench_summary.txt).
# Other settings pass through to run_gpu.sh and native_gpu.sh.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT="${OUT:?run this through the device tool (it sets OUT)}"
TOTAL="${TOTAL:-420}"
t0=$(date +%s)
elapsed() { echo $(($(date +%s) - t0)); }

WORKERS="${WORKERS:-12}" bash tools/train/run_gpu.sh shard >"$OUT/shard.log" 2>&1 &
shard_pid=$!
gpu_budget="${GPU_BENCH_BUDGET:-170}"
[ -n "${SKIP_BENCH:-}" ] || BENCH_BUDGET="$gpu_budget" timeout -k 5 $((gpu_budget + 15)) \
	bash tools/bench/native_gpu.sh device gpu >/dev/null
wait "$shard_pid" || { echo "shard failed:"; cat "$OUT/shard.log"; exit 1; }
cat "$OUT/shard.log"

# training ends about 30 s after its budget (start-up, loading the shard, the last checkpoint);
# keep ~60 s for the CPU benchmarks unless they are skipped
reserve=$([ -n "${SKIP_BENCH:-}${SKIP_CPU_BENCH:-}" ] && echo 35 || echo 95)
budget=$((TOTAL - $(elapsed) - reserve))
[ "$budget" -ge 60 ] || budget=60
echo "training for $budget s (at $(elapsed) s of $TOTAL)"
BUDGET=$budget bash tools/train/run_gpu.sh device >/dev/null
echo "training exit $? at $(elapsed) s"
tail -n 4 "$OUT/train.log"

left=$((TOTAL - $(elapsed) - 5))
if [ -z "${SKIP_BENCH:-}${SKIP_CPU_BENCH:-}" ] && [ "$left" -ge 30 ]; then
	BENCH_BUDGET=$((left - 5)) timeout -k 5 "$left" bash tools/bench/native_gpu.sh device cpu >/dev/null
fi
# $OUT returns at most 8 files and training fills most: the summary goes to the end of bench.log
if [ -f "$OUT/bench_summary.txt" ]; then
	{ echo "=== summary"; cat "$OUT/bench_summary.txt"; } >>"$OUT/bench.log"
	rm -f "$OUT/bench_summary.txt"
fi
grep -E '^(Benchmark|===|GPU tests|PASS|FAIL|--- FAIL|panic|\{)' "$OUT/bench.log" 2>/dev/null
echo "done at $(elapsed) s"
ls -la "$OUT"
