// conv_tiled.wgsl: 2-D convolution over cat(in_a, in_b) as an implicit GEMM
// with workgroup-shared tiles, for hardware GPUs.
//
// The convolution is a matrix product out[M][N] = W[M][K] · X[K][N] with
// M = output channels, N = output pixels (ho·wo, row-major) and
// K = cin·k·k (channel-major, then ky, kx: the order of the host's weight
// packing, so weight entry (block, kk) is block·K + kk). X is never stored:
// each step gathers a TILED_BK×TILED_BN slice of it (im2col on the fly, with the
// upsample, stride, padding and concat applied in the gather) and a TILED_BK×TILED_BM
// slice of W into workgroup memory, and every invocation accumulates a
// 4-channel × 4-pixel block in registers from them. On a real GPU that
// turns each input value read from global memory into TILED_BM multiply-adds and
// each weight into TILED_BN; on CPU-emulated adapters (lavapipe, SwiftShader) the
// barriers cost more than they save, so there conv.wgsl's register-blocked
// kernel is used instead.
//
// The block is 32 channels × 128 pixels: most of the UNet's layers have 32
// output channels (Tiny, and the first level of the larger models), so a
// taller block would leave half of it idle. Shared memory: 10 KiB, within
// WebGPU's 16 KiB default.
//
// Same uniform, bindings and fused features as conv.wgsl (bias, residual,
// two-input concat, nearest-2x upsample, any k, stride, zero padding); all
// shapes come from p, so one pipeline serves every layer. Composed as
// conv_params.wgsl + this file + one weight snippet (conv_w_*.wgsl), which
// declares binding 4 and `fn load_w8(i: u32) -> W8`.

@group(0) @binding(1) var<storage, read> in_a: array<f32>;
@group(0) @binding(2) var<storage, read> in_b: array<f32>;
@group(0) @binding(3) var<storage, read> res: array<f32>;
@group(0) @binding(5) var<storage, read> bias: array<f32>;
@group(0) @binding(6) var<storage, read_write> dst: array<f32>;

// TILED_BM output channels (32) and TILED_BN output pixels (128) per
// workgroup, TILED_BK (16) deep per step: shaders/sizes.go (the loops below
// are written for these values).

// An input row this far outside the image fails every bounds test, so
// pixels past the end of the output need no separate check in the gather.
const OUTSIDE: i32 = -1073741824;

// ws[kr*8 + j]: channels co0+4j..4j+3 of reduction row kr (TILED_BK×TILED_BM/4).
var<workgroup> ws: array<vec4<f32>, 128>;
// xs[kr*32 + j]: the gathered input of reduction row kr for pixels
// n0+4j..4j+3 (TILED_BK×TILED_BN/4).
var<workgroup> xs: array<vec4<f32>, 512>;

// put4 writes channels c0..c0+3 of output pixel n (bias and residual added).
fn put4(v: vec4<f32>, n: u32, c0: u32, npx: u32) {
    if (n >= npx) {
        return;
    }
    for (var j = 0u; j < 4u; j++) {
        let co = c0 + j;
        if (co < p.cout) {
            let i = co * npx + n;
            var o = v[j] + bias[co];
            if (p.has_res != 0u) {
                o += res[i];
            }
            dst[i] = o;
        }
    }
}

