#!/usr/bin/env python3
"""Train DiffUIR weights of our own on a shard made by tools/train/mkshard.

    /usr/bin/python3 tools/train/train.py --shard data/shards/train96.shard \
        --run-dir data/runs/tiny --size tiny --crop 64 --batch 10 --threads 2 --max-seconds 7200

The network is tools/pyref/diffuir_ref.py's UNet (the authors' state_dict
layout). The objective is the authors' (docs: diffuir-spec.md, "Training
recipe"), with x in [-1, 1]:

    t ~ U{0..999};  res = x_in - x_0;  eps ~ N(0, 1)
    x_t  = x_0 + abar_t * res + bbar_t * eps - dbar_t * x_in
    loss = L1(UNet(cat(x_t, x_in), abar_t * 1000), res)

--objective sampler trains what the runtime runs instead: the whole DDIM
sampler (--sampler-steps, 3 by default, starting noise drawn per batch) is
unrolled with gradients and the loss is L1(sampler output, x_0). A pass costs
--sampler-steps network passes; it suits fine-tuning a trained model, whose
single-step loss no longer tells how its few-step restorations look.

Adam (lr 8e-5, betas 0.9/0.99), gradient-norm clip 1.0, EMA 0.995 (updated
every 10 steps after step 100 with ema_pytorch's warm-up, decay
1 - (1 + e)^(-2/3) capped at 0.995, e = steps since 100). Every batch mixes the
degradation types: slot j of a batch draws from task (r + j) mod T, r random
per batch, so a batch of B >= 5 holds every task (use B a multiple of 5 for an
even mix). Random crops (--crop <= the shard's patch size) and horizontal
flips. The degraded inputs were equalized by mkshard exactly where the
runtime's Equalize auto would equalize.

Runs are resumable: the run directory holds ckpt-STEP.pt files (the last
--keep), written every --save-every steps, at the end, and on SIGTERM/SIGINT;
a new invocation with the same --run-dir continues from the newest one
(weights, EMA, Adam state, step, random-number state). Each checkpoint is in
the authors' Trainer layout {'step','model','opt0','ema','scaler'} (plus a
'diffuir_train' entry with the resume state), so `diffuir convert` reads it
directly. At the end the newest checkpoint is exported to
RUN_DIR/diffuir-SIZE.duir with `go run ./tools/diffuir convert` (--no-export
skips this, e.g. on a machine without Go).

loss.csv gets one row per --log-every steps: step, mean loss over the
interval, mean loss per task (empty when a task was absent), learning rate,
seconds of training so far (all invocations), steps per second, and the mean
loss of the clean-input pairs (--clean-frac; empty without).

Learning rate: the authors' 8e-5 is tuned for 300k-step GPU runs; a short CPU
run learns faster with about 2e-4 (--lr 2e-4), which is what run_cpu.sh uses.

Works with PyTorch 1.13 (Debian, CPU) and 2.x (CUDA; --amp bf16 for speed).
"""

import argparse
import copy
import glob
import json
import os
import re
import signal
import struct
import subprocess
import sys
import time

# OpenMP threads that spin while waiting make every step 5-10x slower when the
# machine is shared (measured here: 2 threads, batch 4 at 64x64 on a loaded
# 2-core box: 7-11 s/step spinning, 0.9-1.2 s/step passive). Must be set
# before torch loads libgomp; an explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tools", "pyref"))
import diffuir_ref as ref  # noqa: E402

TASKS = ["haze", "lowlight", "rain", "snow", "blur"]
# loss.csv's extra column: pairs whose input was swapped for the clean patch (--clean-frac)
CLEAN = len(TASKS)


# --------------------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------------------

