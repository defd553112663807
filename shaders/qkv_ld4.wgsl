// qkv_ld4.wgsl: a 4-channel read of a qkv tensor, composed into both
// attention kernels (linear_attention.wgsl, attention.wgsl), which declare
// `qkv` (planar C×n f32) and a uniform p with dh and n.

// ld4 reads channels c0..c0+3 of pixel i from the block starting at base,
// with zeros for channels at or beyond dh (dh need not be a multiple of 4).
fn ld4(base: u32, c0: u32, i: u32) -> vec4<f32> {
    let last = p.dh - 1u;
    return vec4<f32>(
        select(0.0, qkv[base + min(c0, last) * p.n + i], c0 < p.dh),
        select(0.0, qkv[base + min(c0 + 1u, last) * p.n + i], c0 + 1u < p.dh),
        select(0.0, qkv[base + min(c0 + 2u, last) * p.n + i], c0 + 2u < p.dh),
        select(0.0, qkv[base + min(c0 + 3u, last) * p.n + i], c0 + 3u < p.dh));
}
