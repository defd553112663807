// Package cpu executes backend graphs on the CPU in pure Go: register-blocked
// convolutions (SIMD with GOEXPERIMENT=simd on amd64; in wasm with the
// simd128 tag, tools/wasmsimd's module, which also runs the 3x3 layers as
// Winograd F(4x4, 3x3): winograd.go), fused norms and streamed attention,
// the linear attentions with their qkv projection one head at a time
// (fuse.go), parallel over a fixed goroutine pool. Memory, kernels
// and packed weights are prepared once per graph, so a diffusion step does
// not allocate. It is the fallback where no GPU is available and, with
// runtime/ref, the oracle the GPU kernels are checked against.
package cpu
