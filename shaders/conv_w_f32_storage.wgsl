// conv_w_f32_storage.wgsl: f32 conv weights in a storage buffer.

@group(0) @binding(4) var<storage, read> wts: array<vec4<f32>>;

fn load_w8(i: u32) -> W8 {
    return W8(wts[2u * i], wts[2u * i + 1u]);
}