class Shard:
    """A mkshard file: clean/degraded uint8 NCHW patches, task ids, flags."""

    def __init__(self, path, device, equalized_lowlight_only=False, task_weights=None):
        with open(path, "rb") as f:
            pre = f.read(16)
            if pre[:8] != b"DUIRSHRD":
                raise SystemExit(f"{path}: not a mkshard shard (bad magic)")
            version, hlen = struct.unpack("<II", pre[8:16])
            if version != 1:
                raise SystemExit(f"{path}: shard version {version}, this script reads 1")
            self.header = h = json.loads(f.read(hlen))
        n, s, off = h["count"], h["size"], h["offsets"]
        self.count, self.size = n, s

        def arr(name, dtype, shape):
            return np.memmap(path, dtype=dtype, mode="r", offset=off[name], shape=shape)

        clean = arr("clean", np.uint8, (n, 3, s, s))
        degraded = arr("degraded", np.uint8, (n, 3, s, s))
        self.task = np.array(arr("task", np.uint8, (n,)))
        self.flags = np.array(arr("flags", np.uint8, (n,)))
        if device.type == "cpu":
            # zero-copy views of the memory map (read-only: never written to)
            import warnings
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.clean = torch.from_numpy(clean)
                self.degraded = torch.from_numpy(degraded)
        else:  # the whole shard on the GPU: gathers and crops happen there
            self.clean = torch.from_numpy(np.array(clean)).to(device)
            self.degraded = torch.from_numpy(np.array(degraded)).to(device)
        names = h["tasks"]
        self.task_names = names
        # pairs whose clean patch may stand in as the input (--clean-frac): not low-light (a dark
        # clean patch there is the target of an equalized or brightened input) and not equalized
        low = names.index("lowlight") if "lowlight" in names else -1
        self.low = low
        self.clean_ok = torch.from_numpy((self.flags & 1 == 0) & (self.task != low))
        keep = np.ones(n, dtype=bool)
        if equalized_lowlight_only and low >= 0:
            # the runtime equalizes a photo darker than mean luma 0.2 and leaves the rest to the
            # network: a low-light pair it would not equalize (mean input ~65 of 255, target ~165)
            # teaches the network to brighten any dark photo, undegraded ones included
            keep &= (self.task != low) | (self.flags & 1 == 1)
        self.dropped = int(n - keep.sum())
        self.by_task = [torch.from_numpy(np.nonzero((self.task == k) & keep)[0]) for k in range(len(names))]
        self.present = [k for k in range(len(names)) if len(self.by_task[k])]
        if not self.present:
            raise SystemExit(f"{path}: empty shard")
        # the batch slots cycle through this list: each task once by default, a task of weight w
        # w times (--task-weights), so a batch's mix follows the weights without a random draw
        weights = task_weights or {}
        for name in weights:
            if name not in names:
                raise SystemExit(f"--task-weights: {path} has no task {name!r} (it has {', '.join(names)})")
        self.cycle = [k for k in self.present for _ in range(weights.get(names[k], 1))]
        if not self.cycle:
            raise SystemExit("--task-weights: every task present in the shard has weight 0")
        # all pairs grouped by task, so one batch's indices are drawn with a few tensor ops
        self.grouped = torch.cat(self.by_task)
        lens = torch.tensor([len(v) for v in self.by_task])
        self.task_len = lens
        self.task_start = torch.cumsum(lens, 0) - lens

    def describe(self):
        counts = {self.task_names[k]: int(len(self.by_task[k])) for k in self.present}
        share = {self.task_names[k]: f"{self.cycle.count(k) / len(self.cycle):.2f}" for k in self.present}
        return (f"{self.count} pairs of {self.size}x{self.size}, tasks {counts}, batch shares {share}, "
                f"{int((self.flags & 1).sum())} inputs equalized, {len(self.header['photos'])} photos"
                + (f", {self.dropped} unequalized low-light pairs left out" if self.dropped else ""))

    def batch(self, b, crop, gen, device, clean_frac=0.0, clean_darken=0.0, gray_frac=0.0, color_aug=0.0):
        """(x0, x_in) in [-1, 1], shapes (b,3,crop,crop), and task ids (b,).

        With clean_frac > 0 that fraction of the eligible pairs (see clean_ok) gets its clean
        patch as the input, so the network also learns to leave an undegraded photo alone;
        their task id is CLEAN. With clean_darken > 0 that fraction of those is darkened first
        (input and target alike, see darken_clean). With gray_frac > 0 that fraction of all pairs
        becomes grey (input and target replaced by their luma): every training photo is in colour,
        and a grey photo's flat, unsaturated look is otherwise taken for haze. With color_aug > 0
        that fraction of the pairs that are not low-light gets its colours changed, input and
        target alike (see recolor)."""
        t = len(self.cycle)
        rot = int(torch.randint(t, (1,), generator=gen))
        tasks = torch.tensor([self.cycle[(rot + j) % t] for j in range(b)])
        pick = (torch.rand(b, generator=gen, dtype=torch.float64) * self.task_len[tasks]).long()
        idx = self.grouped[self.task_start[tasks] + torch.minimum(pick, self.task_len[tasks] - 1)]
        s = self.size
        oy = torch.randint(s - crop + 1, (b,), generator=gen)
        ox = torch.randint(s - crop + 1, (b,), generator=gen)
        flip = torch.rand(b, generator=gen) < 0.5
        ar = torch.arange(crop)
        rows = oy[:, None] + ar[None, :]
        cols = torch.where(flip[:, None], ox[:, None] + crop - 1 - ar[None, :], ox[:, None] + ar[None, :])
        ii = idx[:, None, None, None]
        cc = torch.arange(3)[None, :, None, None]
        rr = rows[:, None, :, None]
        kk = cols[:, None, None, :]
        dev = self.clean.device
        ii, cc, rr, kk = (v.to(dev) for v in (ii, cc, rr, kk))
        x0 = self.clean[ii, cc, rr, kk]
        xin = self.degraded[ii, cc, rr, kk]
        to = lambda u: (u.to(device=device, dtype=torch.float32) / 255.0) * 2 - 1  # noqa: E731
        x0, xin = to(x0), to(xin)
        if color_aug > 0:  # drawn only when asked: older runs resume on the same random stream
            pick = (torch.rand(b, generator=gen) < color_aug) & (tasks != self.low)
            perm = torch.stack([torch.randperm(3, generator=gen) for _ in range(b)])
            sat = torch.exp(torch.empty(b).uniform_(np.log(SAT_MIN), np.log(SAT_MAX), generator=gen))
            perm = torch.where(pick[:, None], perm, torch.arange(3)[None, :]).to(device)
            sat = torch.where(pick, sat, torch.ones_like(sat)).to(device)
            x0, xin = (recolor(u, perm, sat) for u in (x0, xin))
        if clean_frac > 0:  # no extra draw otherwise: older runs resume on the same random stream
            swap = (torch.rand(b, generator=gen) < clean_frac) & self.clean_ok[idx]
            tasks = torch.where(swap, torch.full_like(tasks, CLEAN), tasks)
            if clean_darken > 0:
                dark = (swap & (torch.rand(b, generator=gen) < clean_darken)).to(device)[:, None, None, None]
                scale = torch.empty(b).uniform_(DARKEN_MIN, 1.0, generator=gen).to(device)
                x0 = torch.where(dark, darken_clean(x0, scale), x0)
            xin = torch.where(swap.to(device)[:, None, None, None], x0, xin)
        if gray_frac > 0:
            gray = (torch.rand(b, generator=gen) < gray_frac).to(device)[:, None, None, None]
            x0, xin = (torch.where(gray, to_gray(u), u) for u in (x0, xin))
        return x0, xin, tasks


