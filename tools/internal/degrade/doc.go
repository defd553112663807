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
// Several independent renderers per task, over wide ranges, so a model
// trained on them meets more than one look of each degradation (in the
// spirit of BSRGAN and Real-ESRGAN's randomized pipelines):
//
//   - haze: atmospheric scattering I = J·t + A·(1−t), t = exp(−β·d), with one
//     of four depth proxies (vertical gradient with value noise, a plane
//     receding in a random direction, fractal value noise, a radial field)
//     and an airlight tinted per channel and varying along a ramp;
//   - lowlight: in linear light (sRGB transfer curve), L' = e·g_c·L^γ with
//     exposure e, gamma γ and white-balance gains g_c (colour shift), at
//     times desaturated, plus Poisson-Gaussian sensor noise (Gaussian
//     approximation, variance a·L' + b²), per channel or the same in all;
//   - rain: one to four layers of tapered anti-aliased streaks (angle, length,
//     width, density and opacity per layer), blended by screen, addition or
//     over a rain colour, at times a rain veil and lens drops;
//   - snow: a uniform veil, then flakes from specks to large out-of-focus
//     discs, the near ones optionally motion-streaked, blended towards white;
//   - blur: a random-walk camera shake, a linear motion at any angle, a
//     defocus disc or a Gaussian, plus mild noise;
//
// then, at random and in a random order, mild sensor noise, a down-and-up
// resize and JPEG compression (see extras). Evaluation also uses a second,
// separately written family of recipes that training never sees:
// tools/internal/heldout.
//
// All filters cost O(pixels × kernel extent) or less: blurs are separable
// running sums, the defocus disc is a sum of row spans over prefix sums and
// motion kernels are applied tap by tap over their few non-zero taps.
package degrade