// Workgroups: x (and y, past the per-dimension limit) tile the pixels by
// TILED_BN, z the output channels by TILED_BM. 256 invocations:
//   gather  invocation t fills reduction row t/16 of xs for the pixels
//           t%16 + 16j (j < 8: runs of 16 consecutive pixels, coalesced);
//           invocations t < 64 load one 8-channel weight entry each.
//   compute invocation t owns 4 channels and 4 consecutive pixels; a
//           32-wide subgroup covers 8 channels x 64 pixels, so each step
//           reads 2 weight and 16 input vec4s from workgroup memory per
//           subgroup for 16 multiply-adds per invocation.
@compute @workgroup_size(TILED_WG, 1, 1)
fn main(@builtin(local_invocation_index) t: u32,
        @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
    let npx = p.ho * p.wo;
    let n0 = (wid.y * nwg.x + wid.x) * TILED_BN;
    if (n0 >= npx) {
        return; // the whole workgroup: the grid's last row overshoots
    }
    let co0 = wid.z * TILED_BM;
    let kk = p.k * p.k;
    let kdim = (p.ca + p.cb) * kk;
    let blocks = (p.cout + 7u) / 8u;
    let plane = p.h * p.w;
    let hi = i32(p.h << p.up);
    let wi = i32(p.w << p.up);

    // Gather geometry: the top-left tap of each of this invocation's 8
    // pixels, computed once (divisions are slow).
    let xr = t / 16u;
    let xc = t % 16u;
    var iyb = array<i32, 8>();
    var ixb = array<i32, 8>();
    for (var j = 0u; j < 8u; j++) {
        let n = n0 + xc + 16u * j;
        let oy = n / p.wo;
        let ox = n - oy * p.wo;
        iyb[j] = select(OUTSIDE, i32(oy * p.stride) - i32(p.pad), n < npx);
        ixb[j] = i32(ox * p.stride) - i32(p.pad);
    }

    let lane = t % 32u;
    let sg = t / 32u;
    let tm = (sg % 4u) * 2u + lane / 16u; // channel group, < TILED_BM/4
    let tn = (sg / 4u) * 16u + lane % 16u; // pixel group, < TILED_BN/4
    // acc[i]: channels co0+4tm..+3 of pixel n0+4tn+i.
    var acc = array<vec4<f32>, 4>();
    for (var k0 = 0u; k0 < kdim; k0 += TILED_BK) {
        let kr = k0 + xr;
        if (kr < kdim) {
            let ci = kr / kk;
            let tap = kr - ci * kk;
            let ky = tap / p.k;
            let dy = i32(ky);
            let dx = i32(tap - ky * p.k);
            let from_b = ci >= p.ca;
            let base = select(ci, ci - p.ca, from_b) * plane;
            for (var j = 0u; j < 8u; j++) {
                let iy = iyb[j] + dy;
                let ix = ixb[j] + dx;
                var v = 0.0;
                if (iy >= 0 && iy < hi && ix >= 0 && ix < wi) {
                    let i = base + (u32(iy) >> p.up) * p.w + (u32(ix) >> p.up);
                    if (from_b) {
                        v = in_b[i];
                    } else {
                        v = in_a[i];
                    }
                }
                let c = xc + 16u * j;
                xs[xr * 32u + c / 4u][c % 4u] = v;
            }
        } else {
            for (var j = 0u; j < 8u; j++) {
                let c = xc + 16u * j;
                xs[xr * 32u + c / 4u][c % 4u] = 0.0;
            }
        }
        if (t < 64u) {
            let wr = t / 4u;
            let wb = t % 4u;
            let kw = k0 + wr;
            let blk = co0 / 8u + wb;
            var wt = W8(vec4<f32>(), vec4<f32>());
            if (kw < kdim && blk < blocks) {
                wt = load_w8(blk * kdim + kw);
            }
            ws[wr * 8u + 2u * wb] = wt.lo;
            ws[wr * 8u + 2u * wb + 1u] = wt.hi;
        }
        workgroupBarrier();
        for (var r = 0u; r < TILED_BK; r++) {
            let wv = ws[r * 8u + tm];
            let xv = xs[r * 32u + tn];
            acc[0] += wv * xv.x;
            acc[1] += wv * xv.y;
            acc[2] += wv * xv.z;
            acc[3] += wv * xv.w;
        }
        workgroupBarrier();
    }

    let c0 = co0 + 4u * tm;
    let px = n0 + 4u * tn;
    put4(acc[0], px, c0, npx);
    put4(acc[1], px + 1u, c0, npx);
    put4(acc[2], px + 2u, c0, npx);
    put4(acc[3], px + 3u, c0, npx);
}