def luma(x):
    """BT.601 luma (b,1,h,w) of x (b,3,h,w); the weights sum to 1, so [-1, 1] maps onto itself."""
    return 0.299 * x[:, 0:1] + 0.587 * x[:, 1:2] + 0.114 * x[:, 2:3]


def to_gray(x):
    """x (b,3,h,w) with its luma in all three channels."""
    return luma(x).expand_as(x).contiguous()


# saturation factors of --color-aug: from washed-out to vivid (flower, astronaut)
SAT_MIN, SAT_MAX = 0.5, 1.8


def recolor(x, perm, sat):
    """x (b,3,h,w) in [-1, 1] with its channels permuted by perm (b,3) and its saturation scaled
    by sat (b,) around the luma, clipped. The training photos are few (about a hundred) and
    their colours narrow; held-out saturated photos were washed out as if hazy. Both maps act
    on each pixel alike and keep grey grey, so they commute with blur and with haze, rain and
    snow (affine in the pixel with a grey airlight), up to clipping: a recoloured degraded
    patch is the degradation of the recoloured clean one. Not low light: its gamma does not
    commute with them."""
    x = torch.gather(x, 1, perm[:, :, None, None].expand_as(x))
    y = luma(x)
    return (y + sat[:, None, None, None] * (x - y)).clamp(-1, 1)


# darkest scale of --clean-darken: dark enough to cover the scenes the network brightened
# (rocket, mean luma 68), never below the runtime's equalization threshold (see darken_clean)
DARKEN_MIN = 0.35
EQUALIZE_BELOW = 0.2  # restore.ShouldEqualize: mean luma in [0, 1]


def darken_clean(x, scale):
    """x (b,3,h,w) in [-1, 1] scaled by scale (b,) in [0, 1] space, each scale raised where
    needed so the patch's mean luma stays 5% above EQUALIZE_BELOW: a darker photo is equalized
    by the runtime before the network sees it, so it never arrives unequalized."""
    u = (x + 1) / 2
    floor = (EQUALIZE_BELOW * 1.05) / luma(u).mean(dim=(1, 2, 3)).clamp_min(1e-6)
    s = torch.minimum(torch.maximum(scale, floor), torch.ones_like(scale))
    return (u * s[:, None, None, None]) * 2 - 1


# --------------------------------------------------------------------------------------
# EMA (ema_pytorch semantics: update_every, update_after_step, power warm-up)
# --------------------------------------------------------------------------------------

class EMA:
    def __init__(self, model, beta=0.995, update_every=10, update_after_step=100, inv_gamma=1.0, power=2 / 3):
        self.model = copy.deepcopy(model).eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.beta, self.update_every, self.update_after_step = beta, update_every, update_after_step
        self.inv_gamma, self.power = inv_gamma, power
        self.step = 0

    def decay(self):
        epoch = max(self.step - self.update_after_step - 1, 0)
        if epoch <= 0:
            return 0.0
        value = 1 - (1 + epoch / self.inv_gamma) ** -self.power
        return min(max(value, 0.0), self.beta)

    @torch.no_grad()
    def update(self, model):
        self.step += 1
        if self.step % self.update_every != 0:
            return
        if self.step <= self.update_after_step:
            for e, p in zip(self.model.parameters(), model.parameters()):
                e.copy_(p)
            return
        d = self.decay()
        for e, p in zip(self.model.parameters(), model.parameters()):
            e.lerp_(p, 1 - d)


