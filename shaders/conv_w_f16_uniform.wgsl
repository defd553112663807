// conv_w_f16_uniform.wgsl: conv weights as packed f16 pairs in a uniform
// buffer (64 KiB window = 4096 entries of 8 channels). Read with
// unpack2x16float, which needs no shader-f16 extension.

@group(0) @binding(4) var<uniform> wts: array<vec4<u32>, 4096>;

fn load_w8(i: u32) -> W8 {
    let q = wts[i];
    return W8(vec4<f32>(unpack2x16float(q.x), unpack2x16float(q.y)),
              vec4<f32>(unpack2x16float(q.z), unpack2x16float(q.w)));
}
