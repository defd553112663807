// attention.wgsl: full softmax attention over all n pixels, one query per
// invocation, streamed with an online softmax (running max m, running sum l,
// rescaled output accumulator): O(n) memory, the n×n scores never exist.
//
// q and the output accumulator live in registers as up to 16 vec4 (dh <= 64;
// the host refuses more). The loops run a constant 16 times with a uniform
// guard, so compilers unroll them and index the arrays with constants.
// All invocations of a workgroup read the same key at the same time, so the
// k and v loads are broadcasts.

struct Params {
    heads: u32,
    dh: u32,
    n: u32,
    scale: f32, // dh^-1/2
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

const MAXV: u32 = 16u; // vec4s per head vector: dh <= 64

@compute @workgroup_size(ATTN_WG, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let h = gid.y;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let nv = (p.dh + 3u) / 4u;
    let hid = p.heads * p.dh;
    let qb = h * p.dh * p.n;
    let kb = (hid + h * p.dh) * p.n;
    let vb = (2u * hid + h * p.dh) * p.n;
    var q: array<vec4<f32>, 16>;
    var o = array<vec4<f32>, 16>();
    for (var c = 0u; c < MAXV; c++) {
        if (c < nv) {
            q[c] = ld4(qb, 4u * c, i) * p.scale;
        }
        o[c] = vec4<f32>(0.0);
    }
    var m = -3.4e38;
    var l = 0.0;
    for (var j = 0u; j < p.n; j++) {
        var s = 0.0;
        for (var c = 0u; c < MAXV; c++) {
            if (c < nv) {
                s += dot(q[c], ld4(kb, 4u * c, j));
            }
        }
        let mn = max(m, s);
        let corr = exp(m - mn);
        let pj = exp(s - mn);
        l = l * corr + pj;
        for (var c = 0u; c < MAXV; c++) {
            if (c < nv) {
                o[c] = o[c] * corr + pj * ld4(vb, 4u * c, j);
            }
        }
        m = mn;
    }
    let inv = 1.0 / l;
    for (var c = 0u; c < MAXV; c++) {
        if (c < nv) {
            let v = o[c] * inv;
            for (var e = 0u; e < 4u; e++) {
                let d = 4u * c + e;
                if (d < p.dh) {
                    dst[(h * p.dh + d) * p.n + i] = v[e];
                }
            }
        }
    }
}
