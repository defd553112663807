// groupnorm.wgsl: GroupNorm with the time FiLM, SiLU and a residual fused
// into the normalising pass. Three entry points share one bind group:
//
//   stats:    one workgroup per (chunk of a group's values, group): the
//             chunk's mean, then the sum of squared deviations around it (two
//             passes, so no catastrophic cancellation). Chunks keep many
//             workgroups busy: a group can hold millions of values.
//   finalize: one invocation per group: combines its chunks (Chan et al.'s
//             parallel variance) into st[2g], st[2g+1] = mean, 1/std, biased
//             variance as PyTorch.
//   apply:    one invocation per GN_APPLY_PER pixels of a channel:
//          y = (x-mean)/std*gamma + beta; y = y*(scale+1)+shift (FiLM);
//          y = SiLU(y); y += res.

struct Params {
    c: u32,
    n: u32,        // pixels per channel
    groups: u32,
    film: i32,     // offset of the FiLM scale in tvec (shift at film+c); <0: none
    silu: u32,
    has_res: u32,
    eps: f32,
    chunk: u32,  // values per stats chunk
    chunks: u32, // chunks per group
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read> vecs: array<f32>; // gamma[c], then beta[c]
@group(0) @binding(4) var<storage, read> tvec: array<f32>;
@group(0) @binding(5) var<storage, read_write> st: array<f32>; // [2*groups] final, then [groups][chunks][2] partial
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(REDUCE_WG, 1, 1)
fn stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let c = wid.x;
    let g = wid.y;
    let lid = lid3.x;
    let len = (p.c / p.groups) * p.n;
    let start = c * p.chunk;
    let cnt = min(p.chunk, len - start);
    let base = g * len + start;
    var s = 0.0;
    for (var i = lid; i < cnt; i += REDUCE_WG) {
        s += src[base + i];
    }
    let mean = reduce_sum(lid, s) / f32(cnt);
    var q = 0.0;
    for (var i = lid; i < cnt; i += REDUCE_WG) {
        let d = src[base + i] - mean;
        q += d * d;
    }
    let m2 = reduce_sum(lid, q);
    if (lid == 0u) {
        let o = 2u * p.groups + 2u * (g * p.chunks + c);
        st[o] = mean;
        st[o + 1u] = m2;
    }
}

@compute @workgroup_size(GN_FINAL_WG, 1, 1)
fn finalize(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = gid.x;
    if (g >= p.groups) {
        return;
    }
    let len = (p.c / p.groups) * p.n;
    let o = 2u * p.groups + 2u * g * p.chunks;
    var mean = 0.0;
    for (var c = 0u; c < p.chunks; c++) {
        let cnt = min(p.chunk, len - c * p.chunk);
        mean += st[o + 2u * c] * f32(cnt);
    }
    mean /= f32(len);
    var m2 = 0.0;
    for (var c = 0u; c < p.chunks; c++) {
        let cnt = min(p.chunk, len - c * p.chunk);
        let d = st[o + 2u * c] - mean;
        m2 += st[o + 2u * c + 1u] + f32(cnt) * d * d;
    }
    st[2u * g] = mean;
    st[2u * g + 1u] = inverseSqrt(m2 / f32(len) + p.eps);
}

// GN_APPLY_PER values per invocation: the per-channel constants are loaded
// and combined once for all of them, which on CPU-emulated adapters
// (lavapipe, SwiftShader) costs as much as the arithmetic itself.
@compute @workgroup_size(GN_APPLY_WG, 1, 1)
fn apply(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i0 = gid.x * GN_APPLY_PER;
    let ch = gid.y;
    if (i0 >= p.n || ch >= p.c) {
        return;
    }
    let g = ch / (p.c / p.groups);
    // y = x*a + b folds the normalisation, the affine and the FiLM
    var a = st[2u * g + 1u] * vecs[ch];
    var b = vecs[p.c + ch] - st[2u * g] * a;
    if (p.film >= 0) {
        let f = u32(p.film);
        let sc = tvec[f + ch] + 1.0;
        a *= sc;
        b = b * sc + tvec[f + p.c + ch];
    }
    let end = min(i0 + GN_APPLY_PER, p.n);
    for (var i = i0; i < end; i++) {
        let idx = ch * p.n + i;
        var y = src[idx] * a + b;
        if (p.silu != 0u) {
            // min() keeps exp finite; beyond 80 the result is -0 either way.
            y = y / (1.0 + exp(min(-y, 80.0)));
        }
        if (p.has_res != 0u) {
            y += res[idx];
        }
        dst[idx] = y;
    }
}
