"""Regenerate the Go parity fixtures in runtime/parity/testdata/.

    /usr/bin/python3 tools/pyref/make_fixtures.py [--out DIR] [--check-only]

Writes (bit-reproducibly: seeded torch/numpy, gzip mtime=0, fixed thread count):
    input_45x37.png          45 wide x 37 high RGB test image
    tiny_trainer.pt.gz       random Tiny model in the authors' Trainer checkpoint layout
    small_state.pt.gz        random Small model as a bare UNet state_dict
    tiny_acts.safetensors    3-step zero-noise restore with Tiny (EMA weights): steps + pass-0 activations
    small_acts.safetensors   the same with Small
    tiny_acts_s1.safetensors 1-step restore with Tiny: steps + output only
    README.md                provenance and sha256 of the files above

Then reloads the written files and checks them (see self_check()).
"""

import argparse
import gzip
import hashlib
import io
import json
import math
import os
import struct
import sys

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import diffuir_ref as ref  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO, "runtime", "parity", "testdata")

IMG_W, IMG_H = 45, 37
IMAGE_SEED = 20240317
TINY_SEED = 1001
SMALL_SEED = 2002
TRAINER_STEP = 1000
ONLINE_FILL = 0.01
STEPS = 3

# spec reference values for S = 3
REF_TIME_INPUTS = [993.647156, 894.486755, 433.621338]
REF_ALPHA = [0.09916037, 0.46086544]
REF_DELTA = [0.50105566, 0.29956669]


# --------------------------------------------------------------------------------------
# safetensors (own minimal writer/reader)
# --------------------------------------------------------------------------------------

def write_safetensors(path, tensors, metadata):
    """tensors: ordered dict name -> float32 tensor.  metadata: dict str -> str."""
    header = {"__metadata__": {str(k): str(v) for k, v in metadata.items()}}
    blobs = []
    off = 0
    for name, t in tensors.items():
        a = t.detach().cpu().contiguous().to(torch.float32).numpy().astype("<f4", copy=False)
        b = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hj = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hj += b" " * ((8 - len(hj) % 8) % 8)  # align data start to 8 bytes, as the reference library does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hj)))
        f.write(hj)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base = 8 + n
    out = {}
    end_max = 0
    for name, info in header.items():
        assert info["dtype"] == "F32", name
        b, e = info["data_offsets"]
        arr = np.frombuffer(raw[base + b:base + e], dtype="<f4").reshape(info["shape"])
        out[name] = torch.from_numpy(arr.copy())
        end_max = max(end_max, e)
    assert base + end_max == len(raw), "trailing bytes in safetensors file"
    return out, meta


# --------------------------------------------------------------------------------------
# inputs and weights
# --------------------------------------------------------------------------------------

def make_image():
    """Smooth gradients + hard edges (rectangle, disc, diagonal line) + mild seeded texture."""
    rng = np.random.RandomState(IMAGE_SEED)
    yy, xx = np.mgrid[0:IMG_H, 0:IMG_W].astype(np.float64)
    u, v = xx / (IMG_W - 1), yy / (IMG_H - 1)
    r = 0.15 + 0.70 * u
    g = 0.25 + 0.55 * v
    b = 0.55 + 0.30 * np.sin(2.0 * np.pi * (0.8 * u + 0.5 * v))
    img = np.stack([r, g, b], axis=-1)
    rect = (xx >= 6) & (xx < 19) & (yy >= 5) & (yy < 14)          # bright, off-centre, asymmetric
    img[rect] = [0.92, 0.85, 0.20]
    disc = (xx - 32.0) ** 2 + (yy - 24.0) ** 2 <= 7.5 ** 2        # dark disc
    img[disc] = [0.10, 0.20, 0.45]
    line = np.abs((yy - 2.0) - 0.6 * xx) < 0.8                    # thin diagonal line
    img[line] = [0.05, 0.05, 0.05]
    img[-3:, :8] = [1.0, 1.0, 1.0]                                 # saturated corner patch (bottom-left)
    img += rng.normal(0.0, 0.025, size=img.shape)                  # mild texture
    return np.clip(np.round(img * 255.0), 0, 255).astype(np.uint8)


def image_to_tensor(u8):
    """(H,W,3) uint8 -> (1,3,H,W) in [-1,1], as the authors' ToTensor then 2x-1."""
    t = torch.from_numpy(np.ascontiguousarray(u8.transpose(2, 0, 1))).float().div(255)
    return (2 * t - 1)[None]


def gz_torch_save(obj, path):
    buf = io.BytesIO()
    torch.save(obj, buf)
    with open(path, "wb") as f:
        f.write(gzip.compress(buf.getvalue(), compresslevel=9, mtime=0))


def gz_torch_load(path):
    with open(path, "rb") as f:
        data = gzip.decompress(f.read())
    return torch.load(io.BytesIO(data), map_location="cpu")


