"""Time a DiffUIR restore with the PyTorch CPU reference (baseline for the Go/WebGPU runtime).

    /usr/bin/python3 tools/pyref/bench_torch.py --sizes 256,512 --repeats 3 --threads 2 [--size small] [--steps 3] [--device cuda]

Random (compressible, seeded) weights, zero noise, batch 1, float32, inference mode.
One warm-up restore per image size, then `--repeats` timed restores.  Prints one JSON
line per image size:
    {"impl":"pytorch-cpu" (or -cuda),"torch":...,"threads":n,"model":"tiny","size":s,"steps":3,"median_s":...,"runs":[...]}
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuir_ref as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="tiny", choices=sorted(ref.SIZES), help="model size")
    ap.add_argument("--sizes", default="256,512", help="comma-separated square image sizes")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda for the reference on a real GPU")
    args = ap.parse_args()
    dev = torch.device(args.device)

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    torch.set_num_threads(args.threads)
    net = ref.init_compressible_(ref.build_unet(args.size), 1001 + args.seed).eval().to(dev)
    sched = {k: v.to(dev) for k, v in ref.make_schedules().items()}
    gen = torch.Generator().manual_seed(args.seed)

    for s in [int(v) for v in args.sizes.split(",") if v.strip()]:
        x_in = (torch.rand(1, 3, s, s, generator=gen) * 2 - 1).to(dev)
        with torch.inference_mode():
            ref.restore(net, x_in, steps=args.steps, schedules=sched)  # warm-up
            sync()
            runs = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                ref.restore(net, x_in, steps=args.steps, schedules=sched)
                sync()
                runs.append(round(time.perf_counter() - t0, 4))
        print(json.dumps({
            "impl": "pytorch-" + dev.type,
            "torch": torch.__version__,
            "threads": args.threads,
            "model": args.size,
            "size": s,
            "steps": args.steps,
            "median_s": round(statistics.median(runs), 4),
            "runs": runs,
        }), flush=True)


if __name__ == "__main__":
    main()
