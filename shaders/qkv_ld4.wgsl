// qkv_ld4.wgsl: 4-channel reads of the q, k and v tensors, composed into
// both attention kernels (linear_attention.wgsl, attention.wgsl), which
// declare the bindings q, k, v (planar C×n f32) and a uniform p with dh, n
// and the element offsets qoff, koff, voff. The three tensors live in
// separate buffers (the GPU backend splits the qkv conv) or in one qkv
// buffer bound three times with offsets 0, heads·dh·n and 2·heads·dh·n.

// ld4_q, ld4_k and ld4_v read channels c0..c0+3 of head h at pixel i, with
// zeros for channels at or beyond dh (dh need not be a multiple of 4; those
// read the last channel, which is in bounds). WGSL cannot pass a storage
// buffer to a function, hence three readers around ld4_at and ld4_mask.
fn ld4_q(h: u32, c0: u32, i: u32) -> vec4<f32> { let j = ld4_at(p.qoff, h, c0, i); return ld4_mask(c0, vec4<f32>(q[j.x], q[j.y], q[j.z], q[j.w])); }
fn ld4_k(h: u32, c0: u32, i: u32) -> vec4<f32> { let j = ld4_at(p.koff, h, c0, i); return ld4_mask(c0, vec4<f32>(k[j.x], k[j.y], k[j.z], k[j.w])); }
fn ld4_v(h: u32, c0: u32, i: u32) -> vec4<f32> { let j = ld4_at(p.voff, h, c0, i); return ld4_mask(c0, vec4<f32>(v[j.x], v[j.y], v[j.z], v[j.w])); }

// ld4_at is the indices of those channels, past off, clamped to dh-1.
fn ld4_at(off: u32, h: u32, c0: u32, i: u32) -> vec4<u32> {
    let c = min(vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(p.dh - 1u));
    return off + (h * p.dh + c) * p.n + i;
}

// ld4_mask zeroes the lanes of x for channels at or beyond dh.
fn ld4_mask(c0: u32, x: vec4<f32>) -> vec4<f32> {
    return select(vec4<f32>(0.0), x, vec4<u32>(c0) + vec4<u32>(0u, 1u, 2u, 3u) < vec4<u32>(p.dh));
}
