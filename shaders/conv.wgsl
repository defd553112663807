// conv.wgsl: 2-D convolution over cat(in_a, in_b), register-blocked.
//
// Each invocation computes PX = 8 neighbouring output pixels of one row for
// CO = 8 output channels (64 accumulators in registers) and reads no
// workgroup memory: on CPU-emulated adapters (lavapipe, SwiftShader) that
// was about 4x faster than shared-memory tiling. The weights of one
// invocation's 8 channels are contiguous (the host repacks them as
// [co/8][ci][ky][kx][8]) and are the same for a whole workgroup, so they
// come from the uniform/constant cache on real GPUs.
//
// Entry points (the host picks one per layer; all read shapes from p):
//   main3  3x3, stride 1: loads the 10 input columns of a row once and
//          slides the 3 taps over them in registers (10 loads per row
//          instead of 24; on lavapipe each is a gather): ~1.7x faster.
//   main1  1x1, stride 1: no tap loops.
//   main   any k and stride (7x7 init conv, 4x4 stride-2 downsamples).
// Branching on p.k inside one entry point instead was slower on lavapipe:
// it cannot tell the branch is uniform.
//
// Fused: bias, a residual (same shape as the output), the channel concat of
// two inputs (in_b holds channels ca..ca+cb-1), a nearest-2x upsample of the
// input (up = 1: reads at (y>>1, x>>1) of an h×w input seen as 2h×2w), any
// stride and zero padding. Shapes come from the uniform p.
//
// Composed as conv_params.wgsl (Params, W8, binding 0) + this file + one
// weight snippet (conv_w_*.wgsl), which declares binding 4 and
// `fn load_w8(i: u32) -> W8`, the 8 channel weights of entry i.

// Inputs are read as vec4 so aligned rows take 16-byte loads (the host
// sizes activation buffers to multiples of 16 bytes).
@group(0) @binding(1) var<storage, read> in_a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> in_b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> res: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<vec4<f32>>;

const PX: u32 = 8u;

// acc[2*j] holds pixels 0..3 and acc[2*j+1] pixels 4..7 of channel co0+j.
// Only constant indices are used, so compilers keep it in registers.
var<private> acc: array<vec4<f32>, 16>;

fn fma8(wt: W8, x0: vec4<f32>, x1: vec4<f32>) {
    acc[0] += wt.lo.x * x0;
    acc[1] += wt.lo.x * x1;
    acc[2] += wt.lo.y * x0;
    acc[3] += wt.lo.y * x1;
    acc[4] += wt.lo.z * x0;
    acc[5] += wt.lo.z * x1;
    acc[6] += wt.lo.w * x0;
    acc[7] += wt.lo.w * x1;
    acc[8] += wt.hi.x * x0;
    acc[9] += wt.hi.x * x1;
    acc[10] += wt.hi.y * x0;
    acc[11] += wt.hi.y * x1;
    acc[12] += wt.hi.z * x0;
    acc[13] += wt.hi.z * x1;
    acc[14] += wt.hi.w * x0;
    acc[15] += wt.hi.w * x1;
}

// One input value at (effective) column ix of a row, 0 outside the image.
// The index is clamped so that the load itself is always in bounds.
fn ld_a(row: u32, ix: i32, wi: i32) -> f32 {
    let c = u32(clamp(ix, 0, wi - 1)) >> p.up;
    let i = row + c;
    return select(0.0, in_a[i >> 2u][i & 3u], ix >= 0 && ix < wi);
}

fn ld_b(row: u32, ix: i32, wi: i32) -> f32 {
    let c = u32(clamp(ix, 0, wi - 1)) >> p.up;
    let i = row + c;
    return select(0.0, in_b[i >> 2u][i & 3u], ix >= 0 && ix < wi);
}

fn put(j: u32, lo: vec4<f32>, hi: vec4<f32>, ox0: u32, oy: u32, co0: u32) {
    let co = co0 + j;
    if (co >= p.cout) {
        return;
    }
    let b = vec4<f32>(bias[co]);
    let base = (co * p.ho + oy) * p.wo + ox0;
    if ((p.wo & 7u) == 0u) {
        // Whole, aligned 8-pixel run: two vec4 stores (8 scalar ones are
        // the bottleneck of 1x1 convs on lavapipe).
        let q = base >> 2u;
        var v0 = lo + b;
        var v1 = hi + b;
        if (p.has_res != 0u) {
            v0 += res[q];
            v1 += res[q + 1u];
        }
        dst[q] = v0;
        dst[q + 1u] = v1;
        return;
    }
    let n = min(PX, p.wo - ox0);
    for (var i = 0u; i < n; i++) {
        var v = b.x;
        if (i < 4u) {
            v += lo[i];
        } else {
            v += hi[i - 4u];
        }
        let k = base + i;
        if (p.has_res != 0u) {
            v += res[k >> 2u][k & 3u];
        }
        dst[k >> 2u][k & 3u] = v;
    }
}

