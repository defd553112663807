// Package restore is the facade the CLI, the web worker and the tools call:
// Load reads a weight pack or a checkpoint, OpenBackend chooses the
// backend, and a Restorer binds the model to it and restores images, whole
// or in overlapping tiles, with progress reporting, cancellation, the one
// GPU→CPU fallback and a Report of how it ran. Plan, RestoreTiles and Blend
// let several workers share one image's tiles.
//
// One restore of a tile: reflect-pad to a multiple of 2^levels (16 for the
// four-level models) inside every UNet pass (as the authors' code does),
// run the residual sampler for the chosen number of steps on the program's
// Stepper, and map the result back to [0, 1]. Programs (planned memory and
// kernels) are compiled once per padded tile size and reused.
package restore
