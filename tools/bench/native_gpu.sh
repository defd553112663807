#!/usr/bin/env bash
# Native benchmarks on a machine with a real GPU (the device tool's H100), in two steps:
#
#  1. here:    tools/bench/native_gpu.sh prepare
#     Builds static test binaries of the GPU backend's op/UNet benchmarks and of the whole-restore
#     benchmarks (CPU backend with the SIMD kernels, GPU backend) into data/gpu/bin/: the device
#     image has no Go. Download the Vulkan loader once too (see /work/.library/device/README.md):
#     .gl/*.deb, carried along.
#
#  2. device:  run(command="bash tools/bench/native_gpu.sh device [gpu|cpu|all]", carry=["data/gpu", ".gl"])
#     Unpacks the loader, points Vulkan at NVIDIA's driver when no other is found, then runs, each
#     step under its own time limit and all of them within BENCH_BUDGET seconds:
#     "gpu": the GPU backend's kernel tests (every kernel against the CPU reference, on this GPU),
#     the whole 3-step restore of Tiny on the GPU backend at RESTORE_SIZES, then PyTorch on CUDA at
#     the same sizes, side by side (PyTorch's middle attention through torch's fused attention where
#     its n×n scores would not fit; bench_torch.py says when), then the per-kernel profile of one UNet
#     pass at 512 (both attention kernels) and the per-op benchmarks, which get what is left.
#     "cpu": the same restore on the CPU backend and PyTorch on the CPU. "all": both.
#     Everything goes to $OUT/bench.log (appended); $OUT/bench_summary.txt gets the result lines.
#
# Settings (environment): BENCH_BUDGET [170] (seconds for the whole "gpu" or "cpu" part: a step
# gets at most what is left, and none starts with less than 10 s left), TESTS (the kernel tests'
# -run pattern), BENCH ['Ops'] (per-op GPU benchmarks), OPS_ARGS ["-ops.size=1024 -ops.reps=5"],
# PROFILE_SIZE [512], RESTORE_SIZES [512,4000x3000] (S or WxH), RESTORE_RUNS [2] (after a warm-up), CONV_KERNELS
# [auto] (the GPU restore runs once per listed kernel: auto, blocked, tiled, mixed), TORCH_DEVICE
# [cuda] (cpu stands in where there is no CUDA), PYTHON [python3], STEP_SCALE [1] (multiplies every
# step's own limit, for slow stand-ins; the budget still bounds the whole).
#
# Tested without a GPU (lavapipe, PyTorch CPU standing in), small sizes and budget:
#   tools/bench/native_gpu.sh prepare && OUT=/tmp/x BENCH_BUDGET=600 STEP_SCALE=6 RESTORE_SIZES=64,96x80 \
#     PROFILE_SIZE=64 RESTORE_RUNS=1 OPS_ARGS="-ops.size=32 -ops.reps=1" TORCH_DEVICE=cpu PYTHON=/usr/bin/python3 \
#     tools/bench/native_gpu.sh device gpu
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
cd "$REPO"
BIN="$REPO/data/gpu/bin"

case "${1:-}" in
prepare)
	set -e
	mkdir -p "$BIN"
	CGO_ENABLED=0 go test -c -trimpath -ldflags="-s -w" -o "$BIN/gpu.test" ./runtime/backend/gpu
	CGO_ENABLED=0 GOEXPERIMENT=simd go test -c -trimpath -ldflags="-s -w" -o "$BIN/restore.test" ./runtime/restore
	ls -la "$BIN"
	[ -n "$(ls .gl/*.deb 2>/dev/null)" ] || echo "note: no Vulkan loader in .gl/ (see the device README)"
	;;