# --------------------------------------------------------------------------------------
# checkpoints
# --------------------------------------------------------------------------------------

CKPT_RE = re.compile(r"ckpt-(\d+)\.pt$")


def checkpoints(run_dir):
    out = []
    for p in glob.glob(os.path.join(run_dir, "ckpt-*.pt")):
        m = CKPT_RE.search(p)
        if m:
            out.append((int(m.group(1)), p))
    return sorted(out)


def ema_state(ema):
    """The EMA in ema_pytorch's state_dict layout, as the authors' Trainer saves it."""
    sd = {"initted": torch.tensor([1.0]), "step": torch.tensor([ema.step])}
    for k, v in ref.Holder(ema.model).state_dict().items():
        sd["ema_model." + k] = v.detach().cpu().contiguous().clone()
    return sd


def save_ema(path, step, ema_sd, norm_eps):
    """The EMA weights alone (~3.7 MB for Tiny) in a layout `diffuir convert` reads."""
    torch.save({"step": step, "ema": ema_sd, "diffuir_train": {"norm_eps": norm_eps}}, path + ".tmp")
    os.replace(path + ".tmp", path)


def trainer_dict(step, unet, ema, opt, extra):
    """The authors' Trainer.save() layout (+ our resume state)."""
    holder = ref.Holder(unet)
    ema_sd = ema_state(ema)
    return {
        "step": step,
        # contiguous: channels_last weights would otherwise be pickled with NHWC strides
        "model": {k: v.detach().cpu().contiguous().clone() for k, v in holder.state_dict().items()},
        "opt0": opt.state_dict(),
        "ema": ema_sd,
        "scaler": None,
        "diffuir_train": extra,
    }


SNAPSHOTS_KEPT = 4  # 3.7 MB each for Tiny: one file the device tool brings back (16 MiB a file)


def add_snapshot(path, step, ema_sd, norm_eps):
    """Adds the EMA weights of `step` to the snapshot file at path, {"norm_eps", "snapshots":
    {step: ema state}}, keeping the newest SNAPSHOTS_KEPT. Float32 throughout: the converter
    standardizes conv weights before rounding them to float16, so rounding here would change the
    pack."""
    book = torch.load(path, map_location="cpu") if os.path.exists(path) else {"snapshots": {}}
    book["norm_eps"] = norm_eps
    book["snapshots"][step] = ema_sd
    for old in sorted(book["snapshots"])[:-SNAPSHOTS_KEPT]:
        del book["snapshots"][old]
    torch.save(book, path + ".tmp")
    os.replace(path + ".tmp", path)


def split_snapshots(path, out_dir):
    """Writes each snapshot of path as out_dir/ema-STEP.pt (save_ema's layout); returns the paths."""
    book = torch.load(path, map_location="cpu")
    os.makedirs(out_dir, exist_ok=True)
    out = []
    for step, sd in sorted(book["snapshots"].items()):
        dst = os.path.join(out_dir, f"ema-{step:07d}.pt")
        save_ema(dst, step, sd, book["norm_eps"])
        out.append(dst)
    return out


def save_checkpoint(run_dir, step, unet, ema, opt, extra, keep, snapshots=""):
    """Writes ckpt-STEP.pt and keeps the newest `keep`; with snapshots (a file) also adds the
    EMA weights to it (add_snapshot), so a run's checkpoints can be scored one by one after it."""
    path = os.path.join(run_dir, f"ckpt-{step:07d}.pt")
    tmp = path + ".tmp"
    st = trainer_dict(step, unet, ema, opt, extra)
    torch.save(st, tmp)
    os.replace(tmp, path)
    if snapshots:
        add_snapshot(snapshots, step, st["ema"], extra["norm_eps"])
    for _, old in checkpoints(run_dir)[:-keep]:
        os.remove(old)
    return path


