// sampler.wgsl: the per-step sampler work kept on the device, so a diffusion
// step uploads only the time vector and a small uniform.
//   pad:    writes channels off..off+2 of the padded UNet input (c×ph×pw)
//           from x (or x_in when from_in != 0), 3×h×w, reflect-padding right
//           and bottom like runtime/ref.Reflect (mirror without edge
//           repetition, period 2n-2; n == 1 maps to 0).
//   update: reads the padded UNet output r at (y, x) for y < h, x < w,
//           clamps it to [-1, 1] and updates x in place like sampler.Update:
//           x = x - alpha*r + delta*x_in, or on the last step
//           x = clamp(x_in - r, -1, 1).
// One invocation per value; a 2-D dispatch covers more than 65535 groups.

struct Params {
    h: u32,
    w: u32,
    ph: u32,
    pw: u32,
    alpha: f32,
    delta: f32,
    last: u32,
    from_in: u32, // pad: read x_in and write channels 3..5
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> x: array<f32>;
@group(0) @binding(2) var<storage, read> xin: array<f32>;
@group(0) @binding(3) var<storage, read_write> net_in: array<f32>;
@group(0) @binding(4) var<storage, read> net_out: array<f32>;

fn reflect_idx(i: u32, n: u32) -> u32 {
    if (n == 1u) {
        return 0u;
    }
    let period = 2u * n - 2u;
    var j = i % period;
    if (j >= n) {
        j = period - j;
    }
    return j;
}

fn flat(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.y * nwg.x * SAMPLER_WG + gid.x;
}

// cyx splits i, an index into planes of h×w, into (channel, row, column).
fn cyx(i: u32, h: u32, w: u32) -> vec3<u32> {
    return vec3<u32>(i / (h * w), i % (h * w) / w, i % w);
}

@compute @workgroup_size(SAMPLER_WG, 1, 1)
fn pad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    let plane = p.ph * p.pw;
    if (i >= 3u * plane) {
        return;
    }
    let at = cyx(i, p.ph, p.pw);
    let src = (at.x * p.h + reflect_idx(at.y, p.h)) * p.w + reflect_idx(at.z, p.w);
    if (p.from_in != 0u) {
        net_in[3u * plane + i] = xin[src];
    } else {
        net_in[i] = x[src];
    }
}

@compute @workgroup_size(SAMPLER_WG, 1, 1)
fn update(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = flat(gid, nwg);
    if (i >= 3u * p.h * p.w) {
        return;
    }
    let at = cyx(i, p.h, p.w);
    let res = clamp(net_out[(at.x * p.ph + at.y) * p.pw + at.z], -1.0, 1.0);
    if (p.last != 0u) {
        x[i] = clamp(xin[i] - res, -1.0, 1.0);
    } else {
        x[i] = x[i] - p.alpha * res + p.delta * xin[i];
    }
}
