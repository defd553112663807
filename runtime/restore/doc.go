// Package restore is the facade the CLI, the web worker and the tools call:
// it binds a model to a backend and restores images, whole or in
// overlapping tiles, with progress reporting and cancellation.
//
// One restore of a tile: reflect-pad to a multiple of 16 inside every UNet
// pass (as the authors' code does), run the residual sampler for the chosen
// number of steps, and map the result back to [0, 1]. Programs (planned
// memory and kernels) are compiled once per padded tile size and reused.
package restore
