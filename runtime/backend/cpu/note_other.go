//go:build !amd64 || goexperiment.simd

package cpu

// KernelNote says when this build leaves the CPU's vector units unused;
// here it never does (the SIMD build, or an architecture with only the
// portable kernels).
func KernelNote() string { return "" }
