//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
)

// convImpls lists the micro-kernels this build can run on this CPU, best
// last.
var convImpls = simdConvImpls()

func simdConvImpls() []convImpl {
	impls := []convImpl{convGeneric}
	if archsimd.X86.AVX2() && archsimd.X86.FMA() {
		impls = append(impls, convAVX2)
	}
	if archsimd.X86.AVX512() {
		impls = append(impls, convAVX512)
	}
	return impls
}

// chunk is the number of output pixels a kernel computes per step: two
// vectors, so that each broadcast weight feeds two multiply-adds.
func (k convImpl) chunk() int {
	switch k {
	case convAVX512:
		return 32
	case convAVX2:
		return 16
	}
	return genericChunk
}

func (a *convArgs) run() {
	switch convKernel {
	case convAVX512:
		a.avx512()
	case convAVX2:
		a.avx2()
	default:
		a.generic()
	}
}

// The vector kernels compute 4 output channels x 2 vectors of pixels: 8
// accumulators, 2 input vectors and a broadcast weight leave room in the
// 15 vector registers the compiler allocates for the copies that its
// multiply-add, which overwrites a multiplicand, needs. A last run of at
// most one vector of pixels takes a 4 x 1 loop instead, so that narrow
// and odd-width rows do not compute a whole wasted vector.
//
// The tap loops read through unsafe pointers: the bounds checks and slice
// arithmetic cost the AVX-512 kernel a fifth of its speed. checkTaps checks
// the bounds the loops rely on once per call.

// checkTaps panics unless every tap of every chunk of chunk pixels reads
// inside a.src, and every block's weights lie inside a.w.
func (a *convArgs) checkTaps(chunk int) {
	span := (a.nx + chunk - 1) / chunk * chunk
	for _, off := range a.offs {
		if off < 0 || off+span > len(a.src) {
			panic("cpu: convolution tap outside the staged input")
		}
	}
	if a.nb < 1 || a.wOff < 0 || (a.nb-1)*a.wStride+a.wOff+len(a.offs) > len(a.w) {
		panic("cpu: convolution taps outside the weights")
	}
}

// The kernels avx512 and avx2 with their stores put16 and put8 are
// generated from one template (simd_kernels_amd64.go).
