// layernorm.wgsl: channel LayerNorm, statistics over the c channels of each
// pixel (biased variance), gain g, no bias, optional residual added after.
// One invocation per pixel; neighbouring invocations read neighbouring
// pixels of each channel plane, so the loads coalesce. Pixel blocks fold
// into x and y (each within maxComputeWorkgroupsPerDimension).

struct Params {
    c: u32,
    n: u32,
    has_res: u32,
    eps: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read> res: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(LN_WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * LN_WG + lid;
    if (i >= p.n) {
        return;
    }
    var s = 0.0;
    for (var c = 0u; c < p.c; c++) {
        s += src[c * p.n + i];
    }
    let mean = s / f32(p.c);
    var q = 0.0;
    for (var c = 0u; c < p.c; c++) {
        let d = src[c * p.n + i] - mean;
        q += d * d;
    }
    let inv = inverseSqrt(q / f32(p.c) + p.eps);
    for (var c = 0u; c < p.c; c++) {
        let idx = c * p.n + i;
        var y = (src[idx] - mean) * inv * g[c];
        if (p.has_res != 0u) {
            y += res[idx];
        }
        dst[idx] = y;
    }
}
