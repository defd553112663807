// conv_w_f32_uniform.wgsl: f32 conv weights in a uniform buffer (64 KiB
// window = 2048 entries of 8 channels).

@group(0) @binding(4) var<uniform> wts: array<vec4<f32>, 4096>;

fn load_w8(i: u32) -> W8 {
    return W8(wts[2u * i], wts[2u * i + 1u]);
}