def trainer_checkpoint(ema_unet, size):
    """The authors' Trainer.save() layout, ONLINE weights constant, EMA weights = ema_unet."""
    online_unet = ref.build_unet(size)
    with torch.no_grad():
        for p in online_unet.parameters():
            p.fill_(ONLINE_FILL)
    online = ref.Holder(online_unet)
    ema_holder = ref.Holder(ema_unet)
    opt = torch.optim.Adam(online.parameters(), lr=8e-5, betas=(0.9, 0.99))
    ema_sd = {"initted": torch.tensor([1.0]), "step": torch.tensor([TRAINER_STEP])}
    for k, v in ema_holder.state_dict().items():
        ema_sd["ema_model." + k] = v.clone()
    return {
        "step": TRAINER_STEP,
        "model": {k: v.clone() for k, v in online.state_dict().items()},
        "opt0": opt.state_dict(),
        "ema": ema_sd,
        "scaler": None,
    }


# --------------------------------------------------------------------------------------
# runs
# --------------------------------------------------------------------------------------

# Small keeps only each level's last output and the ends of the network, to
# keep the committed fixtures small; Tiny keeps every layer.
SMALL_LAYERS = {"unet_in", "time_emb", "init_conv", "mid_block1", "mid_attn", "mid_block2",
                "final_res_block", "final_conv"}

# The 1-step fixture uses a 29-wide crop: it pads to 32x48, so the network
# runs on a non-square grid and any width/height mix-up shows.
S1_WIDTH = 29


def run_restore(unet, x_in, steps, with_acts, keep=None):
    acts = {} if with_acts else None
    trace = {}
    x = ref.restore(unet, x_in, steps=steps, noise=None, record=acts, record_pass=0, trace=trace)
    out = {"x_in": x_in[0].clone()}
    out.update(trace)
    out["output"] = ref.to_unit(x)[0]
    if with_acts:
        out.update({k: v for k, v in acts.items() if keep is None or keep(k)})
    return out


def metadata(size, steps, tensors, weights_file):
    dim, mults, nparams = ref.SIZES[size]
    pairs = ref.time_pairs(steps)
    return {
        "producer": "tools/pyref/make_fixtures.py",
        "model": size,
        "dim": dim,
        "dim_mults": ",".join(str(m) for m in mults),
        "params": nparams,
        "weights": weights_file,
        "steps": steps,
        "time_pairs": ";".join(f"{a},{b}" for a, b in pairs),
        "time_inputs": ",".join("%.6f" % tensors[f"step{k}.t"].item() for k in range(len(pairs))),
        "noise": "zero",
        "delta_end": ref.DELTA_END,
        "image": "input_45x37.png",
        "activations": "pass 0, padded grid, batch dim dropped" if "unet_in" in tensors else "none",
        "torch": torch.__version__,
    }


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def check_reference_values():
    s = ref.make_schedules()
    pairs = ref.time_pairs(STEPS)
    assert pairs == [(999, 665), (665, 332), (332, -1)], pairs
    assert ref.time_pairs(4) == [(999, 749), (749, 499), (499, 249), (249, -1)]
    assert [a for a, _ in ref.time_pairs(5)] == [999, 799, 599, 399, 199]
    ac, dc = s["alphas_cumsum"], s["delta_cumsum"]
    print("sampler reference values (S=3):")
    for k, (t, tn) in enumerate(pairs):
        tin = (ac[t] * ref.NUM_TIMESTEPS).item()
        line = f"  pass {k}: t={t} t_next={tn} time_input={tin:.6f}"
        assert abs(tin - REF_TIME_INPUTS[k]) < 5e-4, (tin, REF_TIME_INPUTS[k])
        if tn >= 0:
            a, d = (ac[t] - ac[tn]).item(), (dc[t] - dc[tn]).item()
            assert abs(a - REF_ALPHA[k]) < 1e-7 and abs(d - REF_DELTA[k]) < 1e-7, (a, d)
            line += f" alpha={a:.8f} delta={d:.8f}"
        print(line)
    print(f"  x_init scale 1 - delta_cumsum[999] = {(1 - dc[-1]).item():.8f}")


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

FILES = ["input_45x37.png", "tiny_trainer.pt.gz", "small_state.pt.gz",
         "tiny_acts.safetensors", "small_acts.safetensors", "tiny_acts_s1.safetensors"]


