// conv_params.wgsl: the uniform and weight type shared by both conv kernels
// (conv.wgsl, conv_tiled.wgsl). It comes first in their composed module,
// then the kernel, then one weight snippet (conv_w_*.wgsl).

struct Params {
    ca: u32,      // channels read from in_a
    cb: u32,      // channels read from in_b (0: none; in_b is then a dummy)
    h: u32,       // stored input height (before the fused upsample)
    w: u32,       // stored input width
    cout: u32,
    ho: u32,
    wo: u32,
    k: u32,
    stride: u32,
    pad: u32,
    up: u32,      // 1: nearest-2x upsample fused into the reads
    has_res: u32, // 1: add res to the output
}

struct W8 {
    lo: vec4<f32>, // output channels co0+0..3
    hi: vec4<f32>, // output channels co0+4..7
}

@group(0) @binding(0) var<uniform> p: Params;
