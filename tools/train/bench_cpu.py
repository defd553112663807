#!/usr/bin/python3
"""Times train.py's CPU step under different settings, side by side in one run.

    /usr/bin/python3 tools/train/bench_cpu.py --shard SHARD [--init PACK] [--rounds 2] [--steps 4]

PyTorch's CPU speed varies several-fold between machines and from minute to
minute on a shared one, so only ratios measured together mean anything: every
setting runs in its own child process (OMP_WAIT_POLICY must be set before
torch loads libgomp), the settings take turns round by round, and each round
reports seconds per step and training pixels per second (batch x crop^2 /
step time), and the CPU seconds the process used per step (all its threads:
spinning OpenMP threads show here even when the wall time hides it). The step is train.py's: a batch from the shard, the diffusion
loss at a random timestep, backward, gradient clip, Adam, EMA.

--grad-check also compares one batch's loss and gradient under bf16 autocast
with float32 (same weights, same batch): the cosine between the two gradients
says whether bf16 steps point where float32 steps do.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# name -> settings; each differs from "base" in one thing (or two, named so)
BASE = {"threads": 2, "omp": "PASSIVE", "amp": "none", "fmt": "nchw", "crop": 80, "batch": 10}
VARIANTS = {
    "base": {},
    "threads1": {"threads": 1},
    "omp-active": {"omp": "ACTIVE"},
    "small": {"crop": 48, "batch": 4},
    "small-omp-active": {"crop": 48, "batch": 4, "omp": "ACTIVE"},
    "bf16": {"amp": "bf16"},
    "channels-last": {"fmt": "nhwc"},
    "bf16+channels-last": {"amp": "bf16", "fmt": "nhwc"},
    "bf16+threads1": {"amp": "bf16", "threads": 1},
    "bf16+crop64": {"amp": "bf16", "crop": 64},
    "bf16+crop96": {"amp": "bf16", "crop": 96},
    "bf16+batch20": {"amp": "bf16", "batch": 20},
    "crop64": {"crop": 64},
    "crop96": {"crop": 96},
    "crop112-b8": {"crop": 112, "batch": 8},
    "batch20": {"batch": 20},
    "batch5": {"batch": 5},
}


def child(a):
    sys.path.insert(0, HERE)
    import torch
    import train
    ref = train.ref
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    shard = train.Shard(a.shard, torch.device("cpu"))
    unet = ref.build_unet("tiny")
    ema = train.EMA(unet, beta=0.998, update_every=1)
    if a.init:
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                eps = train.init_weights(a.init, unet, ema)
            finally:
                sys.stdout = stdout
        for net in (unet, ema.model):
            ref.set_norm_eps(net, eps)
    fmt = torch.channels_last if a.fmt == "nhwc" else torch.contiguous_format
    unet.to(memory_format=fmt)
    opt = torch.optim.Adam(unet.parameters(), lr=1e-5, betas=(0.9, 0.99))
    sch = ref.make_schedules()
    ac, bc, dc = sch["alphas_cumsum"], sch["betas_cumsum"], sch["delta_cumsum"]
    gen = torch.Generator().manual_seed(1)
    amp = a.amp == "bf16"
    if amp or a.grad_check:
        train.float_group_norms(unet)  # a no-op without autocast: the input is float32 already

    def loss_of(x0, xin, t, noise, use_amp):
        b = x0.shape[0]
        res = xin - x0
        xt = x0 + ac[t].view(b, 1, 1, 1) * res + bc[t].view(b, 1, 1, 1) * noise - dc[t].view(b, 1, 1, 1) * xin
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=use_amp):
            out = unet(torch.cat([xt, xin], dim=1).contiguous(memory_format=fmt), ac[t] * ref.NUM_TIMESTEPS)
        return (out.float() - res).abs().mean()

    result = {}
    if a.grad_check:
        x0, xin, _ = shard.batch(a.batch, a.crop, gen, torch.device("cpu"))
        t = torch.randint(0, ref.NUM_TIMESTEPS, (x0.shape[0],), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        grads, losses = [], []
        for use_amp in (False, True):
            unet.zero_grad(set_to_none=True)
            loss = loss_of(x0, xin, t, noise, use_amp)
            loss.backward()
            losses.append(loss.item())
            grads.append(torch.cat([p.grad.flatten() for p in unet.parameters()]))
        cos = torch.nn.functional.cosine_similarity(grads[0], grads[1], dim=0).item()
        rel = ((grads[1] - grads[0]).norm() / grads[0].norm()).item()
        result.update(loss_fp32=losses[0], loss_bf16=losses[1], grad_cos=cos, grad_rel_err=rel)
    times, cpu = [], []
    for i in range(a.warmup + a.steps):
        t0, c0 = time.time(), time.process_time()
        x0, xin, _ = shard.batch(a.batch, a.crop, gen, torch.device("cpu"))
        t = torch.randint(0, ref.NUM_TIMESTEPS, (x0.shape[0],), generator=gen)
        noise = torch.randn(x0.shape, generator=gen)
        loss = loss_of(x0, xin, t, noise, amp)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        opt.step()
        ema.update(unet)
        if i >= a.warmup:
            times.append(time.time() - t0)
            cpu.append(time.process_time() - c0)
    result["step_s"] = times
    result["cpu_s"] = cpu
    print(json.dumps(result), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shard", required=True)
    ap.add_argument("--init", default="", help="pack or checkpoint to start from (speed does not depend on it)")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=4, help="timed steps per setting and round")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    ap.add_argument("--grad-check", action="store_true", help="bf16 vs float32 loss and gradient on one batch")
    ap.add_argument("--json", default="", help="also write every timing here")
    # child mode
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for k, v in BASE.items():
        ap.add_argument("--" + k, type=type(v), default=v, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        return child(a)

    names = [n for n in (a.only.split(",") if a.only else VARIANTS) if n]
    for n in names:
        if n not in VARIANTS:
            raise SystemExit(f"--only: unknown variant {n!r} (have {', '.join(VARIANTS)})")
    runs = {n: [] for n in names}
    cpus = {n: [] for n in names}
    extra = {}
    if a.grad_check:
        cmd = [sys.executable, __file__, "--child", "--shard", a.shard, "--init", a.init, "--grad-check",
               "--amp", "bf16", "--steps", "0", "--warmup", "0"]
        out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY="PASSIVE"))
        if out.returncode:
            raise SystemExit(out.stderr)
        extra = json.loads(out.stdout.strip().splitlines()[-1])
        print("bf16 vs float32, one batch of %d x %d^2: loss %.5f vs %.5f, gradient cosine %.5f, relative error %.4f"
              % (BASE["batch"], BASE["crop"], extra["loss_bf16"], extra["loss_fp32"], extra["grad_cos"],
                 extra["grad_rel_err"]), flush=True)
    for r in range(a.rounds):
        for n in names:
            s = dict(BASE, **VARIANTS[n])
            cmd = [sys.executable, __file__, "--child", "--shard", a.shard, "--init", a.init,
                   "--steps", str(a.steps), "--warmup", str(a.warmup)]
            for k, v in s.items():
                if k != "omp":
                    cmd += ["--" + k, str(v)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_WAIT_POLICY=s["omp"]))
            if out.returncode:
                print(f"{n}: failed\n{out.stderr[-2000:]}", flush=True)
                continue
            res = json.loads(out.stdout.strip().splitlines()[-1])
            st = res["step_s"]
            runs[n].append(st)
            cpus[n].append(res["cpu_s"])
            med = statistics.median(st)
            print(f"round {r + 1} {n:20s} {med:7.3f} s/step  {s['batch'] * s['crop'] ** 2 / med / 1e3:7.1f} kpx/s  "
                  f"{statistics.median(res['cpu_s']):7.3f} CPU s/step", flush=True)
    print("\nmedian over all rounds (settings: " + json.dumps(BASE) + " unless named)")
    base = None
    for n in names:
        all_t = [x for st in runs[n] for x in st]
        if not all_t:
            continue
        s = dict(BASE, **VARIANTS[n])
        med = statistics.median(all_t)
        px = s["batch"] * s["crop"] ** 2 / med
        if n == "base":
            base = px
        rel = f"  x{px / base:.2f} base px/s" if base else ""
        cmed = statistics.median([x for st in cpus[n] for x in st])
        print(f"{n:20s} {med:7.3f} s/step  {px / 1e3:7.1f} kpx/s{rel}  {cmed:7.3f} CPU s/step  "
              f"{s['batch'] * s['crop'] ** 2 / cmed / 1e3:7.1f} kpx per CPU s")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"base": BASE, "variants": VARIANTS, "step_s": runs, "cpu_s": cpus, "grad_check": extra}, f,
                      indent=1)


if __name__ == "__main__":
    sys.exit(main())