def pick_memory_format(choice, unet, shard, batch, crop, device, amp):
    """NHWC lets cuDNN use its tensor-core kernels without transposes, but
    PyTorch's GroupNorm may copy NHWC back; which wins depends on the card and
    the version, so on CUDA 'auto' times both on a throwaway batch (no optimizer
    step, own RNG: training's random stream is untouched)."""
    formats = {"nchw": torch.contiguous_format, "nhwc": torch.channels_last}
    if choice != "auto":
        return formats[choice]
    if device.type != "cuda":
        return torch.contiguous_format
    g = torch.Generator().manual_seed(12345)
    x0, xin, _ = shard.batch(batch, crop, g, device)
    inp = torch.cat([x0, xin], dim=1)
    tt = torch.full((inp.shape[0],), 500.0, device=device)
    timing = {}
    for name, f in formats.items():
        unet.to(memory_format=f)
        x = inp.contiguous(memory_format=f)
        for i in range(13):
            if i == 3:
                torch.cuda.synchronize()
                t0 = time.time()
            with torch.autocast(device_type="cuda", dtype=torch.bfloat16, enabled=amp):
                out = unet(x, tt)
            (out.float() - x0).abs().mean().backward()
        torch.cuda.synchronize()
        timing[name] = (time.time() - t0) / 10
        unet.zero_grad(set_to_none=True)
    best = min(timing, key=timing.get)
    print("memory format: " + ", ".join(f"{k} {v:.4f} s/step" for k, v in timing.items()) + f"; using {best}", flush=True)
    return formats[best]


