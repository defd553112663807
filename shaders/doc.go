// Package shaders holds the WGSL compute shaders of the GPU backend
// (runtime/backend/gpu), one op per file, embedded in the binary. Shapes
// always come from a uniform buffer, never from the source, so one compiled
// pipeline serves every layer and image size.
//
// Files and entry points (bindings are documented in each file):
//
//	conv.wgsl              2-D convolution, 8 px × 8 output channels per
//	                       invocation; bias, residual, concat, nearest-2x
//	                       upsample and stride fused. main3 (3x3 stride 1),
//	                       main1 (1x1 stride 1), main (any k and stride).
//	                       Completed by one weight snippet:
//	conv_w_f16_uniform.wgsl  packed f16 pairs in a 64 KiB uniform window
//	conv_w_f16_storage.wgsl  packed f16 pairs in a storage buffer
//	conv_w_f32_uniform.wgsl  f32 in a 64 KiB uniform window
//	conv_w_f32_storage.wgsl  f32 in a storage buffer
//	groupnorm.wgsl         stats, finalize, apply: GroupNorm + FiLM + SiLU + residual
//	layernorm.wgsl         main: channel LayerNorm + residual
//	linear_attention.wgsl  q_softmax, context (k's softmax folded in), context_reduce, output
//	attention.wgsl         main, tiled: full attention with an online softmax, one
//	                       query per invocation or 64 with key tiles in workgroup memory
//	sampler.wgsl           pad, update: the sampler step kept on the device
//	conv_tiled.wgsl        the convolution as an implicit GEMM with
//	                       workgroup-shared tiles (hardware GPUs)
//	conv_params.wgsl       the uniform both conv kernels share (composed first)
//	reduce.wgsl            workgroup reductions (composed into the norms)
//	qkv_ld4.wgsl           4-channel reads of q, k and v (composed into the attentions)
//
// Source returns one file, Compose concatenates several into one module
// after Prelude, which declares the workgroup sizes of sizes.go (the only
// place they are defined; the backend's dispatch arithmetic uses the same
// Go constants). Source makes conv.wgsl from conv.wgsl.tmpl,
// which writes the in_a/in_b twins from one source.
// The package is a leaf: it imports nothing of this module, so tools can
// list or validate the shaders without a GPU runtime.
package shaders