// rows3: 3x3 stride 1; px1: 1x1 stride 1; taps: generic. The _b versions
// read the channels of in_b (ca..ca+cb-1), with their weights after in_a's.

fn rows3_a(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    let plane = p.h * p.w;
    for (var ci = 0u; ci < p.ca; ci++) {
        for (var ky = 0u; ky < 3u; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= hi) {
                continue;
            }
            let row = ci * plane + (u32(iy) >> p.up) * p.w;
            let v0 = ld_a(row, x0, wi);
            let v1 = ld_a(row, x0 + 1, wi);
            let v2 = ld_a(row, x0 + 2, wi);
            let v3 = ld_a(row, x0 + 3, wi);
            let v4 = ld_a(row, x0 + 4, wi);
            let v5 = ld_a(row, x0 + 5, wi);
            let v6 = ld_a(row, x0 + 6, wi);
            let v7 = ld_a(row, x0 + 7, wi);
            let v8 = ld_a(row, x0 + 8, wi);
            let v9 = ld_a(row, x0 + 9, wi);
            let wrow = ((cb * cin + ci) * 3u + ky) * 3u;
            fma8(load_w8(wrow), vec4<f32>(v0, v1, v2, v3), vec4<f32>(v4, v5, v6, v7));
            fma8(load_w8(wrow + 1u), vec4<f32>(v1, v2, v3, v4), vec4<f32>(v5, v6, v7, v8));
            fma8(load_w8(wrow + 2u), vec4<f32>(v2, v3, v4, v5), vec4<f32>(v6, v7, v8, v9));
        }
    }
}

fn px1_a(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    if (y0 < 0 || y0 >= hi) {
        return;
    }
    let plane = p.h * p.w;
    let rowoff = (u32(y0) >> p.up) * p.w;
    for (var ci = 0u; ci < p.ca; ci++) {
        let row = ci * plane + rowoff;
        let x0v = vec4<f32>(ld_a(row, x0, wi), ld_a(row, x0 + 1, wi), ld_a(row, x0 + 2, wi), ld_a(row, x0 + 3, wi));
        let x1v = vec4<f32>(ld_a(row, x0 + 4, wi), ld_a(row, x0 + 5, wi), ld_a(row, x0 + 6, wi), ld_a(row, x0 + 7, wi));
        fma8(load_w8(cb * cin + ci), x0v, x1v);
    }
}

fn taps_a(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    let k = p.k;
    let s = i32(p.stride);
    let plane = p.h * p.w;
    for (var ci = 0u; ci < p.ca; ci++) {
        for (var ky = 0u; ky < k; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= hi) {
                continue;
            }
            let row = ci * plane + (u32(iy) >> p.up) * p.w;
            let wrow = ((cb * cin + ci) * k + ky) * k;
            for (var kx = 0u; kx < k; kx++) {
                let bx = x0 + i32(kx);
                let x0v = vec4<f32>(ld_a(row, bx, wi), ld_a(row, bx + s, wi), ld_a(row, bx + 2 * s, wi), ld_a(row, bx + 3 * s, wi));
                let x1v = vec4<f32>(ld_a(row, bx + 4 * s, wi), ld_a(row, bx + 5 * s, wi), ld_a(row, bx + 6 * s, wi), ld_a(row, bx + 7 * s, wi));
                fma8(load_w8(wrow + kx), x0v, x1v);
            }
        }
    }
}

fn rows3_b(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    let plane = p.h * p.w;
    for (var cj = 0u; cj < p.cb; cj++) {
        let ci = p.ca + cj;
        for (var ky = 0u; ky < 3u; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= hi) {
                continue;
            }
            let row = cj * plane + (u32(iy) >> p.up) * p.w;
            let v0 = ld_b(row, x0, wi);
            let v1 = ld_b(row, x0 + 1, wi);
            let v2 = ld_b(row, x0 + 2, wi);
            let v3 = ld_b(row, x0 + 3, wi);
            let v4 = ld_b(row, x0 + 4, wi);
            let v5 = ld_b(row, x0 + 5, wi);
            let v6 = ld_b(row, x0 + 6, wi);
            let v7 = ld_b(row, x0 + 7, wi);
            let v8 = ld_b(row, x0 + 8, wi);
            let v9 = ld_b(row, x0 + 9, wi);
            let wrow = ((cb * cin + ci) * 3u + ky) * 3u;
            fma8(load_w8(wrow), vec4<f32>(v0, v1, v2, v3), vec4<f32>(v4, v5, v6, v7));
            fma8(load_w8(wrow + 1u), vec4<f32>(v1, v2, v3, v4), vec4<f32>(v5, v6, v7, v8));
            fma8(load_w8(wrow + 2u), vec4<f32>(v2, v3, v4, v5), vec4<f32>(v6, v7, v8, v9));
        }
    }
}

