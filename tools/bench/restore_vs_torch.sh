#!/usr/bin/env bash
# Side-by-side benchmark: the Go CPU backend (portable and SIMD builds), the
# GPU backend (on lavapipe where there is no GPU) and PyTorch's CPU path, the Tiny model, 3 steps, 256x256 and 512x512, in
# one run on the same machine. Prints one table with ratios against PyTorch.
# Needs Debian's python3-torch (apt-get install -y python3-torch) for the
# PyTorch column; everything else is Go.
#   bash tools/bench/restore_vs_torch.sh [repeats]     (SKIP_GPU=1 leaves the GPU column out;
#                                                       MODEL=small times the Small model, SIZES=256,512)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-3}
model=${MODEL:-tiny}
sizes=${SIZES:-256,512}
threads=$(nproc)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

run_go() { # label, benchmark, env...
  local label=$1 bench=$2; shift 2
  env XDG_RUNTIME_DIR=/tmp "$@" go test ./runtime/restore/ -run - -bench "$bench" -benchtime "${n}x" -count 1 \
    -restore.model="$model" -restore.sizes="$sizes" |
    awk -v l="$label" '/^BenchmarkRestoreTiny/ { split($1, a, "/"); sub(/-[0-9]+$/, "", a[2]); for (i = 1; i <= NF; i++) if ($(i+1) == "s/restore") print l, a[2], $i }'
}
{
  run_go "go-cpu-portable" RestoreTinyCPU
  run_go "go-cpu-simd" RestoreTinyCPU GOEXPERIMENT=simd
  [[ -n ${SKIP_GPU:-} ]] || run_go "go-gpu-lavapipe" RestoreTinyGPU
  /usr/bin/python3 tools/pyref/bench_torch.py --size "$model" --sizes "$sizes" --repeats "$n" --threads "$threads" |
    /usr/bin/python3 -c 'import json,sys
for l in sys.stdin:
    d=json.loads(l); m="" if d["model"]=="tiny" else d["model"]+"-"
    print("pytorch-cpu-%s %s%dx%d %s" % (d["torch"], m, d["size"], d["size"], d["median_s"]))'
} | tee "$out/results"

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(go version | cut -d' ' -f3)"
awk '{ t[$1" "$2] = $3; if (!($1 in seen)) { seen[$1]; order[++k] = $1 } ; sizes[$2] }
END {
  printf "%-28s %10s %10s %12s\n", "implementation", "size", "s/restore", "vs PyTorch"
  for (i = 1; i <= k; i++) for (s in sizes) {
    impl = order[i]; key = impl" "s
    if (!(key in t)) continue
    base = ""
    for (j = 1; j <= k; j++) if (order[j] ~ /^pytorch/) base = t[order[j]" "s]
    printf "%-28s %10s %10.3f %11.2fx\n", impl, s, t[key], (base == "" ? 0 : base / t[key])
  }
}' "$out/results"