def generate(out):
    os.makedirs(out, exist_ok=True)
    u8 = make_image()
    Image.fromarray(u8, "RGB").save(os.path.join(out, "input_45x37.png"), optimize=False)
    x_in = image_to_tensor(u8)

    tiny = ref.init_compressible_(ref.build_unet("tiny"), TINY_SEED).eval()
    small = ref.init_compressible_(ref.build_unet("small"), SMALL_SEED).eval()

    gz_torch_save(trainer_checkpoint(tiny, "tiny"), os.path.join(out, "tiny_trainer.pt.gz"))
    gz_torch_save({k: v.clone() for k, v in small.state_dict().items()}, os.path.join(out, "small_state.pt.gz"))

    results = {}
    small_keep = lambda k: k in SMALL_LAYERS or k.endswith(".3")
    for size, net, fname, steps, acts, wfile, xin, keep in [
        ("tiny", tiny, "tiny_acts.safetensors", STEPS, True, "tiny_trainer.pt.gz (ema_model.model.unet0.*)", x_in, None),
        ("small", small, "small_acts.safetensors", STEPS, True, "small_state.pt.gz", x_in, small_keep),
        ("tiny", tiny, "tiny_acts_s1.safetensors", 1, False, "tiny_trainer.pt.gz (ema_model.model.unet0.*)",
         x_in[..., :S1_WIDTH].contiguous(), None),
    ]:
        t = run_restore(net, xin, steps, acts, keep)
        write_safetensors(os.path.join(out, fname), t, metadata(size, steps, t, wfile))
        results[fname] = t
    return results


def self_check(out, results):
    print("self-check:")
    # 1. trainer checkpoint layout + EMA weights reproduce the output bit for bit
    ck = gz_torch_load(os.path.join(out, "tiny_trainer.pt.gz"))
    assert sorted(ck) == ["ema", "model", "opt0", "scaler", "step"], sorted(ck)
    assert ck["scaler"] is None and isinstance(ck["step"], int)
    model_keys = list(ck["model"])
    assert model_keys[:14] == ["" + b for b in ref.SCHEDULE_BUFFERS], model_keys[:14]
    sched = ref.make_schedules()
    for b in ref.SCHEDULE_BUFFERS:
        assert ck["model"][b].shape == (1000,)
        assert torch.equal(ck["model"][b], sched[b]), b
        assert torch.equal(ck["ema"]["ema_model." + b], sched[b]), b
    ema_prefix, online_prefix = "ema_model.model.unet0.", "model.unet0."
    ema_w = {k[len(ema_prefix):]: v for k, v in ck["ema"].items() if k.startswith(ema_prefix)}
    online_w = {k[len(online_prefix):]: v for k, v in ck["model"].items() if k.startswith(online_prefix)}
    assert set(ck["ema"]) == {"initted", "step"} | {"ema_model." + b for b in ref.SCHEDULE_BUFFERS} | \
        {ema_prefix + k for k in ema_w}
    net = ref.build_unet("tiny")
    net.load_state_dict(ema_w, strict=True)
    net.load_state_dict(online_w, strict=True)  # online layout loads too...
    assert all(not torch.equal(online_w[k], ema_w[k]) for k in ema_w)  # ...but differs everywhere
    net.load_state_dict(ema_w, strict=True)
    assert len(ck["opt0"]["param_groups"][0]["params"]) == len(ema_w)
    x_in = image_to_tensor(np.asarray(Image.open(os.path.join(out, "input_45x37.png")).convert("RGB")))
    assert x_in.shape == (1, 3, IMG_H, IMG_W)
    st, meta = read_safetensors(os.path.join(out, "tiny_acts.safetensors"))
    assert meta["model"] == "tiny" and meta["steps"] == "3"
    again = run_restore(net.eval(), x_in, STEPS, True)
    assert list(st) == list(again), "key order"
    for k in st:
        assert torch.equal(st[k], again[k].float()), k
    print("  tiny_trainer.pt.gz: EMA weights reload, rerun reproduces every tensor in tiny_acts.safetensors exactly")

    # 2. bare small state_dict
    sd = gz_torch_load(os.path.join(out, "small_state.pt.gz"))
    small = ref.build_unet("small")
    small.load_state_dict(sd, strict=True)
    st2, _ = read_safetensors(os.path.join(out, "small_acts.safetensors"))
    again2 = run_restore(small.eval(), x_in, STEPS, False)
    for k in again2:
        assert torch.equal(st2[k], again2[k]), k
    print("  small_state.pt.gz: loads strictly, rerun reproduces step/output tensors exactly")

    # 3. the in-memory results equal what was read back
    for fname, t in results.items():
        back, _ = read_safetensors(os.path.join(out, fname))
        assert list(back) == list(t)
        for k in t:
            assert torch.equal(back[k], t[k].float()), (fname, k)
    s1, _ = read_safetensors(os.path.join(out, "tiny_acts_s1.safetensors"))
    assert s1["x_in"].shape == (3, IMG_H, S1_WIDTH)
    manual = (x_in[0, :, :, :S1_WIDTH] - s1["step0.r"]).clamp(-1, 1)
    assert torch.equal(s1["step0.x"], manual)
    print("  safetensors round-trip exact; 1-step file obeys x = clamp(x_in - r)")