fn px1_b(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    if (y0 < 0 || y0 >= hi) {
        return;
    }
    let plane = p.h * p.w;
    let rowoff = (u32(y0) >> p.up) * p.w;
    for (var cj = 0u; cj < p.cb; cj++) {
        let ci = p.ca + cj;
        let row = cj * plane + rowoff;
        let x0v = vec4<f32>(ld_b(row, x0, wi), ld_b(row, x0 + 1, wi), ld_b(row, x0 + 2, wi), ld_b(row, x0 + 3, wi));
        let x1v = vec4<f32>(ld_b(row, x0 + 4, wi), ld_b(row, x0 + 5, wi), ld_b(row, x0 + 6, wi), ld_b(row, x0 + 7, wi));
        fma8(load_w8(cb * cin + ci), x0v, x1v);
    }
}

fn taps_b(cb: u32, cin: u32, y0: i32, x0: i32, hi: i32, wi: i32) {
    let k = p.k;
    let s = i32(p.stride);
    let plane = p.h * p.w;
    for (var cj = 0u; cj < p.cb; cj++) {
        let ci = p.ca + cj;
        for (var ky = 0u; ky < k; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= hi) {
                continue;
            }
            let row = cj * plane + (u32(iy) >> p.up) * p.w;
            let wrow = ((cb * cin + ci) * k + ky) * k;
            for (var kx = 0u; kx < k; kx++) {
                let bx = x0 + i32(kx);
                let x0v = vec4<f32>(ld_b(row, bx, wi), ld_b(row, bx + s, wi), ld_b(row, bx + 2 * s, wi), ld_b(row, bx + 3 * s, wi));
                let x1v = vec4<f32>(ld_b(row, bx + 4 * s, wi), ld_b(row, bx + 5 * s, wi), ld_b(row, bx + 6 * s, wi), ld_b(row, bx + 7 * s, wi));
                fma8(load_w8(wrow + kx), x0v, x1v);
            }
        }
    }
}


// rows3v_a: rows3_a for rows of a multiple of 8 pixels, pad 1, no
// upsample: the 8 centre columns are two aligned vec4 loads.
fn rows3v_a(cb: u32, cin: u32, y0: i32, ox0: u32) {
    let plane = p.h * p.w;
    let wi = i32(p.w);
    for (var ci = 0u; ci < p.ca; ci++) {
        for (var ky = 0u; ky < 3u; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= i32(p.h)) {
                continue;
            }
            let row = ci * plane + u32(iy) * p.w;
            let q = (row + ox0) >> 2u;
            let a = in_a[q];
            let b = in_a[q + 1u];
            let l = ld_a(row, i32(ox0) - 1, wi);
            let r = ld_a(row, i32(ox0) + 8, wi);
            let wrow = ((cb * cin + ci) * 3u + ky) * 3u;
            fma8(load_w8(wrow), vec4<f32>(l, a.xyz), vec4<f32>(a.w, b.xyz));
            fma8(load_w8(wrow + 1u), a, b);
            fma8(load_w8(wrow + 2u), vec4<f32>(a.yzw, b.x), vec4<f32>(b.yzw, r));
        }
    }
}

// px1v_a: px1_a for rows of a multiple of 8 pixels, pad 0, no upsample.
fn px1v_a(cb: u32, cin: u32, oy: u32, ox0: u32) {
    let plane = p.h * p.w;
    let off = oy * p.w + ox0;
    for (var ci = 0u; ci < p.ca; ci++) {
        let q = (ci * plane + off) >> 2u;
        fma8(load_w8(cb * cin + ci), in_a[q], in_a[q + 1u]);
    }
}

