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
#     under its own time limit: the GPU backend's tests (every kernel against the CPU), the per-op
#     kernels and one UNet pass through Vulkan, the whole 3-step restore of Tiny at 256 and 512 on
#     the GPU backend ("gpu" does only these), then the
#     same restore on the CPU backend, and PyTorch on the CPU and on CUDA (tools/pyref/bench_torch.py)
#     ("cpu" does only those). Everything goes to $OUT/bench.log (appended).
#
# Settings (environment): BENCH ['Ops|UNetPass'] (which GPU benchmarks), OPS_ARGS (their extra
# flags, e.g. "-ops.size=1024 -ops.reps=20"), BENCHTIME [10x], RESTORE_SIZES [256,512] (S or WxH),
# RESTORE_RUNS [5], CONV_KERNELS [auto] (the GPU restore runs once per listed kernel: auto,
# blocked, tiled).
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
	export XDG_RUNTIME_DIR=/tmp
	for f in .gl/*.deb; do [ -f "$f" ] && dpkg -x "$f" /; done
	ldconfig 2>/dev/null || true
	icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
	if [ -f "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then
		ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json >/dev/null 2>&1 || export VK_DRIVER_FILES="$icd"
	fi
	step() { # seconds, label, command...
		local limit=$1 label=$2
		shift 2
		echo "=== $label ($(date -u +%T))" | tee -a "$log"
		timeout "$limit" "$@" 2>&1 | tee -a "$log"
		echo "=== exit ${PIPESTATUS[0]}" | tee -a "$log"
	}
	{
		date -u +%FT%TZ
		nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1
		lscpu | grep -E '^(Model name|CPU\(s\))' 2>&1
		echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-}"
	} 2>&1 | tee -a "$log"
	if [ "$what" != cpu ]; then
		# the backend's own tests first: every kernel against the CPU reference on this GPU
		step 90 "GPU backend tests" env DIFFUIR_REQUIRE_GPU=1 "$BIN/gpu.test" -test.count=1
		# shellcheck disable=SC2086
		step 100 "GPU ops and one UNet pass (Vulkan)" "$BIN/gpu.test" -test.run '^$' -test.bench "${BENCH:-Ops|UNetPass}" \
			-test.benchtime "${BENCHTIME:-10x}" ${OPS_ARGS:-}
		for kernel in ${CONV_KERNELS:-auto}; do
			step 60 "whole restore, GPU backend, $kernel convs" env DIFFUIR_CONV_KERNEL="$kernel" "$BIN/restore.test" \
				-test.run '^$' -test.bench 'RestoreTinyGPU' -test.benchtime "${RESTORE_RUNS:-5}x" \
				-restore.sizes="${RESTORE_SIZES:-256,512}"
		done
	fi
	if [ "$what" != gpu ]; then
		step 60 "whole restore, CPU backend (SIMD)" "$BIN/restore.test" -test.run '^$' -test.bench 'RestoreTinyCPU' \
			-test.benchtime 3x -restore.sizes="${RESTORE_SIZES:-256,512}"
		step 50 "PyTorch CPU" python3 tools/pyref/bench_torch.py --sizes 256,512 --repeats 3 --threads "$(nproc)"
		step 40 "PyTorch CUDA (fp32)" python3 tools/pyref/bench_torch.py --sizes 256,512 --repeats 10 --device cuda
	fi
	;;
*)
	sed -n '2,22p' "$0"
	exit 2
	;;
esac
