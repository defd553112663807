// linear_attention.wgsl: DiffUIR's linear attention core, from qkv
// (q, k, v blocks of heads*dh channels, n pixels) to heads*dh channels, in
// five entry points run in this order with one bind group:
//
//   q_softmax      per (pixel, head): softmax over the dh channels of q, times
//                  scale = dh^-1/2, in place.
//   k_softmax      one workgroup per k channel: softmax over the n pixels, in
//                  place (max, then sum of exp, then normalise).
//   context        per (8x8 tile of the dh×dh context of a head, chunk of
//                  pixels): partial sums of k·vᵀ over the chunk. Splitting n
//                  into chunks keeps enough invocations busy at small sizes
//                  and avoids atomics.
//   context_reduce per context entry: sum of the chunk partials, times 1/n,
//                  into ctx rows padded to a multiple of 8 (zeros after dh).
//   output         per (pixel, head, 8 output channels): out = ctxᵀ q.
//
// The op may overwrite its qkv input (the graph allows it), so q and k are
// normalised in place rather than into scratch memory. Holding all dh
// outputs of a pixel in a register array (fusing the q softmax) was slower
// on lavapipe: the runtime-bounded loops over the array were not unrolled.

struct Params {
    heads: u32,
    dh: u32,
    n: u32,
    chunk: u32,  // pixels per context chunk
    chunks: u32,
    scale: f32,  // dh^-1/2
    inv_n: f32,  // 1/n (v/n in the reference)
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> qkv: array<f32>;
@group(0) @binding(2) var<storage, read_write> part: array<f32>; // [chunk][head][d][e]
@group(0) @binding(3) var<storage, read_write> ctx: array<vec4<f32>>; // [head][d][e/4], rows padded to 8
@group(0) @binding(4) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(ATTN_WG, 1, 1)
fn q_softmax(@builtin(global_invocation_id) gid: vec3<u32>) {
    let i = gid.x;
    let h = gid.y;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let base = h * p.dh * p.n + i;
    var m = qkv[base];
    for (var d = 1u; d < p.dh; d++) {
        m = max(m, qkv[base + d * p.n]);
    }
    var s = 0.0;
    for (var d = 0u; d < p.dh; d++) {
        s += exp(qkv[base + d * p.n] - m);
    }
    let f = p.scale / s;
    for (var d = 0u; d < p.dh; d++) {
        let idx = base + d * p.n;
        qkv[idx] = exp(qkv[idx] - m) * f;
    }
}

@compute @workgroup_size(REDUCE_WG, 1, 1)
fn k_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid3: vec3<u32>) {
    let lid = lid3.x;
    let base = (p.heads * p.dh + wid.x) * p.n;
    var m = -3.4e38;
    for (var i = lid; i < p.n; i += REDUCE_WG) {
        m = max(m, qkv[base + i]);
    }
    m = reduce_max(lid, m);
    var s = 0.0;
    for (var i = lid; i < p.n; i += REDUCE_WG) {
        s += exp(qkv[base + i] - m);
    }
    let inv = 1.0 / reduce_sum(lid, s);
    for (var i = lid; i < p.n; i += REDUCE_WG) {
        qkv[base + i] = exp(qkv[base + i] - m) * inv;
    }
}

@compute @workgroup_size(ATTN_WG, 1, 1)
fn context(@builtin(global_invocation_id) gid: vec3<u32>) {
    let nd8 = (p.dh + 7u) / 8u;
    let t = gid.x;
    let chunk = gid.y;
    if (t >= p.heads * nd8 * nd8 || chunk >= p.chunks) {
        return;
    }
    let h = t / (nd8 * nd8);
    let r = t % (nd8 * nd8);
    let d0 = (r / nd8) * 8u;
    let e0 = (r % nd8) * 8u;
    let hid = p.heads * p.dh;
    let kb = (hid + h * p.dh) * p.n;
    let vb = (2u * hid + h * p.dh) * p.n;
    // a[2j], a[2j+1]: context row d0+j, columns e0..e0+3 and e0+4..e0+7.
    var a = array<vec4<f32>, 16>();
    let end = min(p.n, (chunk + 1u) * p.chunk);
    for (var i = chunk * p.chunk; i < end; i++) {
        let k0 = ld4(kb, d0, i);
        let k1 = ld4(kb, d0 + 4u, i);
        let v0 = ld4(vb, e0, i);
        let v1 = ld4(vb, e0 + 4u, i);
        a[0] += k0.x * v0;
        a[1] += k0.x * v1;
        a[2] += k0.y * v0;
        a[3] += k0.y * v1;
        a[4] += k0.z * v0;
        a[5] += k0.z * v1;
        a[6] += k0.w * v0;
        a[7] += k0.w * v1;
        a[8] += k1.x * v0;
        a[9] += k1.x * v1;
        a[10] += k1.y * v0;
        a[11] += k1.y * v1;
        a[12] += k1.z * v0;
        a[13] += k1.z * v1;
        a[14] += k1.w * v0;
        a[15] += k1.w * v1;
    }
    let hdd = p.heads * p.dh * p.dh;
    let ob = chunk * hdd + (h * p.dh + d0) * p.dh + e0;
    for (var j = 0u; j < 8u; j++) {
        if (d0 + j >= p.dh) {
            break;
        }
        for (var e = 0u; e < 8u; e++) {
            if (e0 + e < p.dh) {
                var v = a[2u * j + e / 4u];
                part[ob + j * p.dh + e] = v[e % 4u];
            }
        }
    }
}

@compute @workgroup_size(ATTN_WG, 1, 1)
fn context_reduce(@builtin(global_invocation_id) gid: vec3<u32>) {
    // One invocation per vec4 of the padded rows: (head, d, 4 columns).
    let nv = 2u * ((p.dh + 7u) / 8u);
    let idx = gid.x;
    if (idx >= p.heads * p.dh * nv) {
        return;
    }
    let hd = idx / nv; // h*dh + d
    let e0 = (idx % nv) * 4u;
    let hdd = p.heads * p.dh * p.dh;
    var s = vec4<f32>(0.0);
    for (var c = 0u; c < p.chunks; c++) {
        let b = c * hdd + hd * p.dh;
        for (var e = 0u; e < 4u; e++) {
            if (e0 + e < p.dh) {
                s[e] += part[b + e0 + e];
            }
        }
    }
    ctx[idx] = s * p.inv_n;
}

@compute @workgroup_size(ATTN_WG, 1, 1)
fn output(@builtin(global_invocation_id) gid: vec3<u32>) {
    let nd8 = (p.dh + 7u) / 8u;
    let i = gid.x;
    let h = gid.y / nd8;
    let e0 = (gid.y % nd8) * 8u;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let qb = h * p.dh * p.n + i;
    let cb = h * p.dh * 2u * nd8 + e0 / 4u;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var d = 0u; d < p.dh; d++) {
        let q = qkv[qb + d * p.n];
        let c = cb + d * 2u * nd8;
        a0 += q * ctx[c];
        a1 += q * ctx[c + 1u];
    }
    let ob = (h * p.dh + e0) * p.n + i;
    for (var e = 0u; e < 8u; e++) {
        if (e0 + e < p.dh) {
            var v = a0;
            if (e >= 4u) {
                v = a1;
            }
            dst[ob + e * p.n] = v[e % 4u];
        }
    }
}
