"""Reference PyTorch implementation of the DiffUIR restoration network and sampler.

This is the DiffUIR Web project's own implementation, written against
/work/shared/docs/diffuir-spec.md.  It reproduces the authors' state_dict layout
(parameter names and order) so their Trainer checkpoints load into it directly,
but it is used only to produce parity fixtures and benchmarks for the Go/WebGPU
runtime.  Nothing in the product build or test depends on Python.

Layout summary (keys of a bare UNet state_dict):
    init_conv.{weight,bias}
    time_mlp.{1,3}.{weight,bias}                  (time_mlp.0 = sinusoidal, no params)
    downs.{i}.{0,1}.mlp.1.{weight,bias}           ResnetBlock time projection
    downs.{i}.{0,1}.block{1,2}.proj.{weight,bias} weight-standardised 3x3 conv
    downs.{i}.{0,1}.block{1,2}.norm.{weight,bias} GroupNorm(8)
    downs.{i}.2.fn.fn.to_qkv.weight               Residual(PreNorm(LinearAttention))
    downs.{i}.2.fn.fn.to_out.0.{weight,bias}
    downs.{i}.2.fn.fn.to_out.1.g
    downs.{i}.2.fn.norm.g
    downs.{i}.3.{weight,bias}                     Downsample 4x4/s2 (last level: 3x3)
    ups.{j}.{0,1}.res_conv.{weight,bias}          (plus mlp/block1/block2 as above)
    ups.{j}.3.1.{weight,bias}                     Upsample conv (j<last); ups.{last}.3.*
    mid_block1.*, mid_attn.fn.fn.to_qkv.weight, mid_attn.fn.fn.to_out.{weight,bias},
    mid_attn.fn.norm.g, mid_block2.*, final_res_block.*, final_conv.*

A Trainer checkpoint nests this as model.unet0.<key> inside `Holder`.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {
    # name: (dim, dim_mults, exact parameter count)
    "tiny": (32, (1, 1, 1, 1), 886_435),
    "small": (32, (1, 2, 2, 4), 3_268_643),
    "base": (64, (1, 2, 2, 4), 12_406_851),
    "large": (64, (1, 2, 4, 8), 36_261_187),
}

NUM_TIMESTEPS = 1000
DELTA_END = 1.8e-3
SUM_SCALE = 0.01  # variance of the initial noise added to (1 - delta_cumsum[-1]) * x_in

SCHEDULE_BUFFERS = (
    "alphas", "alphas_cumsum", "delta", "delta_cumsum", "one_minus_alphas_cumsum",
    "betas2", "betas", "betas2_cumsum", "betas_cumsum",
    "posterior_mean_coef1", "posterior_mean_coef2", "posterior_mean_coef3",
    "posterior_variance", "posterior_log_variance_clipped",
)


# --------------------------------------------------------------------------------------
# building blocks
# --------------------------------------------------------------------------------------

def _eps_for(t):
    # the authors use 1e-5 for float32 and 1e-3 for lower precision
    return 1e-5 if t.dtype == torch.float32 else 1e-3


class TimeSinusoid(nn.Module):
    """Sinusoidal embedding of a scalar time: [sin(t*f_i), cos(t*f_i)], f_i = 10000^(-i/(half-1))."""

    def __init__(self, width):
        super().__init__()
        self.width = width

    def forward(self, t):
        half = self.width // 2
        step = math.log(10000.0) / (half - 1)
        freqs = torch.exp(torch.arange(half, device=t.device) * -step)
        arg = t[:, None] * freqs[None, :]
        return torch.cat([arg.sin(), arg.cos()], dim=-1)


class WSConv2d(nn.Conv2d):
    """Conv2d whose kernel is standardised per output channel before use."""

    def standardized_weight(self):
        w = self.weight
        mu = w.mean(dim=(1, 2, 3), keepdim=True)
        var = w.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        return (w - mu) * (var + _eps_for(w)).rsqrt()

    def forward(self, x):
        return F.conv2d(x, self.standardized_weight(), self.bias, self.stride, self.padding)


class ChannelNorm(nn.Module):
    """LayerNorm across channels of an NCHW tensor, gain only (key: g, shape (1,C,1,1)).

    eps None follows the authors' rule (by the activations' dtype), so a net
    trained under half-precision autocast learns 1e-3 and would run with 1e-5
    in float32: set_norm_eps pins it to the value the weights were trained with."""

    def __init__(self, ch):
        super().__init__()
        self.g = nn.Parameter(torch.ones(1, ch, 1, 1))
        self.eps = None

    def forward(self, x):
        var = x.var(dim=1, unbiased=False, keepdim=True)
        mu = x.mean(dim=1, keepdim=True)
        eps = _eps_for(x) if self.eps is None else self.eps
        return (x - mu) * (var + eps).rsqrt() * self.g


def set_norm_eps(net, eps):
    """Pins every ChannelNorm's epsilon (None: back to the dtype rule)."""
    for m in net.modules():
        if isinstance(m, ChannelNorm):
            m.eps = eps


