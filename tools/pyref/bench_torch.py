"""Time a DiffUIR restore with the PyTorch CPU reference (baseline for the Go/WebGPU runtime).

    /usr/bin/python3 tools/pyref/bench_torch.py --sizes 256,512 --repeats 3 --threads 2 [--size small] [--steps 3] [--device cuda]
    python3 tools/pyref/bench_torch.py --device cuda --sizes 512,4000x3000     (sizes: S or WxH)

Random (compressible, seeded) weights, zero noise, batch 1, float32, inference mode.
One warm-up restore per image size, then `--repeats` timed restores.  Prints one JSON
line per image size:
    {"impl":"pytorch-cpu" (or -cuda),"torch":...,"threads":n,"model":"tiny","size":s,"steps":3,"median_s":...,"runs":[...]}
("size" is S for a square image, "WxH" otherwise; "attn" says how the middle attention ran.)

The reference's middle attention materialises the n×n scores (n = pixels/64 for Tiny): 140 GB at
4000x3000. --attn auto (the default) keeps it where the scores take at most 2 GiB and otherwise uses
torch's scaled_dot_product_attention (torch >= 2.0: flash or memory-efficient kernels on CUDA), the
same mathematics; --attn matmul or sdpa forces one.
"""

import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuir_ref as ref  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="tiny", choices=sorted(ref.SIZES), help="model size")
    ap.add_argument("--sizes", default="256,512", help="comma-separated image sizes, S or WxH")
    ap.add_argument("--attn", default="auto", choices=["auto", "matmul", "sdpa"], help="middle attention (see above)")
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

    for spec in [v.strip() for v in args.sizes.split(",") if v.strip()]:
        w, _, h = spec.partition("x")
        w, h = int(w), int(h or w)
        attn = use_attention(args.attn, args.size, w, h)
        x_in = (torch.rand(1, 3, h, w, generator=gen) * 2 - 1).to(dev)
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
            "size": w if w == h else "%dx%d" % (w, h),
            "steps": args.steps,
            "attn": attn,
            "median_s": round(statistics.median(runs), 4),
            "runs": runs,
        }), flush=True)


def _sdpa_forward(self, x):
    """FullAttn.forward with torch's fused attention instead of the explicit n×n scores."""
    b, _, hh, ww = x.shape
    q, k, v = (ref._heads_split(t, self.heads).transpose(-1, -2) for t in self.to_qkv(x).chunk(3, dim=1))
    out = F.scaled_dot_product_attention(q, k, v, scale=self.scale)  # (b, h, i, d)
    out = out.permute(0, 1, 3, 2).reshape(b, -1, hh, ww)
    return self.to_out(out)


_matmul_forward = ref.FullAttn.forward


def use_attention(mode, size, w, h):
    """Sets FullAttn's forward for a w×h image as --attn says; returns "matmul" or "sdpa"."""
    if mode == "auto":
        levels = len(ref.SIZES[size][1])
        pad = 2 ** levels  # the net pads to this multiple; the middle runs at 1/2**(levels-1)
        n = (-(-w // pad) * 2) * (-(-h // pad) * 2)
        big = 4 * n * n * 4 > (2 << 30)  # 4 heads of float32 scores
        mode = "sdpa" if big and hasattr(F, "scaled_dot_product_attention") else "matmul"
    ref.FullAttn.forward = _sdpa_forward if mode == "sdpa" else _matmul_forward
    return mode


if __name__ == "__main__":
    main()
