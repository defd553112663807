// attention.wgsl: full softmax attention over all n pixels, streamed with an
// online softmax (running max m, running sum l, rescaled output
// accumulator): O(n) memory, the n×n scores never exist. Two entry points
// over the same bindings:
//
//   main   one query per invocation, every invocation reading each key and
//          value from the storage buffers itself (all invocations of a
//          workgroup read the same key at once: broadcasts). No workgroup
//          memory or barriers, which CPU-emulated adapters run faster.
//   tiled  ATTN_TQ queries per workgroup; the keys and values come in tiles
//          of ATTN_TK, loaded once per workgroup into workgroup memory
//          (coalesced: neighbouring invocations load neighbouring pixels of
//          one channel), and the softmax is rescaled once per tile, not per
//          key. The GPU path.
//
// q and the output accumulator live in registers as up to 16 vec4 (dh <= 64;
// the host refuses more). The loops run a constant 16 times with a uniform
// guard, so compilers unroll them and index the arrays with constants.
// Queries are numbered over a grid folded into x and y (the host keeps each
// dimension within maxComputeWorkgroupsPerDimension); z is the head.

struct Params {
    heads: u32,
    dh: u32,
    n: u32,
    scale: f32, // dh^-1/2
    qoff: u32,  // element offsets of q, k, v in their bindings
    koff: u32,
    voff: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> q: array<f32>;
@group(0) @binding(2) var<storage, read> k: array<f32>;
@group(0) @binding(3) var<storage, read> v: array<f32>;
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

const MAXV: u32 = 16u; // vec4s per head vector: dh <= 64

// load_q returns query i of head h times scale, in vec4s (zeros past dh).
fn load_q(h: u32, i: u32) -> array<vec4<f32>, 16> {
    var qv: array<vec4<f32>, 16>;
    for (var c = 0u; c < MAXV; c++) {
        if (4u * c < p.dh) {
            qv[c] = ld4_q(h, 4u * c, i) * p.scale;
        }
    }
    return qv;
}

fn store(h: u32, i: u32, o: ptr<function, array<vec4<f32>, 16>>, inv: f32) {
    let nv = (p.dh + 3u) / 4u;
    for (var c = 0u; c < MAXV; c++) {
        if (c < nv) {
            let val = (*o)[c] * inv;
            for (var e = 0u; e < 4u; e++) {
                let d = 4u * c + e;
                if (d < p.dh) {
                    dst[(h * p.dh + d) * p.n + i] = val[e];
                }
            }
        }
    }
}

@compute @workgroup_size(ATTN_WG, 1, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * ATTN_WG + lid;
    let h = wid.z;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let nv = (p.dh + 3u) / 4u;
    var qv = load_q(h, i);
    var o = array<vec4<f32>, 16>();
    var m = -3.4e38;
    var l = 0.0;
    for (var j = 0u; j < p.n; j++) {
        var s = 0.0;
        for (var c = 0u; c < MAXV; c++) {
            if (c < nv) {
                s += dot(qv[c], ld4_k(h, 4u * c, j));
            }
        }
        let mn = max(m, s);
        let corr = exp(m - mn);
        let pj = exp(s - mn);
        l = l * corr + pj;
        for (var c = 0u; c < MAXV; c++) {
            if (c < nv) {
                o[c] = o[c] * corr + pj * ld4_v(h, 4u * c, j);
            }
        }
        m = mn;
    }
    store(h, i, &o, 1.0 / l);
}

// Key and value tiles: entry j*MAXV + c holds channels 4c..4c+3 of key j.
var<workgroup> kt: array<vec4<f32>, ATTN_TILE_V4>; // ATTN_TK * MAXV
var<workgroup> vt: array<vec4<f32>, ATTN_TILE_V4>;

@compute @workgroup_size(ATTN_TQ, 1, 1)
fn tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * ATTN_TQ + lid;
    let h = wid.z;
    // Queries past n (the last workgroup's overshoot) still load their share
    // of every tile and meet every barrier; they only skip the store.
    let qi = min(i, p.n - 1u);
    let nv = (p.dh + 3u) / 4u;
    var qv = load_q(h, qi);
    var o = array<vec4<f32>, 16>();
    var m = -3.4e38;
    var l = 0.0;
    var s: array<f32, ATTN_TK>;
    for (var j0 = 0u; j0 < p.n; j0 += ATTN_TK) {
        for (var e = lid; e < ATTN_TK * MAXV; e += ATTN_TQ) {
            let j = j0 + e % ATTN_TK;
            let c = e / ATTN_TK;
            var kv = vec4<f32>(0.0);
            var vv = vec4<f32>(0.0);
            if (j < p.n && c < nv) {
                kv = ld4_k(h, 4u * c, j);
                vv = ld4_v(h, 4u * c, j);
            }
            kt[(e % ATTN_TK) * MAXV + c] = kv;
            vt[(e % ATTN_TK) * MAXV + c] = vv;
        }
        workgroupBarrier();
        let cnt = min(ATTN_TK, p.n - j0);
        var mt = m;
        for (var j = 0u; j < ATTN_TK; j++) {
            var d = 0.0;
            for (var c = 0u; c < MAXV; c++) {
                if (c < nv) {
                    d += dot(qv[c], kt[j * MAXV + c]);
                }
            }
            s[j] = select(-3.4e38, d, j < cnt);
            mt = max(mt, s[j]);
        }
        let corr = exp(m - mt);
        l *= corr;
        for (var c = 0u; c < MAXV; c++) {
            o[c] *= corr;
        }
        for (var j = 0u; j < ATTN_TK; j++) {
            let pj = select(0.0, exp(s[j] - mt), j < cnt);
            l += pj;
            for (var c = 0u; c < MAXV; c++) {
                if (c < nv) {
                    o[c] += pj * vt[j * MAXV + c];
                }
            }
        }
        m = mt;
        workgroupBarrier();
    }
    if (i < p.n) {
        store(h, i, &o, 1.0 / l);
    }
}