def load_state(path):
    """Loads one of our own checkpoints. torch 1.13's weights_only unpickler
    rejects plain Python floats (pickle opcode BINFLOAT), so fall back to the
    full unpickler there: these files come from this run directory."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 (UnpicklingError on 1.13, TypeError on older)
        return torch.load(path, map_location="cpu", weights_only=False)


def float_group_norms(net):
    """PyTorch 1.13's CPU autocast runs convolutions in bfloat16 but has no
    rule for group_norm, which then refuses a bfloat16 input with float32
    weights; CUDA autocast runs group_norm in float32. Casting the input to
    float32 gives the CPU what CUDA does. Returns the hook handles."""
    return [m.register_forward_pre_hook(lambda _m, inp: (inp[0].float(),) + tuple(inp[1:]))
            for m in net.modules() if isinstance(m, torch.nn.GroupNorm)]


def init_weights(path, unet, ema):
    """Loads a pack's or a checkpoint's (EMA) weights into the network and its
    EMA. A pack holds the convolutions with weight standardization already
    applied; standardizing them again changes them by less than its epsilon,
    so they load as they are."""
    import export_onnx  # tools/pyref: the pack and checkpoint readers
    norm_eps = export_onnx.norm_eps_of(path)
    if path.endswith(".duir"):
        _, _, sd = export_onnx.read_pack(path)
    else:
        sd = export_onnx.read_checkpoint(path)
    want = unet.state_dict().keys()
    missing = sorted(set(want) - set(sd))
    if missing:
        raise SystemExit(f"--init {path}: missing tensors, e.g. {missing[:3]}")
    with torch.no_grad():
        for target in (unet, ema.model):
            target.load_state_dict({k: sd[k].to(target.state_dict()[k].device) for k in want})
    print(f"initialised from {path} (norm eps {norm_eps:g})", flush=True)
    return norm_eps


def export_pack(ckpt, run_dir, size, go, norm_eps):
    # go runs in the repository, so paths relative to the caller's directory must be made absolute
    out = os.path.abspath(os.path.join(run_dir, f"diffuir-{size}.duir"))
    cmd = [go, "run", "./tools/diffuir", "convert", os.path.abspath(ckpt), "-o", out, "--name", f"diffuir-{size}",
           "--norm-eps", f"{norm_eps:g}"]
    print("export:", " ".join(cmd), flush=True)
    r = subprocess.run(cmd, cwd=REPO)
    if r.returncode != 0:
        print(f"export failed (exit {r.returncode}); convert {ckpt} by hand", flush=True)
        return None
    return out


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shard", required=True, help="shard written by tools/train/mkshard")
    ap.add_argument("--run-dir", default=os.path.join(REPO, "data", "runs", "tiny"),
                    help="checkpoints, loss.csv and the exported pack (resumes from the newest checkpoint here)")
    ap.add_argument("--size", default="tiny", choices=sorted(ref.SIZES), help="model size")
    ap.add_argument("--crop", type=int, default=0, help="training crop (default: the shard's patch size)")
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--lr", type=float, default=8e-5, help="Adam learning rate (authors: 8e-5; short CPU runs: 2e-4)")
    ap.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"],
                    help="cosine: warm up over 200 steps, then decay to 5%% of --lr over this invocation's --max-seconds")
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--ema-decay", type=float, default=0.995)
    ap.add_argument("--ema-every", type=int, default=10)
    ap.add_argument("--steps", type=int, default=0, help="stop at this total step count (0: no limit)")
    ap.add_argument("--max-seconds", type=float, default=0, help="stop after this many seconds in this invocation (0: none)")
    ap.add_argument("--save-every", type=int, default=200)
    ap.add_argument("--keep", type=int, default=3, help="checkpoints kept")
    ap.add_argument("--ema-snapshots", default="", metavar="FILE",
                    help=f"with every checkpoint also add its EMA weights to FILE (the newest {SNAPSHOTS_KEPT}; "
                         "train.split_snapshots writes them out one by one)")
    ap.add_argument("--log-every", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--amp", default="none", choices=["none", "bf16"],
                    help="autocast precision (CUDA; on the CPU too where it pays: see tools/train/bench_cpu.py)")
    ap.add_argument("--memory-format", default="auto", choices=["auto", "nchw", "nhwc"],
                    help="activation layout; auto times a few steps of each on CUDA and keeps the faster (NCHW on the CPU)")
    ap.add_argument("--norm-eps", type=float, default=1e-5,
                    help="channel LayerNorm epsilon of a new run, fixed whatever the precision (the authors' dtype rule "
                         "would give 1e-3 under bf16 autocast and 1e-5 at float32 inference); a resumed or --init run "
                         "keeps the value its weights were trained with")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--clean-frac", type=float, default=0.0,
                    help="fraction of the non-low-light, non-equalized pairs trained with the clean patch as the "
                         "input (target: no change), so an undegraded photo comes out as it went in")
    ap.add_argument("--clean-darken", type=float, default=0.0,
                    help="fraction of the --clean-frac pairs darkened (x0.35-1, never below the runtime's "
                         "equalization threshold) before use: dark undegraded photos must come out unchanged too")
    ap.add_argument("--gray-frac", type=float, default=0.0,
                    help="fraction of the pairs turned grey, input and target alike: grey photos are restored as grey")
    ap.add_argument("--task-weights", default="", metavar="TASK=W,...",
                    help="integer share of the batch slots per task, e.g. blur=3 (unnamed tasks: 1; 0 leaves a task out)")
    ap.add_argument("--color-aug", type=float, default=0.0,
                    help="fraction of the non-low-light pairs recoloured, input and target alike: channels "
                         "permuted, saturation x0.5-1.8 (the training photos' colours are narrow)")
    ap.add_argument("--equalized-lowlight-only", action="store_true",
                    help="leave out the low-light pairs whose input the runtime would not equalize")
    ap.add_argument("--objective", default="diffusion", choices=["diffusion", "sampler"],
                    help="diffusion: the authors' loss at a random timestep; sampler: L1 between the clean "
                         "patch and the output of the whole run-time sampler, trained through its steps")
    ap.add_argument("--sampler-steps", type=int, default=3, help="sampler steps of --objective sampler (the runtime's default)")
    ap.add_argument("--noise-mult", type=float, default=1.0,
                    help="multiplies the bbar_t*eps term (1 = the spec's recipe)")
    ap.add_argument("--no-export", action="store_true", help="do not convert the final checkpoint to a .duir pack")
    ap.add_argument("--export-pt", default="",
                    help="also write the final EMA weights alone, Trainer layout {'step','ema'} (~3.6 MB for Tiny), here")
    ap.add_argument("--go", default="go", help="go command used for the export")
    ap.add_argument("--init", default="",
                    help="start a new run from these weights: a .duir pack (e.g. the shipped models/diffuir-tiny.duir) "
                         "or a .pt checkpoint (its EMA weights); ignored when the run directory has a checkpoint")
    args = ap.parse_args(argv)
    # checked before the shard and the weights load: a mistake should not cost a device lease minutes
    if not 0 <= args.clean_frac < 1:
        raise SystemExit(f"--clean-frac {args.clean_frac}: want a fraction in [0, 1)")
    if not 0 <= args.clean_darken <= 1 or (args.clean_darken and not args.clean_frac):
        raise SystemExit(f"--clean-darken {args.clean_darken}: want a fraction in [0, 1], with --clean-frac")
    for flag, v in (("--gray-frac", args.gray_frac), ("--color-aug", args.color_aug)):
        if not 0 <= v <= 1:
            raise SystemExit(f"{flag} {v}: want a fraction in [0, 1]")
    args.task_weights = parse_task_weights(args.task_weights)
    if args.sampler_steps < 1:
        raise SystemExit(f"--sampler-steps {args.sampler_steps}: want at least 1")
    if args.objective == "sampler" and args.noise_mult != 1.0:
        raise SystemExit("--noise-mult shapes the diffusion objective's x_t; --objective sampler has none")
    if args.lr_schedule == "cosine" and not args.max_seconds:
        raise SystemExit("--lr-schedule cosine decays over --max-seconds: give it")
    return args


def parse_task_weights(spec):
    """"blur=3,haze=1" -> {"blur": 3, "haze": 1}; names are checked against the shard later."""
    weights = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, w = item.partition("=")
        if not sep or not w.strip().isdigit() or name.strip() not in TASKS:
            raise SystemExit(f"--task-weights {spec!r}: want TASK=N items with TASK in {', '.join(TASKS)}, N >= 0")
        weights[name.strip()] = int(w)
    return weights


def main(argv=None):
    args = parse_args(argv)
    device = torch.device(args.device)
    torch.set_num_threads(args.threads)
    os.makedirs(args.run_dir, exist_ok=True)
    shard = Shard(args.shard, device, args.equalized_lowlight_only, args.task_weights)
    crop = args.crop or shard.size
    if crop > shard.size or crop % 16:
        raise SystemExit(f"--crop {crop}: want a multiple of 16 no larger than the shard's {shard.size}")
    print(f"shard {args.shard}: {shard.describe()}", flush=True)

    torch.manual_seed(args.seed)
    unet = ref.build_unet(args.size).to(device)
    ema = EMA(unet, beta=args.ema_decay, update_every=args.ema_every)
    opt = torch.optim.Adam(unet.parameters(), lr=args.lr, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(args.seed)
    dgen = torch.Generator(device=device).manual_seed(args.seed + 1)

    sched_dev = {k: v.to(device) for k, v in ref.make_schedules().items()}
    ac, bc, dc = sched_dev["alphas_cumsum"], sched_dev["betas_cumsum"], sched_dev["delta_cumsum"]

    step, seconds_before = 0, 0.0
    found = checkpoints(args.run_dir)
    if found:
        last_step, path = found[-1]
        st = load_state(path)
        ref.Holder(unet).load_state_dict(st["model"])
        ema_holder = ref.Holder(ema.model)
        ema_holder.load_state_dict({k[len("ema_model."):]: v for k, v in st["ema"].items() if k.startswith("ema_model.")})
        ema.step = int(st["ema"]["step"].item())
        if st.get("opt0"):
            opt.load_state_dict(st["opt0"])
        else:  # a checkpoint slimmed for carrying (run_gpu.sh prepare): Adam starts afresh
            print("no optimizer state in the checkpoint: Adam starts afresh", flush=True)
        for g in opt.param_groups:
            g["lr"] = args.lr  # an explicit --lr wins over the saved one
        step = int(st["step"])
        tr = st.get("diffuir_train") or {}
        seconds_before = float(tr.get("seconds", 0.0))
        # older checkpoints did not record it: under bf16 autocast they learned the dtype rule's 1e-3
        norm_eps = float(tr.get("norm_eps", 1e-3 if (tr.get("args") or {}).get("amp") == "bf16" else 1e-5))
        if "gen" in tr:
            gen.set_state(tr["gen"])
        if "dgen" in tr and tr.get("device") == device.type:
            dgen.set_state(tr["dgen"])
        print(f"resumed from {path} at step {step} ({seconds_before:.0f} s trained before, norm eps {norm_eps:g})",
              flush=True)
        ema.model.to(device)
    else:
        print(f"new run in {args.run_dir}: {args.size}, {sum(p.numel() for p in unet.parameters())} parameters", flush=True)
        norm_eps = init_weights(args.init, unet, ema) if args.init else args.norm_eps
    for net in (unet, ema.model):
        ref.set_norm_eps(net, norm_eps)

    # loss.csv: drop rows newer than the checkpoint we resumed from
    log_path = os.path.join(args.run_dir, "loss.csv")
    cols = ["step", "loss"] + TASKS + ["lr", "seconds", "steps_per_s", "clean"]
    rows = []
    if os.path.exists(log_path):
        with open(log_path) as f:
            lines = f.read().splitlines()
        rows = [ln for ln in lines[1:] if ln and int(ln.split(",")[0]) <= step]
    with open(log_path, "w") as f:
        f.write(",".join(cols) + "\n" + "".join(r + "\n" for r in rows))
    logf = open(log_path, "a", buffering=1)

    stop = {"sig": None}

    def on_signal(signum, _frame):
        stop["sig"] = signum
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    def extra(elapsed):
        return {"seconds": seconds_before + elapsed, "gen": gen.get_state(), "dgen": dgen.get_state().cpu(),
                "device": device.type, "args": {k: v for k, v in vars(args).items()}, "shard": args.shard,
                "norm_eps": norm_eps,
                "shard_header": json.dumps({k: v for k, v in shard.header.items() if k != "photos"})}

    amp = args.amp == "bf16"
    if amp and device.type == "cpu":
        float_group_norms(unet)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN pick its fastest kernels once

    try:
        fmt = pick_memory_format(args.memory_format, unet, shard, args.batch, crop, device, amp)
    except RuntimeError as e:  # a probe must never cost a device lease its training
        print(f"memory format probe failed ({e}); using NCHW", flush=True)
        unet.zero_grad(set_to_none=True)
        fmt = torch.contiguous_format
    unet.to(memory_format=fmt)

    def lr_at(elapsed, steps_here):
        if args.lr_schedule == "constant":
            return args.lr
        warm = min(1.0, (steps_here + 1) / 200)
        frac = min(1.0, elapsed / args.max_seconds)
        return float(args.lr * warm * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * frac))))  # a numpy float would end up in the pickle
    first_step = step
    lr_now = args.lr
    unet.train()
    t_start = time.time()
    last_log_t, last_log_step = t_start, step
    # losses are summed on the device and read back only when a row is logged:
    # a read every step would stall the GPU's queue
    acc_task = torch.zeros(len(TASKS) + 1, dtype=torch.float64, device=device)  # + CLEAN
    acc_task_n = torch.zeros(len(TASKS) + 1, dtype=torch.float64, device=device)
    last_saved = step if found else -1
    reason = "done"
    print(f"training: batch {args.batch} of {crop}x{crop}, lr {args.lr}, {args.threads} threads, device {device}"
          + (", bf16 autocast" if amp else ""), flush=True)
    while True:
        if args.steps and step >= args.steps:
            reason = f"reached step {args.steps}"
            break
        if args.max_seconds and time.time() - t_start >= args.max_seconds:
            reason = f"time budget of {args.max_seconds:.0f} s used"
            break
        if stop["sig"] is not None:
            reason = f"signal {stop['sig']}"
            break
        x0, xin, tasks = shard.batch(args.batch, crop, gen, device, args.clean_frac, args.clean_darken, args.gray_frac,
                                  args.color_aug)
        b = x0.shape[0]
        if args.objective == "sampler":
            noise = torch.randn(x0.shape, generator=dgen, device=device)
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
                out = ref.sample(unet, xin.contiguous(memory_format=fmt), args.sampler_steps, noise,
                                 schedules=sched_dev)
            per = (out.float() - x0).abs().mean(dim=(1, 2, 3))
        else:
            t = torch.randint(0, ref.NUM_TIMESTEPS, (b,), generator=dgen, device=device)
            noise = torch.randn(x0.shape, generator=dgen, device=device)
            res = xin - x0
            a = ac[t].view(b, 1, 1, 1)
            xt = x0 + a * res + args.noise_mult * bc[t].view(b, 1, 1, 1) * noise - dc[t].view(b, 1, 1, 1) * xin
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=amp):
                out = unet(torch.cat([xt, xin], dim=1).contiguous(memory_format=fmt), ac[t] * ref.NUM_TIMESTEPS)
            per = (out.float() - res).abs().mean(dim=(1, 2, 3))
        loss = per.mean()
        lr_now = lr_at(time.time() - t_start, step - first_step)
        for g in opt.param_groups:
            g["lr"] = lr_now
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if args.grad_clip > 0:
            torch.nn.utils.clip_grad_norm_(unet.parameters(), args.grad_clip)
        opt.step()
        ema.update(unet)
        step += 1

        tdev = tasks.to(device)
        acc_task.index_add_(0, tdev, per.detach().double())
        acc_task_n.index_add_(0, tdev, torch.ones_like(per, dtype=torch.float64))
        if step % args.log_every == 0:
            sums, counts = acc_task.cpu().numpy(), acc_task_n.cpu().numpy()
            now = time.time()
            sps = (step - last_log_step) / max(now - last_log_t, 1e-9)
            mean_loss = sums.sum() / max(counts.sum(), 1)  # slots are equally sized: the mean of per-sample means
            task_cols = [f"{sums[k] / counts[k]:.5f}" if counts[k] else "" for k in range(len(TASKS) + 1)]
            logf.write(",".join([str(step), f"{mean_loss:.5f}"] + task_cols[:CLEAN] +
                                [f"{lr_now:g}", f"{seconds_before + now - t_start:.1f}", f"{sps:.4f}",
                                 task_cols[CLEAN]]) + "\n")
            print(f"step {step:7d}  loss {mean_loss:.4f}  " +
                  " ".join(f"{(TASKS + ['clean'])[k]} {c}" for k, c in enumerate(task_cols) if c) +
                  f"  lr {lr_now:.3g}  {1 / max(sps, 1e-9):.4f} s/step", flush=True)
            last_log_t, last_log_step = now, step
            acc_task.zero_()
            acc_task_n.zero_()
        if args.save_every and step % args.save_every == 0:
            save_checkpoint(args.run_dir, step, unet, ema, opt, extra(time.time() - t_start), args.keep,
                            args.ema_snapshots)
            last_saved = step

    elapsed = time.time() - t_start
    path = None
    if step != last_saved and step > 0:
        path = save_checkpoint(args.run_dir, step, unet, ema, opt, extra(elapsed), args.keep, args.ema_snapshots)
    elif checkpoints(args.run_dir):
        path = checkpoints(args.run_dir)[-1][1]
    logf.close()
    print(f"stopped ({reason}) at step {step} after {elapsed:.0f} s; checkpoint {path}", flush=True)
    if args.export_pt and path:
        st = load_state(path)
        save_ema(args.export_pt, st["step"], st["ema"], norm_eps)
        print(f"EMA weights {args.export_pt}", flush=True)
    if path and not args.no_export:
        pack = export_pack(path, args.run_dir, args.size, args.go, norm_eps)
        if pack:
            print(f"pack {pack}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