def describe(results):
    print("activation summary (tiny | small): name shape max|v| ; fraction of |r|>=1 in steps")
    t, s = results["tiny_acts.safetensors"], results["small_acts.safetensors"]
    for k in t:
        a = f"{k:18s} {str(tuple(t[k].shape)):16s} {t[k].abs().max().item():9.4f}"
        b = f"{str(tuple(s[k].shape)):16s} {s[k].abs().max().item():9.4f}" if k in s else ""
        print("  " + a + " | " + b)
    for name, res in [("tiny", t), ("small", s), ("tiny_s1", results["tiny_acts_s1.safetensors"])]:
        fr = [(res[f"step{k}.r"].abs() >= 1).float().mean().item() for k in range(3) if f"step{k}.r" in res]
        print(f"  {name}: clamped fraction of r per step: " + ", ".join(f"{f:.3f}" for f in fr))


def write_readme(out):
    lines = [
        "# Parity fixtures (generated: do not edit by hand)",
        "",
        "Produced by the PyTorch reference in `tools/pyref/` (see its README) with",
        "",
        "    /usr/bin/python3 tools/pyref/make_fixtures.py",
        "",
        f"torch {torch.__version__}, float32, CPU, torch.set_num_threads(2). The script is bit-reproducible:",
        "running it twice gives identical files. Python is never needed to build or test the product.",
        "",
        "| file | what |",
        "|---|---|",
        "| input_45x37.png | 45 wide x 37 high 8-bit RGB test image (gradients, edges, seeded texture) |",
        "| tiny_trainer.pt.gz | random Tiny (dim 32, mults 1,1,1,1; 886,435 params) in the authors' Trainer layout: "
        "`step`, `model` (14 schedule buffers + `model.unet0.*` ONLINE weights, all 0.01), `opt0` (fresh Adam), "
        "`ema` (`initted`, `step`, `ema_model.<14 buffers>`, `ema_model.model.unet0.*` = the random weights used "
        "for the activations), `scaler` None; torch.save zip, then gzip -9 (mtime 0) |",
        "| small_state.pt.gz | random Small (dim 32, mults 1,2,2,4; 3,268,643 params) as a bare UNet state_dict, gzipped |",
        "| tiny_acts.safetensors | 3-step zero-noise restore of the image with Tiny EMA weights: `x_in`, `step{k}.t/.r/.x`, "
        "`output`, and pass-0 activations on the padded 48x48 grid |",
        "| small_acts.safetensors | the same with Small, keeping only `unet_in`, `time_emb`, `init_conv`, each level's last output (`*.3`), `mid_*` and `final_*` |",
        "| tiny_acts_s1.safetensors | 1-step restore (pair 999,-1) with Tiny of the image's left 29 columns (padded to 32x48, a non-square grid): `x_in`, `step0.*`, `output` only |",
        "",
        "Conventions: tensors are F32, batch dim dropped, CHW. `x_in` = u8/255*2-1 (3,37,45). `step{k}.t` (1,) is the",
        "network time input alphas_cumsum[t]*1000; `step{k}.r` the UNet output clamped to [-1,1]; `step{k}.x` x after",
        "that step's update (last step: clamp(x_in - r, -1, 1)); `output` = clamp((x+1)/2, 0, 1). x starts at",
        "(1 - delta_cumsum[999]) * x_in (zero noise). Activation names: `unet_in` (6,48,48, reflect-padded",
        "right/bottom), `time_emb` (4*dim,), `init_conv`, `downs.{i}.{0..3}` (block1, block2, attention incl.",
        "residual, down conv), `mid_block1`, `mid_attn`, `mid_block2`, `ups.{j}.{0..3}`, `final_res_block`,",
        "`final_conv` (3,48,48, before the crop). The `__metadata__` block records model, steps, time pairs and",
        "time inputs.",
        "",
        "Random weights are k*2^-e with integer |k| <= 31 (norm gains 1+k/32, |k| <= 8) so the gzipped files stay small.",
        "",
        "## sha256",
        "",
        "```",
    ]
    for f in FILES:
        lines.append(f"{sha256(os.path.join(out, f))}  {f}")
    lines += ["```", ""]
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--quiet", action="store_true", help="skip the activation summary")
    args = ap.parse_args()

    torch.set_num_threads(2)
    torch.manual_seed(0)
    np.random.seed(0)
    torch.use_deterministic_algorithms(True)

    check_reference_values()
    results = generate(args.out)
    self_check(args.out, results)
    if not args.quiet:
        describe(results)
    write_readme(args.out)
    print("files:")
    for f in FILES + ["README.md"]:
        p = os.path.join(args.out, f)
        print(f"  {os.path.getsize(p):>10,d}  {sha256(p)}  {f}")


if __name__ == "__main__":
    main()