class NormThen(nn.Module):
    """norm, then fn.  Attribute names fn/norm give keys *.fn.* and *.norm.g."""

    def __init__(self, ch, fn):
        super().__init__()
        self.fn = fn
        self.norm = ChannelNorm(ch)

    def forward(self, x):
        return self.fn(self.norm(x))


class AddInput(nn.Module):
    """x + fn(x).  Attribute name fn."""

    def __init__(self, fn):
        super().__init__()
        self.fn = fn

    def forward(self, x):
        return self.fn(x) + x


class ConvNormAct(nn.Module):
    """WS-conv 3x3 -> GroupNorm(8) -> optional FiLM (x*(scale+1)+shift) -> SiLU."""

    def __init__(self, cin, cout, groups=8):
        super().__init__()
        self.proj = WSConv2d(cin, cout, 3, padding=1)
        self.norm = nn.GroupNorm(groups, cout)
        self.act = nn.SiLU()

    def forward(self, x, film=None):
        y = self.norm(self.proj(x))
        if film is not None:
            scale, shift = film
            y = y * (scale + 1) + shift
        return self.act(y)


class ResBlock(nn.Module):
    def __init__(self, cin, cout, temb_dim, groups=8):
        super().__init__()
        self.mlp = nn.Sequential(nn.SiLU(), nn.Linear(temb_dim, 2 * cout))
        self.block1 = ConvNormAct(cin, cout, groups)
        self.block2 = ConvNormAct(cout, cout, groups)
        self.res_conv = nn.Conv2d(cin, cout, 1) if cin != cout else nn.Identity()

    def forward(self, x, temb):
        ss = self.mlp(temb)[:, :, None, None]
        scale, shift = ss.chunk(2, dim=1)
        h = self.block1(x, (scale, shift))
        h = self.block2(h)
        return h + self.res_conv(x)


