#!/usr/bin/env python3
"""Average the weights of several packs of one training run (a checkpoint soup).

    /usr/bin/python3 tools/train/average.py -o data/runs/soup.pt A.duir B.duir [...]
    go run ./tools/diffuir convert data/runs/soup.pt -o data/runs/soup.duir --norm-eps 1e-3

Checkpoints along one run sit in one basin, so their mean is a model too, often
a smoother one than any of them (weight averaging, as in SWA). The packs must
share the architecture (same tensor names and shapes); the output is a .pt in
the authors' Trainer layout (EMA entry) that `diffuir convert` reads. The
LayerNorm epsilon is not taken from the packs (older ones recorded 1e-5 for
bf16-trained weights): give the converter the run's value.
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
    ap.add_argument("packs", nargs="+", help=".duir packs of one run")
    args = ap.parse_args()
    if len(args.packs) < 2:
        raise SystemExit("average: give at least two packs")
    total, first = None, None
    for path in args.packs:
        cfg, _, tensors = export_onnx.read_pack(path)
        shape = {k: tuple(v.shape) for k, v in tensors.items()}
        if first is None:
            first, total = (path, cfg["mults"], cfg["dim"], shape), {k: v.double() for k, v in tensors.items()}
            continue
        if (cfg["mults"], cfg["dim"], shape) != first[1:]:
            raise SystemExit(f"average: {path} has another architecture than {first[0]}")
        for k, v in tensors.items():
            total[k] += v.double()
    ema = {"initted": torch.tensor([1.0]), "step": torch.tensor([0])}
    ema.update({"ema_model.model.unet0." + k: (v / len(args.packs)).float() for k, v in total.items()})
    torch.save({"step": 0, "ema": ema}, args.out + ".tmp")
    os.replace(args.out + ".tmp", args.out)
    print(f"average of {len(args.packs)} packs -> {args.out}")


if __name__ == "__main__":
    main()
