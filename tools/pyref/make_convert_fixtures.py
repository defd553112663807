#!/usr/bin/python3
"""Small torch.save fixtures for runtime/convert's format edge cases.

Run with the Debian torch:  /usr/bin/python3 tools/pyref/make_convert_fixtures.py
Writes runtime/convert/testdata/{edge_trainer.pt, edge_ema0d.pt, legacy.pt}; Go tests never need Python.
legacy.pt differs byte-wise between runs (torch keys legacy storages by object id). Values are exact in every dtype used (multiples of 1/8, small), so Go can check them bit for bit.
"""
import collections
import io
import os

import torch
import torch.serialization

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "runtime", "convert", "testdata")
P = "ema_model.model.unet0."


def unet_like():
    """A few tensors covering every storage dtype and view layout the reader handles."""
    sd = collections.OrderedDict()
    sd["a.f32"] = torch.arange(6, dtype=torch.float32).reshape(2, 3) / 4          # contiguous
    sd["b.f16"] = (torch.arange(4, dtype=torch.float32) / 8 - 0.25).half()         # HalfStorage
    sd["c.bf16"] = torch.tensor([1.5, -2.0, 0.15625], dtype=torch.bfloat16)         # BFloat16Storage
    sd["d.f64"] = torch.tensor([[0.125, -3.0], [1e3, 7.5]], dtype=torch.float64)    # DoubleStorage
    sd["e.transposed"] = (torch.arange(12, dtype=torch.float32).reshape(3, 4) / 2).t()  # strides (1, 4)
    big = torch.arange(20, dtype=torch.float32) - 10
    sd["f.view"] = big[5:11].view(2, 3)                                               # storage offset 5
    sd["g.scalar"] = torch.tensor(2.5)                                                # 0-d
    sd["h.shared"] = big[::2]                                                         # stride 2, same storage as f.view
    return sd


def trainer(one_element):
    sd = unet_like()
    online = collections.OrderedDict((k, torch.full_like(v, 0.01) if v.is_floating_point() else v) for k, v in sd.items())
    model = collections.OrderedDict()
    model["alphas"] = torch.linspace(0, 1, 10)
    for k, v in online.items():
        model["model.unet0." + k] = v
    ema = collections.OrderedDict()
    if one_element:  # old ema-pytorch: 1-element buffers
        ema["initted"] = torch.tensor([True])
        ema["step"] = torch.tensor([7])
    else:  # newer: 0-d
        ema["initted"] = torch.tensor(True)
        ema["step"] = torch.tensor(7)
    ema["ema_model.alphas"] = torch.linspace(0, 1, 10)
    for k, v in sd.items():
        ema[P + k] = v
    for k, v in online.items():
        ema["online_model.model.unet0." + k] = v
    p = torch.nn.Parameter(torch.ones(3))
    opt = torch.optim.Adam([p], lr=8e-5, betas=(0.9, 0.99))
    p.sum().backward()
    opt.step()
    return {"step": 7, "model": model, "opt0": opt.state_dict(), "ema": ema,
            "scaler": {"scale": 65536.0, "_growth_tracker": 0}}


def main():
    os.makedirs(OUT, exist_ok=True)
    # Storages tagged cuda:0 as on the authors' GPU machines (no GPU needed:
    # only the location string in the pickle changes).
    real_tag = torch.serialization.location_tag
    torch.serialization.location_tag = lambda s: "cuda:0"
    try:
        torch.save(trainer(True), os.path.join(OUT, "edge_trainer.pt"))  # zip root "edge_trainer"
    finally:
        torch.serialization.location_tag = real_tag
    buf = io.BytesIO()
    torch.save(trainer(False), buf)  # zip root "archive"
    with open(os.path.join(OUT, "edge_ema0d.pt"), "wb") as f:
        f.write(buf.getvalue())
    torch.save({"w": torch.ones(2)}, os.path.join(OUT, "legacy.pt"), _use_new_zipfile_serialization=False)
    for name in ("edge_trainer.pt", "edge_ema0d.pt", "legacy.pt"):
        print(name, os.path.getsize(os.path.join(OUT, name)))


if __name__ == "__main__":
    main()
