// linear_attention.wgsl: DiffUIR's linear attention core, from q, k, v
// (heads*dh channels each, n pixels) to heads*dh channels, in four entry
// points run in this order with one bind group:
//
//   q_softmax      per (pixel, head): softmax over the dh channels of q, times
//                  scale = dh^-1/2, in place.
//   context        per (8x8 tile of the dh×dh context of a head, chunk of
//                  pixels): the chunk's part of softmax_n(k)·vᵀ. The softmax
//                  of k over all n pixels is folded in (no pass of its own,
//                  k is not rewritten): each chunk takes its own max m_c of
//                  every k row and writes Σ exp(k-m_c)·v and Σ exp(k-m_c),
//                  which context_reduce rescales to the global max. Chunks
//                  keep enough invocations busy at small sizes, no atomics.
//   context_reduce per context entry: the chunk partials rescaled by
//                  exp(m_c - M) and summed, divided by the row's sum, times
//                  1/n, into ctx rows padded to a multiple of 8.
//   output         per (pixel, head, 8 output channels): out = ctxᵀ q.
//
// q is normalised in place: the op may overwrite its input (the graph allows
// it), and the backend binds q, k and v read-write, since unsplit they are
// one buffer. Per-pixel entry points fold their pixel blocks into x and y
// (each within maxComputeWorkgroupsPerDimension); z is the head. Holding
// all dh outputs of a pixel in a register array (fusing the q softmax into
// output) was slower on lavapipe: the runtime-bounded loops over the array
// were not unrolled.

struct Params {
    heads: u32,
    dh: u32,
    n: u32,
    chunk: u32,  // pixels per context chunk
    chunks: u32,
    scale: f32,  // dh^-1/2
    inv_n: f32,  // 1/n (v/n in the reference)
    qoff: u32,   // element offsets of q, k, v in their bindings
    koff: u32,
    voff: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> q: array<f32>;
@group(0) @binding(2) var<storage, read_write> k: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
// [chunk][head][d][e] partial contexts, then [chunk][head][d] (max, sum) pairs
@group(0) @binding(4) var<storage, read_write> part: array<f32>;
@group(0) @binding(5) var<storage, read_write> ctx: array<vec4<f32>>; // [head][d][e/4], rows padded to 8
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(ATTN_WG, 1, 1)
fn q_softmax(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
    let i = (wid.x + wid.y * nwg.x) * ATTN_WG + lid;
    let h = wid.z;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let base = p.qoff + h * p.dh * p.n + i;
    var m = q[base];
    for (var d = 1u; d < p.dh; d++) {
        m = max(m, q[base + d * p.n]);
    }
    var s = 0.0;
    for (var d = 0u; d < p.dh; d++) {
        s += exp(q[base + d * p.n] - m);
    }
    let f = p.scale / s;
    for (var d = 0u; d < p.dh; d++) {
        let idx = base + d * p.n;
        q[idx] = exp(q[idx] - m) * f;
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
    let start = chunk * p.chunk;
    let end = min(p.n, start + p.chunk);
    // The chunk's max of k rows d0..d0+7 (channels past dh read as 0).
    var m0 = vec4<f32>(-3.4e38);
    var m1 = vec4<f32>(-3.4e38);
    for (var i = start; i < end; i++) {
        m0 = max(m0, ld4_k(h, d0, i));
        m1 = max(m1, ld4_k(h, d0 + 4u, i));
    }
    // a[2j], a[2j+1]: context row d0+j, columns e0..e0+3 and e0+4..e0+7.
    var a = array<vec4<f32>, 16>();
    var s0 = vec4<f32>(0.0);
    var s1 = vec4<f32>(0.0);
    for (var i = start; i < end; i++) {
        let k0 = exp(ld4_k(h, d0, i) - m0);
        let k1 = exp(ld4_k(h, d0 + 4u, i) - m1);
        let v0 = ld4_v(h, e0, i);
        let v1 = ld4_v(h, e0 + 4u, i);
        s0 += k0;
        s1 += k1;
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
    let sb = p.chunks * hdd + 2u * (chunk * p.heads * p.dh + h * p.dh + d0);
    for (var j = 0u; j < 8u; j++) {
        if (d0 + j >= p.dh) {
            break;
        }
        for (var e = 0u; e < 8u; e++) {
            if (e0 + e < p.dh) {
                var val = a[2u * j + e / 4u];
                part[ob + j * p.dh + e] = val[e % 4u];
            }
        }
        if (e0 == 0u) { // one e block writes the row's statistics
            var m = m0;
            var s = s0;
            if (j >= 4u) {
                m = m1;
                s = s1;
            }
            part[sb + 2u * j] = m[j % 4u];
            part[sb + 2u * j + 1u] = s[j % 4u];
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
    let stats = p.chunks * hdd + 2u * hd;
    let hdn = 2u * p.heads * p.dh; // stats stride per chunk
    var mx = -3.4e38;
    for (var c = 0u; c < p.chunks; c++) {
        mx = max(mx, part[stats + c * hdn]);
    }
    var sum = 0.0;
    var acc = vec4<f32>(0.0);
    for (var c = 0u; c < p.chunks; c++) {
        let f = exp(part[stats + c * hdn] - mx);
        sum += f * part[stats + c * hdn + 1u];
        let b = c * hdd + hd * p.dh;
        for (var e = 0u; e < 4u; e++) {
            if (e0 + e < p.dh) {
                acc[e] += f * part[b + e0 + e];
            }
        }
    }
    ctx[idx] = acc * (p.inv_n / sum);
}

@compute @workgroup_size(ATTN_WG, 1, 1)
fn output(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lid: u32) {
    let nd8 = (p.dh + 7u) / 8u;
    let i = (wid.x + wid.y * nwg.x) * ATTN_WG + lid;
    let h = wid.z / nd8;
    let e0 = (wid.z % nd8) * 8u;
    if (i >= p.n || h >= p.heads) {
        return;
    }
    let qb = p.qoff + h * p.dh * p.n + i;
    let cb = h * p.dh * 2u * nd8 + e0 / 4u;
    var a0 = vec4<f32>(0.0);
    var a1 = vec4<f32>(0.0);
    for (var d = 0u; d < p.dh; d++) {
        let qd = q[qb + d * p.n];
        let c = cb + d * 2u * nd8;
        a0 += qd * ctx[c];
        a1 += qd * ctx[c + 1u];
    }
    let ob = (h * p.dh + e0) * p.n + i;
    for (var e = 0u; e < 8u; e++) {
        if (e0 + e < p.dh) {
            var val = a0;
            if (e >= 4u) {
                val = a1;
            }
            dst[ob + e * p.n] = val[e % 4u];
        }
    }
}