device)
	OUT="${OUT:?run this through the device tool (it sets OUT)}"
	what="${2:-all}"
	log="$OUT/bench.log"
	summary="$OUT/bench_summary.txt"
	budget="${BENCH_BUDGET:-170}"
	py="${PYTHON:-python3}"
	t0=$(date +%s)
	export XDG_RUNTIME_DIR=/tmp
	for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
	ldconfig 2>/dev/null || true
	icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
		ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1 || export VK_DRIVER_FILES="$icd"
	fi
	step() { # seconds (at most), label, command...: runs within what is left of the budget
		local limit=$(($1 * ${STEP_SCALE:-1})) label=$2 left
		shift 2
		left=$((budget - ($(date +%s) - t0)))
		[ "$limit" -le "$left" ] || limit=$left
		if [ "$limit" -lt 10 ]; then
			echo "=== $label: skipped, ${left}s of the ${budget}s budget left" | tee -a "$log" "$summary"
			return
		fi
		echo "=== $label (at most ${limit}s, $(date -u +%T))" | tee -a "$log"
		timeout -k 5 "$limit" "$@" 2>&1 | tee -a "$log"
		echo "=== exit ${PIPESTATUS[0]}" | tee -a "$log"
	}
	results() { # keeps the lines worth reading from the log's last step in the summary
		awk '/^=== / && !/^=== exit/ { buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$log" |
			grep -E '^(=== |Benchmark|GPU tests|--- FAIL|FAIL|ok|PASS|panic|\{|    bench_test.go|[[:space:]]*kernel|[[:space:]]*[a-z_0-9]+\.wgsl)' >>"$summary" || true
	}
	{
		date -u +%FT%TZ
		nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
		lscpu | grep -E '^(Model name|CPU\(s\))' 2>&1
		echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}, budget ${budget}s for \"$what\""
	} 2>&1 | tee -a "$log" "$summary"
	sizes="${RESTORE_SIZES:-512,4000x3000}"
	if [ "$what" != cpu ]; then
		# the backend's own tests first: the kernels against the CPU reference on this GPU
		step 40 "GPU backend tests" env DIFFUIR_REQUIRE_GPU=1 "$BIN/gpu.test" -test.count=1 \
			-test.run "${TESTS:-TestOps|TestHeadGroups|TestFoldedGrids|MatchesCPU}"
		results
		# what the goals are judged by comes first; the profiles and per-op figures get what is left
		for kernel in ${CONV_KERNELS:-auto}; do
			step 50 "whole restore, GPU backend, $kernel convs, $sizes" env DIFFUIR_CONV_KERNEL="$kernel" \
				"$BIN/restore.test" -test.run '^$' -test.bench 'RestoreTinyGPU' -test.benchtime "${RESTORE_RUNS:-2}x" \
				-restore.sizes="$sizes"
			results
		done
		step 40 "PyTorch ${TORCH_DEVICE:-cuda} (fp32), $sizes" "$py" tools/pyref/bench_torch.py --sizes "$sizes" \
			--repeats "${RESTORE_RUNS:-2}" --device "${TORCH_DEVICE:-cuda}" --threads "$(nproc)"
		results
		for attn in stream tiled; do
			step 20 "GPU per-kernel profile, one UNet pass at ${PROFILE_SIZE:-512}, $attn attention" \
				env DIFFUIR_ATTN_KERNEL=$attn "$BIN/gpu.test" -test.run '^$' -test.bench UNetProfile \
				-test.benchtime 1x -test.v -unet.size="${PROFILE_SIZE:-512}" -ops.reps=3
			results
		done
		# shellcheck disable=SC2086
		step 40 "GPU per-op benchmarks" "$BIN/gpu.test" -test.run '^$' -test.v -test.bench "${BENCH:-Ops}" \
			-test.benchtime 3x ${OPS_ARGS:--ops.size=1024 -ops.reps=5}
		results
	fi
	if [ "$what" != gpu ]; then
		step 60 "whole restore, CPU backend (SIMD)" "$BIN/restore.test" -test.run '^$' -test.bench 'RestoreTinyCPU' \
			-test.benchtime 3x -restore.sizes="${CPU_SIZES:-256,512}"
		results
		step 50 "PyTorch CPU" "$py" tools/pyref/bench_torch.py --sizes "${CPU_SIZES:-256,512}" --repeats 3 --threads "$(nproc)"
		results
	fi
	echo "=== $what done in $(($(date +%s) - t0))s of ${budget}s" | tee -a "$log" "$summary"
	;;
*)
	sed -n '2,/^[^#]/{/^#/p;}' "$0"  # the header comment, however long
	exit 2
	;;
esac
