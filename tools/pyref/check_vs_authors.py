"""Optional cross-check of diffuir_ref.py against the authors' own src/model.py.

    git -C <DiffUIR clone> show HEAD:src/model.py > /tmp/authors_model.py
    /usr/bin/python3 tools/pyref/check_vs_authors.py /tmp/authors_model.py

Nothing of the authors' code is stored here: the file you pass is read at run time, and
only its network/diffusion classes (from `def exists` up to `class Trainer`) are executed,
with a tiny stand-in for the few einops patterns they use (einops is not installed here).
Checks, for Tiny and Small with the same random weights:
  * state_dict keys and order of their Unet == ours, shapes equal, and outputs bit-identical
    on an odd-sized input (so padding/cropping is covered);
  * their ResidualDiffusion (delta_end 1.8e-3, pred_res, condition=True, sum_scale 0.01)
    registers the same 14 buffers, and its ddim_sample() gives our restore() result for
    S = 1, 3, 4 with the same Gaussian noise.
"""

import math
import os
import sys
from collections import namedtuple
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuir_ref as ref  # noqa: E402


def _rearrange(t, pat, **kw):
    if pat == "b c -> b c 1 1":
        return t[:, :, None, None]
    if pat == "b (h c) x y -> b h c (x y)":
        b, hc, x, y = t.shape
        return t.reshape(b, kw["h"], hc // kw["h"], x * y)
    if pat == "b h c (x y) -> b (h c) x y":
        b, h, c, _ = t.shape
        return t.reshape(b, h * c, kw["x"], kw["y"])
    if pat == "b h (x y) d -> b (h d) x y":
        b, h, _, d = t.shape
        return t.permute(0, 1, 3, 2).reshape(b, h * d, kw["x"], kw["y"])
    raise NotImplementedError(pat)


def _reduce(t, pat, how):
    if pat != "o ... -> o 1 1 1":
        raise NotImplementedError(pat)
    axes = tuple(range(1, t.dim()))
    if how == "mean":
        return t.mean(dim=axes, keepdim=True)
    return how(t, axes).reshape(t.shape[0], 1, 1, 1)


def load_authors(path):
    src = open(path).read()
    start, end = src.index("def exists(x):"), src.index("class Trainer(object):")
    g = dict(torch=torch, nn=nn, F=F, math=math, np=np, partial=partial, einsum=torch.einsum,
             rearrange=_rearrange, reduce=_reduce, tqdm=lambda it, **k: it,
             ModelResPrediction=namedtuple("ModelResPrediction", ["pred_res", "pred_noise", "pred_x_start"]))
    exec(compile(src[start:end], path, "exec"), g)
    return g


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    g = load_authors(sys.argv[1])
    torch.set_num_threads(2)
    x = torch.randn(1, 6, 37, 45, generator=torch.Generator().manual_seed(1)).clamp(-1, 1)
    t = torch.tensor([894.486755])
    for size in ("tiny", "small"):
        dim, mults, _ = ref.SIZES[size]
        theirs = g["Unet"](dim, dim_mults=mults, condition=True)
        ours = ref.init_compressible_(ref.build_unet(size), 7)
        ka, ko = list(theirs.state_dict()), list(ours.state_dict())
        assert ka == ko, sorted(set(ka) ^ set(ko))
        theirs.load_state_dict(ours.state_dict(), strict=True)
        with torch.no_grad():
            d = (theirs(x, t) - ours(x, t)).abs().max().item()
        assert d == 0.0, d
        print(f"{size}: {len(ka)} keys, same order; UNet outputs bit-identical on 37x45")

    um = g["UnetRes"](dim=32, dim_mults=(1, 1, 1, 1), condition=True, objective="pred_res", test_res_or_noise="res")
    diff = g["ResidualDiffusion"](um, image_size=256, timesteps=1000, delta_end=ref.DELTA_END, sampling_timesteps=3,
                                  ddim_sampling_eta=0.0, objective="pred_res", loss_type="l1", condition=True,
                                  sum_scale=ref.SUM_SCALE, test_res_or_noise="res")
    ours = ref.init_compressible_(ref.build_unet("tiny"), 3)
    holder = ref.Holder(ours)
    sa, so = diff.state_dict(), holder.state_dict()
    assert list(sa) == list(so), sorted(set(sa) ^ set(so))
    for k in ref.SCHEDULE_BUFFERS:
        assert torch.equal(sa[k], so[k]), k
    print(f"ResidualDiffusion: {len(sa)} state_dict keys, same order; 14 schedule buffers identical")
    diff.load_state_dict(so)
    img01 = torch.rand(1, 3, 37, 45, generator=torch.Generator().manual_seed(5))
    for steps in (3, 4, 1):
        diff.sampling_timesteps = steps
        torch.manual_seed(11)
        theirs = diff.sample(img01, batch_size=1)[-1]
        torch.manual_seed(11)
        noise = torch.randn(1, 3, 37, 45)
        mine = ref.to_unit(ref.restore(ours, 2 * img01 - 1, steps=steps, noise=noise))
        d = (theirs - mine).abs().max().item()
        assert d == 0.0, d
        print(f"ddim_sample S={steps}: bit-identical to restore() with the same noise")


if __name__ == "__main__":
    main()
