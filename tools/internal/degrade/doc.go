// Package degrade synthesizes the five DiffUIR degradations -- haze, low
// light, rain, snow and blur -- on clean photos. It is the single
// implementation used both to make training pairs (tools/train/mkshard) and
// to evaluate restorations (diffuir eval), so the two always agree.
//
// Every degradation is a pure function of the image and a seed:
// [Apply](img, task, seed) draws its parameters from a private generator
// seeded by (seed, task), so the same call gives the same output bit for bit
// (for a given build and architecture: other architectures may differ in the
// last bits through FMA fusion or assembly math), and different seeds give
// different degradations. The parameters drawn are returned in [Params] and
// lie within the ranges listed by [Ranges] (documented in docs/MODEL.md).
//
// Sizes in pixels (streak lengths, flake radii, blur kernels) are defined for
// an image whose long side is 512 pixels and scale with the image (factor
// clamped to [0.5, 2]), so a degradation looks alike at the resolutions used
// for training patches and for evaluation.
//
// The recipes (see /work/shared/docs/training-data.md):
//
//   - haze: atmospheric scattering I = J·t + A·(1−t), t = exp(−β·d), with a
//     smooth depth proxy d (vertical gradient mixed with low-frequency value
//     noise), airlight A and scattering β drawn per image;
//   - lowlight: in linear light (sRGB transfer curve), L' = e·L^γ with
//     exposure e and gamma γ, plus signal-dependent sensor noise (the
//     Gaussian approximation of Poisson-Gaussian noise, variance a·L' + b²),
//     back to sRGB;
//   - rain: one to three layers of sparse drops drawn as tapered
//     anti-aliased streaks along a near-vertical angle, screen-blended;
//   - snow: a slight uniform haze veil, then soft discs of three size classes,
//     the flake layer motion-blurred along a random direction, alpha-blended
//     towards white;
//   - blur: a random-walk camera-shake kernel or a defocus disc, plus mild
//     Gaussian noise.
//
// All filters cost O(pixels × kernel extent) or less: blurs are separable
// running sums, the defocus disc is a sum of row spans over prefix sums and
// motion kernels are applied tap by tap over their few non-zero taps.
package degrade
