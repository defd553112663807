#!/usr/bin/env python3
"""Average the weights of several packs of one training run (a checkpoint soup).

    /usr/bin/python3 tools/train/average.py -o data/runs/soup.pt A.duir B.duir [...]
    /usr/bin/python3 tools/train/average.py -o mid.pt --weights 0.6,0.4 BASE.duir TUNED.duir
    go run ./tools/diffuir convert data/runs/soup.pt -o data/runs/soup.duir --norm-eps 1e-3

Checkpoints along one run sit in one basin, so their mean is a model too, often
a smoother one than any of them (weight averaging, as in SWA). The packs must
share the architecture (same tensor names and shapes); the output is a .pt in
the authors' Trainer layout (EMA entry) that `diffuir convert` reads. The
LayerNorm epsilon is not taken from the packs (older ones recorded 1e-5 for
bf16-trained weights): give the converter the run's value.

--weights gives each pack its own weight (summing to 1): with two packs, a base
model and a fine-tune of it, it walks the line between them, e.g. to keep what
the base did well and take part of what the fine-tune learned.
"""

import argparse
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pyref"))
import export_onnx  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-o", "--out", required=True, help="output .pt (Trainer layout, EMA entry)")
    ap.add_argument("--weights", default="", help="comma-separated weight per pack, summing to 1 (default: equal)")
    ap.add_argument("packs", nargs="+", help=".duir packs of one run")
    args = ap.parse_args()
    if len(args.packs) < 2:
        raise SystemExit("average: give at least two packs")
    weights = [1 / len(args.packs)] * len(args.packs)
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise SystemExit(f"average: --weights {args.weights!r}: want numbers") from None
        if len(weights) != len(args.packs) or abs(sum(weights) - 1) > 1e-6:
            raise SystemExit(f"average: --weights {args.weights!r}: want one per pack ({len(args.packs)}), summing to 1")
    total, first = None, None
    for path, w in zip(args.packs, weights):
        cfg, _, tensors = export_onnx.read_pack(path)
        shape = {k: tuple(v.shape) for k, v in tensors.items()}
        if first is None:
            first, total = (path, cfg["mults"], cfg["dim"], shape), {k: w * v.double() for k, v in tensors.items()}
            continue
        if (cfg["mults"], cfg["dim"], shape) != first[1:]:
            raise SystemExit(f"average: {path} has another architecture than {first[0]}")
        for k, v in tensors.items():
            total[k] += w * v.double()
    ema = {"initted": torch.tensor([1.0]), "step": torch.tensor([0])}
    ema.update({"ema_model.model.unet0." + k: v.float() for k, v in total.items()})
    torch.save({"step": 0, "ema": ema}, args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    print(f"average of {len(args.packs)} packs (weights {', '.join(f'{w:g}' for w in weights)}) -> {args.out}")


if __name__ == "__main__":
    main()
