"""Export one DiffUIR UNet pass to ONNX (for the onnxruntime-web benchmark, issue #7).

    /usr/bin/python3 tools/pyref/export_onnx.py MODEL -o unet.onnx [--pad8] [--size H,W] [--opset 17]

MODEL is a weight pack (*.duir, spec in runtime/weights/doc.go), one of the authors'
Trainer checkpoints (model-*.pt: the EMA weights are taken) or a bare UNet state_dict.
The weights go into this project's PyTorch reference (diffuir_ref.py) with weight
standardization folded into the conv kernels (packs store them folded already), so the
graph holds plain convolutions.

The ONNX graph is one UNet pass, exactly DiffUIRUNet.forward without the reflect padding
and the crop (the caller pads H and W to a multiple of 16, as the Go runtime does):

    inputs:  x    float32 (1, C, H, W)  C = 6: cat(x_t, x_in) in [-1, 1];
                                        C = 8 with --pad8: two more zero channels
             time float32 (1,)          the network time input alpha_bar_t * 1000
    output:  r    float32 (1, 3, H, W)  the predicted residual (unclamped)

H and W are dynamic (any multiple of 16) unless --static; --size only sets the shape of
the example used for tracing. --pad8 widens the first convolution to 8 input channels
with zero weights (an onnxruntime-web WebGPU workaround, see docs/BENCHMARKS.md).
Prints one JSON line describing the export. Needs torch (1.13 works); no onnx package.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import types
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuir_ref as ref  # noqa: E402

FLAG_STANDARDIZED = 1


# --------------------------------------------------------------------------------------
# weight pack reader (runtime/weights/doc.go, versions 1 and 2)
# --------------------------------------------------------------------------------------

class _Reader:
    def __init__(self, b, pos=0):
        self.b, self.pos = b, pos

    def take(self, n):
        if self.pos + n > len(self.b):
            raise ValueError("pack: truncated header")
        v = self.b[self.pos:self.pos + n]
        self.pos += n
        return v

    def u8(self):
        return self.take(1)[0]

    def u32(self):
        return struct.unpack("<I", self.take(4))[0]

    def u64(self):
        return struct.unpack("<Q", self.take(8))[0]

    def f32(self):
        return struct.unpack("<f", self.take(4))[0]

    def string(self):
        n = struct.unpack("<H", self.take(2))[0]
        return self.take(n).decode("utf-8")


def read_pack(path):
    """Returns (config dict, flags, {name: float32 tensor}) of a .duir pack; checks its hash."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"DUIRPACK":
        raise ValueError(f"{path}: not a DiffUIR weight pack (bad magic)")
    r = _Reader(b, 8)
    version = r.u32()
    if version not in (1, 2):
        raise ValueError(f"{path}: pack version {version}, this reader knows 1 and 2")
    r.u32()  # header size
    digest = r.take(32)
    size = r.u64()
    data_off = r.u64()
    flags = r.u32()
    count = r.u32()
    if size != len(b):
        raise ValueError(f"{path}: file is {len(b)} bytes, header says {size}")
    if hashlib.sha256(b[48:]).digest() != digest:
        raise ValueError(f"{path}: SHA-256 of the payload does not match (damaged pack)")
    cfg = {"name": r.string()}
    for k in ("dim", "groups", "heads", "dim_head", "timesteps", "default_steps"):
        cfg[k] = r.u32()
    cfg["delta_end"] = r.f32()
    cfg["norm_eps"] = r.f32() if version >= 2 else DEFAULT_NORM_EPS
    cfg["mults"] = tuple(r.u32() for _ in range(r.u32()))
    tensors = {}
    for _ in range(count):
        name = r.string()
        dtype = r.u8()
        rank = r.u8()
        dims = [r.u32() for _ in range(rank)]
        off = r.u64()
        nbytes = r.u64()
        np_dtype = {0: "<f4", 1: "<f2"}.get(dtype)
        if np_dtype is None:
            raise ValueError(f"{path}: tensor {name}: unknown dtype {dtype}")
        start = data_off + off
        arr = np.frombuffer(b, dtype=np_dtype, count=nbytes // np.dtype(np_dtype).itemsize, offset=start)
        tensors[name] = torch.from_numpy(arr.astype(np.float32).reshape(dims))
    return cfg, flags, tensors


# --------------------------------------------------------------------------------------
# checkpoint reader (.pt): Trainer checkpoint (EMA weights) or bare state_dict
# --------------------------------------------------------------------------------------

DEFAULT_NORM_EPS = 1e-5  # weights.DefaultNormEps: float32 training, version-1 packs


def _load_torch(path):
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return torch.load(io.BytesIO(raw), map_location="cpu", weights_only=False)


def norm_eps_of(path):
    """The channel LayerNorm epsilon the weights at path were trained with: a
    pack records it; tools/train checkpoints record it (or, older ones, their
    autocast setting); anything else is taken as float32-trained."""
    if path.endswith(".duir"):
        return read_pack(path)[0]["norm_eps"]
    obj = _load_torch(path)
    tr = obj.get("diffuir_train") if isinstance(obj, dict) else None
    if not isinstance(tr, dict):
        return DEFAULT_NORM_EPS
    if "norm_eps" in tr:
        return float(tr["norm_eps"])
    return 1e-3 if (tr.get("args") or {}).get("amp") == "bf16" else DEFAULT_NORM_EPS


def read_checkpoint(path):
    obj = _load_torch(path)
    if isinstance(obj, dict) and "ema" in obj:
        sd = obj["ema"]
        prefix = "ema_model.model.unet0."
    elif isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        sd = obj["model"]
        prefix = "model.unet0."
    else:
        sd = obj
        prefix = ""
    out = {k[len(prefix):]: v.float() for k, v in sd.items() if k.startswith(prefix) and torch.is_tensor(v)}
    if not out:
        raise ValueError(f"{path}: no UNet weights found (looked for keys starting with {prefix!r})")
    return out


def infer_size(sd):
    dim = sd["init_conv.weight"].shape[0]
    for name, (d, mults, _) in ref.SIZES.items():
        if d != dim:
            continue
        net = ref.DiffUIRUNet(d, mults)
        shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
        if all(k in sd and tuple(sd[k].shape) == s for k, s in shapes.items()):
            return name
    raise ValueError("the weights match none of the sizes tiny, small, base, large")


# --------------------------------------------------------------------------------------
# model with plain (folded) convolutions
# --------------------------------------------------------------------------------------

def _plain_conv_forward(self, x):
    return F.conv2d(x, self.weight, self.bias, self.stride, self.padding)


@torch.no_grad()
def load_unet(path):
    """Returns (net, info): the reference UNet, weight standardization folded."""
    if path.endswith(".duir"):
        cfg, flags, sd = read_pack(path)
        folded = bool(flags & FLAG_STANDARDIZED)
        source = "pack"
    else:
        sd = read_checkpoint(path)
        cfg, folded, source = None, False, "checkpoint"
    size = infer_size(sd)
    net = ref.build_unet(size)
    missing = set(net.state_dict()) - set(sd)
    if missing:
        raise ValueError(f"{path}: missing tensors: {sorted(missing)[:5]}")
    net.load_state_dict({k: sd[k] for k in net.state_dict()})
    ref.set_norm_eps(net, cfg["norm_eps"] if cfg else norm_eps_of(path))
    for m in net.modules():
        if isinstance(m, ref.WSConv2d):
            if not folded:
                m.weight.copy_(m.standardized_weight())
            m.forward = types.MethodType(_plain_conv_forward, m)
    info = {"model": size, "source": source, "name": cfg["name"] if cfg else os.path.basename(path)}
    return net.eval(), info


class OnePass(nn.Module):
    """DiffUIRUNet.forward without padding, crop and recording; optional 8-channel input."""

    def __init__(self, unet, pad8=False):
        super().__init__()
        self.u = unet
        if pad8:
            old = unet.init_conv
            conv = nn.Conv2d(8, old.out_channels, old.kernel_size, padding=old.padding)
            with torch.no_grad():
                conv.weight.zero_()
                conv.weight[:, : old.in_channels] = old.weight
                conv.bias.copy_(old.bias)
            unet.init_conv = conv

    def forward(self, x, time):
        u = self.u
        x = u.init_conv(x)
        first = x
        temb = u.time_mlp(time)
        skips = []
        for rb1, rb2, attn, down in u.downs:
            x = rb1(x, temb)
            skips.append(x)
            x = rb2(x, temb)
            x = attn(x)
            skips.append(x)
            x = down(x)
        x = u.mid_block1(x, temb)
        x = u.mid_attn(x)
        x = u.mid_block2(x, temb)
        for rb1, rb2, attn, up in u.ups:
            x = rb1(torch.cat([x, skips.pop()], dim=1), temb)
            x = rb2(torch.cat([x, skips.pop()], dim=1), temb)
            x = attn(x)
            x = up(x)
        x = u.final_res_block(torch.cat([x, first], dim=1), temb)
        return u.final_conv(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", help="a .duir pack, or a .pt / .pt.gz checkpoint")
    ap.add_argument("-o", "--out", required=True, help="output .onnx path")
    ap.add_argument("--pad8", action="store_true", help="8 input channels (2 zero channels) instead of 6")
    ap.add_argument("--size", default="64,64", help="H,W of the tracing example (multiples of 16)")
    ap.add_argument("--static", action="store_true", help="fixed H and W (= --size) instead of dynamic")
    ap.add_argument("--opset", type=int, default=17)
    args = ap.parse_args()

    h, w = (int(v) for v in args.size.split(","))
    if h % 16 or w % 16:
        ap.error("--size: H and W must be multiples of 16")
    net, info = load_unet(args.model)
    one = OnePass(net, pad8=args.pad8).eval()
    cin = 8 if args.pad8 else 6
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, cin, h, w, generator=gen) * 2 - 1
    if args.pad8:
        x[:, 6:] = 0
    t = torch.tensor([993.647156], dtype=torch.float32)

    # The pass must equal the reference's (padding is a no-op at multiples of 16).
    with torch.no_grad():
        want = net.forward(x[:, :6], t) if not args.pad8 else None
        got = one(x, t)
    if want is not None:
        err = (want - got).abs().max().item()
        assert err < 1e-5, f"export wrapper differs from the reference UNet by {err}"

    dyn = None if args.static else {"x": {2: "H", 3: "W"}, "r": {2: "H", 3: "W"}}
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about shape arithmetic (dynamic axes handle it)
        torch.onnx.export(
            one, (x, t), args.out, input_names=["x", "time"], output_names=["r"],
            dynamic_axes=dyn, opset_version=args.opset, do_constant_folding=True,
        )
    info.update({
        "onnx": args.out, "bytes": os.path.getsize(args.out), "opset": args.opset, "channels": cin,
        "dynamic_hw": not args.static, "trace_size": [h, w], "torch": torch.__version__,
    })
    print(json.dumps(info), flush=True)


if __name__ == "__main__":
    main()