// rows3v_b: rows3_b for rows of a multiple of 8 pixels, pad 1, no
// upsample: the 8 centre columns are two aligned vec4 loads.
fn rows3v_b(cb: u32, cin: u32, y0: i32, ox0: u32) {
    let plane = p.h * p.w;
    let wi = i32(p.w);
    for (var cj = 0u; cj < p.cb; cj++) {
        let ci = p.ca + cj;
        for (var ky = 0u; ky < 3u; ky++) {
            let iy = y0 + i32(ky);
            if (iy < 0 || iy >= i32(p.h)) {
                continue;
            }
            let row = cj * plane + u32(iy) * p.w;
            let q = (row + ox0) >> 2u;
            let a = in_b[q];
            let b = in_b[q + 1u];
            let l = ld_b(row, i32(ox0) - 1, wi);
            let r = ld_b(row, i32(ox0) + 8, wi);
            let wrow = ((cb * cin + ci) * 3u + ky) * 3u;
            fma8(load_w8(wrow), vec4<f32>(l, a.xyz), vec4<f32>(a.w, b.xyz));
            fma8(load_w8(wrow + 1u), a, b);
            fma8(load_w8(wrow + 2u), vec4<f32>(a.yzw, b.x), vec4<f32>(b.yzw, r));
        }
    }
}

// px1v_b: px1_b for rows of a multiple of 8 pixels, pad 0, no upsample.
fn px1v_b(cb: u32, cin: u32, oy: u32, ox0: u32) {
    let plane = p.h * p.w;
    let off = oy * p.w + ox0;
    for (var cj = 0u; cj < p.cb; cj++) {
        let ci = p.ca + cj;
        let q = (cj * plane + off) >> 2u;
        fma8(load_w8(cb * cin + ci), in_b[q], in_b[q + 1u]);
    }
}

// Geometry of one invocation: 8 output pixels of row oy from ox0, channel
// block cb; y0/x0 is the first input row/column its taps touch.
struct Geo {
    ok: bool,
    ox0: u32,
    oy: u32,
    cb: u32,
    cin: u32,
    y0: i32,
    x0: i32,
    hi: i32,
    wi: i32,
}

fn geo(gid: vec3<u32>) -> Geo {
    acc = array<vec4<f32>, 16>(); // explicit: private zero-init is not reliable across entry points
    let ox0 = gid.x * PX;
    let s = i32(p.stride);
    return Geo(ox0 < p.wo && gid.y < p.ho, ox0, gid.y, gid.z, p.ca + p.cb,
               i32(gid.y) * s - i32(p.pad), i32(ox0) * s - i32(p.pad),
               i32(p.h << p.up), i32(p.w << p.up));
}

fn finish(g: Geo) {
    let co0 = g.cb * 8u;
    put(0u, acc[0], acc[1], g.ox0, g.oy, co0);
    put(1u, acc[2], acc[3], g.ox0, g.oy, co0);
    put(2u, acc[4], acc[5], g.ox0, g.oy, co0);
    put(3u, acc[6], acc[7], g.ox0, g.oy, co0);
    put(4u, acc[8], acc[9], g.ox0, g.oy, co0);
    put(5u, acc[10], acc[11], g.ox0, g.oy, co0);
    put(6u, acc[12], acc[13], g.ox0, g.oy, co0);
    put(7u, acc[14], acc[15], g.ox0, g.oy, co0);
}

// Workgroup: 4x16 invocations = 32x16 output pixels of one 8-channel block
// (gid.z), so every invocation of a workgroup reads the same weights.
@compute @workgroup_size(4, 16, 1)
fn main3(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = geo(gid);
    if (!g.ok) {
        return;
    }
    if (p.up == 0u && p.pad == 1u && (p.w & 7u) == 0u) {
        rows3v_a(g.cb, g.cin, g.y0, g.ox0);
        if (p.cb > 0u) {
            rows3v_b(g.cb, g.cin, g.y0, g.ox0);
        }
    } else {
        rows3_a(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
        if (p.cb > 0u) {
            rows3_b(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
        }
    }
    finish(g);
}

@compute @workgroup_size(4, 16, 1)
fn main1(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = geo(gid);
    if (!g.ok) {
        return;
    }
    if (p.up == 0u && p.pad == 0u && (p.w & 7u) == 0u) {
        px1v_a(g.cb, g.cin, g.oy, g.ox0);
        if (p.cb > 0u) {
            px1v_b(g.cb, g.cin, g.oy, g.ox0);
        }
    } else {
        px1_a(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
        if (p.cb > 0u) {
            px1_b(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
        }
    }
    finish(g);
}

@compute @workgroup_size(4, 16, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
    let g = geo(gid);
    if (!g.ok) {
        return;
    }
    taps_a(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
    if (p.cb > 0u) {
        taps_b(g.cb, g.cin, g.y0, g.x0, g.hi, g.wi);
    }
    finish(g);
}
