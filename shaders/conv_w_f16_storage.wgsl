// conv_w_f16_storage.wgsl: conv weights as packed f16 pairs in a storage
// buffer, for layers too large for a 64 KiB uniform window.

@group(0) @binding(4) var<storage, read> wts: array<vec4<u32>>;

fn load_w8(i: u32) -> W8 {
    let q = wts[i];
    return W8(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)),
              vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