def _heads_split(t, heads):
    # (b, heads*c, H, W) -> (b, heads, c, H*W)
    b, hc, hh, ww = t.shape
    return t.reshape(b, heads, hc // heads, hh * ww)


class LinAttn(nn.Module):
    """Linear attention: softmax(q) over channels, softmax(k) over pixels."""

    def __init__(self, ch, heads=4, dim_head=32):
        super().__init__()
        self.heads = heads
        self.scale = dim_head ** -0.5
        inner = heads * dim_head
        self.to_qkv = nn.Conv2d(ch, inner * 3, 1, bias=False)
        self.to_out = nn.Sequential(nn.Conv2d(inner, ch, 1), ChannelNorm(ch))

    def forward(self, x):
        b, _, hh, ww = x.shape
        q, k, v = (_heads_split(t, self.heads) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q.softmax(dim=-2) * self.scale
        k = k.softmax(dim=-1)
        v = v / (hh * ww)
        ctx = torch.matmul(k, v.transpose(-1, -2))        # (b, h, d, e) = sum_n k[d,n] v[e,n]
        out = torch.matmul(ctx.transpose(-1, -2), q)      # (b, h, e, n) = sum_d ctx[d,e] q[d,n]
        out = out.reshape(b, -1, hh, ww)
        return self.to_out(out)


class FullAttn(nn.Module):
    """Softmax attention over all pixels (used only at the bottleneck)."""

    def __init__(self, ch, heads=4, dim_head=32):
        super().__init__()
        self.heads = heads
        self.scale = dim_head ** -0.5
        inner = heads * dim_head
        self.to_qkv = nn.Conv2d(ch, inner * 3, 1, bias=False)
        self.to_out = nn.Conv2d(inner, ch, 1)

    def forward(self, x):
        b, _, hh, ww = x.shape
        q, k, v = (_heads_split(t, self.heads) for t in self.to_qkv(x).chunk(3, dim=1))
        q = q * self.scale
        scores = torch.matmul(q.transpose(-1, -2), k)     # (b, h, i, j)
        probs = scores.softmax(dim=-1)
        out = torch.matmul(probs, v.transpose(-1, -2))    # (b, h, i, d)
        out = out.permute(0, 1, 3, 2).reshape(b, -1, hh, ww)
        return self.to_out(out)


class Up2(nn.Sequential):
    """nearest x2 then 3x3 conv (keys *.1.weight/bias)."""

    def __init__(self, cin, cout):
        super().__init__(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, padding=1))


# --------------------------------------------------------------------------------------
# UNet
# --------------------------------------------------------------------------------------

class DiffUIRUNet(nn.Module):
    def __init__(self, dim=32, dim_mults=(1, 1, 1, 1), in_ch=6, out_ch=3, groups=8):
        super().__init__()
        self.dim = dim
        self.dim_mults = tuple(dim_mults)
        self.depth = len(dim_mults)
        temb = 4 * dim
        chans = [dim] + [dim * m for m in dim_mults]
        pairs = list(zip(chans[:-1], chans[1:]))

        # registration order matches the authors' (and therefore their state_dict order)
        self.init_conv = nn.Conv2d(in_ch, dim, 7, padding=3)
        self.time_mlp = nn.Sequential(TimeSinusoid(dim), nn.Linear(dim, temb), nn.GELU(), nn.Linear(temb, temb))
        self.downs = nn.ModuleList()
        self.ups = nn.ModuleList()
        n = len(pairs)
        for i, (cin, cout) in enumerate(pairs):
            last = i == n - 1
            self.downs.append(nn.ModuleList([
                ResBlock(cin, cin, temb, groups),
                ResBlock(cin, cin, temb, groups),
                AddInput(NormThen(cin, LinAttn(cin))),
                nn.Conv2d(cin, cout, 3, padding=1) if last else nn.Conv2d(cin, cout, 4, 2, 1),
            ]))
        mid = chans[-1]
        self.mid_block1 = ResBlock(mid, mid, temb, groups)
        self.mid_attn = AddInput(NormThen(mid, FullAttn(mid)))
        self.mid_block2 = ResBlock(mid, mid, temb, groups)
        for j, (cin, cout) in enumerate(reversed(pairs)):
            last = j == n - 1
            self.ups.append(nn.ModuleList([
                ResBlock(cout + cin, cout, temb, groups),
                ResBlock(cout + cin, cout, temb, groups),
                AddInput(NormThen(cout, LinAttn(cout))),
                nn.Conv2d(cout, cin, 3, padding=1) if last else Up2(cout, cin),
            ]))
        self.final_res_block = ResBlock(2 * dim, dim, temb, groups)
        self.final_conv = nn.Conv2d(dim, out_ch, 1)

    @property
    def multiple(self):
        return 2 ** self.depth

    def pad_to_multiple(self, x):
        """Reflect-pad right/bottom so H and W are multiples of 2**depth (authors: check_image_size)."""
        m = self.multiple
        hh, ww = x.shape[-2:]
        ph = (m - hh % m) % m
        pw = (m - ww % m) % m
        if ph == 0 and pw == 0:
            return x
        return F.pad(x, (0, pw, 0, ph), mode="reflect")

    def forward(self, x, time, record=None):
        """x: (B,6,H,W) = cat(x_t, x_in); time: (B,) float network time input.

        record: optional dict; when given, per-layer outputs are stored into it
        (batch index 0, detached clones) under the fixture names.
        """
        def rec(name, t):
            if record is not None:
                record[name] = t[0].detach().clone()

        hh, ww = x.shape[-2:]
        x = self.pad_to_multiple(x)
        rec("unet_in", x)
        x = self.init_conv(x)
        rec("init_conv", x)
        first = x
        temb = self.time_mlp(time)
        rec("time_emb", temb)

        skips = []
        for i, (rb1, rb2, attn, down) in enumerate(self.downs):
            x = rb1(x, temb)
            rec(f"downs.{i}.0", x)
            skips.append(x)
            x = rb2(x, temb)
            rec(f"downs.{i}.1", x)
            x = attn(x)
            rec(f"downs.{i}.2", x)
            skips.append(x)
            x = down(x)
            rec(f"downs.{i}.3", x)

        x = self.mid_block1(x, temb)
        rec("mid_block1", x)
        x = self.mid_attn(x)
        rec("mid_attn", x)
        x = self.mid_block2(x, temb)
        rec("mid_block2", x)

        for j, (rb1, rb2, attn, up) in enumerate(self.ups):
            x = rb1(torch.cat([x, skips.pop()], dim=1), temb)
            rec(f"ups.{j}.0", x)
            x = rb2(torch.cat([x, skips.pop()], dim=1), temb)
            rec(f"ups.{j}.1", x)
            x = attn(x)
            rec(f"ups.{j}.2", x)
            x = up(x)
            rec(f"ups.{j}.3", x)

        x = self.final_res_block(torch.cat([x, first], dim=1), temb)
        rec("final_res_block", x)
        x = self.final_conv(x)
        rec("final_conv", x)
        return x[..., :hh, :ww].contiguous()


def build_unet(size):
    dim, mults, expected = SIZES[size]
    net = DiffUIRUNet(dim, mults)
    count = sum(p.numel() for p in net.parameters())
    assert count == expected, f"{size}: {count} parameters, expected {expected}"
    return net


# --------------------------------------------------------------------------------------
# schedules
# --------------------------------------------------------------------------------------

def make_schedules(timesteps=NUM_TIMESTEPS, delta_end=DELTA_END):
    """The 14 float32 schedule buffers, with the values the authors register at construction."""
    f32 = torch.float32
    betas_lin = torch.linspace(1e-4, 0.02, timesteps, dtype=f32)
    delta = torch.linspace(1e-6, delta_end, timesteps, dtype=f32)
    delta_cumsum = delta.cumsum(dim=0).clip(0, 1)

    acp = torch.cumprod(1.0 - betas_lin, dim=0)
    alphas_cumsum = 1 - acp ** 0.5            # alpha-bar_t
    betas2_cumsum = 1 - acp                   # beta-bar_t ^ 2
    alphas_cumsum_prev = torch.cat([torch.ones(1, dtype=f32), alphas_cumsum[:-1]])
    betas2_cumsum_prev = torch.cat([torch.ones(1, dtype=f32), betas2_cumsum[:-1]])
    alphas = alphas_cumsum - alphas_cumsum_prev
    alphas[0] = 0
    betas2 = betas2_cumsum - betas2_cumsum_prev
    betas2[0] = 0
    betas_cumsum = torch.sqrt(betas2_cumsum)
    post_var = betas2 * betas2_cumsum_prev / betas2_cumsum
    post_var[0] = 0

    s = {
        "alphas": alphas,
        "alphas_cumsum": alphas_cumsum,
        "delta": delta,
        "delta_cumsum": delta_cumsum,
        "one_minus_alphas_cumsum": 1 - alphas_cumsum,
        "betas2": betas2,
        "betas": torch.sqrt(betas2),
        "betas2_cumsum": betas2_cumsum,
        "betas_cumsum": betas_cumsum,
        "posterior_mean_coef1": betas2_cumsum_prev / betas2_cumsum,
        "posterior_mean_coef2": (betas2 * alphas_cumsum_prev - betas2_cumsum_prev * alphas) / betas2_cumsum,
        "posterior_mean_coef3": betas2 / betas2_cumsum,
        "posterior_variance": post_var,
        "posterior_log_variance_clipped": torch.log(post_var.clamp(min=1e-20)),
    }
    s["posterior_mean_coef1"][0] = 0
    s["posterior_mean_coef2"][0] = 0
    s["posterior_mean_coef3"][0] = 1
    s["one_minus_alphas_cumsum"][-1] = 1e-6
    assert tuple(s) == SCHEDULE_BUFFERS
    return {k: v.to(f32).contiguous() for k, v in s.items()}


def time_pairs(steps, timesteps=NUM_TIMESTEPS):
    """[(t, t_next), ...] from a float32 linspace(-1, T-1, steps+1), truncated toward zero, reversed."""
    ts = torch.linspace(-1, timesteps - 1, steps=steps + 1).int().tolist()
    ts = list(reversed(ts))
    return list(zip(ts[:-1], ts[1:]))


# --------------------------------------------------------------------------------------
# checkpoint-shaped holders
# --------------------------------------------------------------------------------------

class UNetSlot(nn.Module):
    """Holds the network as attribute unet0 (keys unet0.<key>)."""

    def __init__(self, unet):
        super().__init__()
        self.unet0 = unet


class Holder(nn.Module):
    """ResidualDiffusion-shaped holder: 14 schedule buffers + model.unet0.<key>."""

    def __init__(self, unet, schedules=None):
        super().__init__()
        self.model = UNetSlot(unet)
        sched = schedules if schedules is not None else make_schedules()
        for name in SCHEDULE_BUFFERS:
            self.register_buffer(name, sched[name].clone())

    @property
    def unet(self):
        return self.model.unet0


# --------------------------------------------------------------------------------------
# sampler
# --------------------------------------------------------------------------------------

@torch.no_grad()
def restore(unet, x_in, steps=3, noise=None, record=None, record_pass=0, schedules=None, trace=None):
    """DDIM (eta=0) pred_res restoration without gradients: see sample."""
    return sample(unet, x_in, steps, noise, record, record_pass, schedules, trace)


def sample(unet, x_in, steps=3, noise=None, record=None, record_pass=0, schedules=None, trace=None):
    """DDIM (eta=0) pred_res restoration; differentiable, so training can go through it.

    x_in:   (B,3,H,W) degraded image in [-1,1].
    noise:  tensor shaped like x_in, or None for zeros (deterministic).
    record: dict receiving per-layer activations of pass `record_pass`.
    trace:  optional dict receiving step{k}.t / step{k}.r / step{k}.x (batch index 0).
    Returns the final x (in [-1,1]).
    """
    s = schedules if schedules is not None else make_schedules()
    ac, dc = s["alphas_cumsum"], s["delta_cumsum"]
    x = (1 - dc[-1]) * x_in
    if noise is not None:
        x = x + math.sqrt(SUM_SCALE) * noise
    b = x_in.shape[0]
    for k, (t, t_next) in enumerate(time_pairs(steps)):
        tt = torch.full((b,), t, dtype=torch.long, device=ac.device)
        tin = ac[tt] * NUM_TIMESTEPS
        r = unet(torch.cat([x, x_in], dim=1), tin, record=record if k == record_pass else None)
        r = r.clamp(-1.0, 1.0)
        if t_next < 0:
            x = (x_in - r).clamp(-1.0, 1.0)
        else:
            a = ac[t] - ac[t_next]
            d = dc[t] - dc[t_next]
            x = x - a * r + d * x_in
        if trace is not None:
            trace[f"step{k}.t"] = tin[:1].clone()
            trace[f"step{k}.r"] = r[0].clone()
            trace[f"step{k}.x"] = x[0].clone()
        if t_next < 0:
            break
    return x


def to_unit(x):
    """[-1,1] -> [0,1], clamped."""
    return ((x + 1) * 0.5).clamp(0.0, 1.0)


# --------------------------------------------------------------------------------------
# compressible deterministic random weights
# --------------------------------------------------------------------------------------

_INT_STD = math.sqrt((31 * 32) / 3.0)  # std of uniform integers in [-31, 31]


def _dyadic(shape, target_std, gen):
    """randint(-31..31) * 2^-e, e chosen so the std is close to target_std."""
    e = int(round(math.log2(_INT_STD / target_std)))
    k = torch.randint(-31, 32, shape, generator=gen, dtype=torch.int64)
    return k.to(torch.float32) * (2.0 ** -e)


@torch.no_grad()
def init_compressible_(unet, seed):
    """Deterministically fill every parameter with few-bit values (gzip-friendly).

    Conv/linear weights: std ~ 1/sqrt(fan_in) (final_conv: 1/8 of that, so that only a
    few percent of the output reaches the [-1,1] clamp); biases: std ~ 0.5/sqrt(fan_in);
    GroupNorm weight and LayerNorm g: 1 + k/32, |k| <= 8; GroupNorm bias: k/64.
    """
    gen = torch.Generator().manual_seed(seed)
    params = dict(unet.named_parameters())
    for name, p in params.items():
        leaf = name.rsplit(".", 1)[-1]
        if name.endswith(".g") or (".norm." in name and leaf == "weight"):
            v = 1.0 + torch.randint(-8, 9, p.shape, generator=gen).to(torch.float32) / 32.0
        elif ".norm." in name and leaf == "bias":
            v = torch.randint(-8, 9, p.shape, generator=gen).to(torch.float32) / 64.0
        elif leaf == "weight":
            fan_in = p[0].numel()
            std = 1.0 / math.sqrt(fan_in)
            if name.startswith("final_conv."):
                std *= 0.125
            v = _dyadic(p.shape, std, gen)
        elif leaf == "bias":
            owner = name[: -len(".bias")]
            w = params[owner + ".weight"]
            v = _dyadic(p.shape, 0.5 / math.sqrt(w[0].numel()), gen)
        else:
            raise ValueError(f"unhandled parameter {name}")
        p.copy_(v)
    return unet
