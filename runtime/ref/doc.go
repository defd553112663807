// Package ref holds the plain float32 reference of every DiffUIR op: simple
// loops written for obviousness, not speed. They are the oracle that the
// fast CPU kernels and the WGSL shaders are tested against.
//
// Conventions (as in llm.c's layer functions): outputs come first, tensors
// are planar (C, H, W) slices of one image, and each function states its
// shapes in a comment. Outputs never alias inputs unless stated.
package ref
