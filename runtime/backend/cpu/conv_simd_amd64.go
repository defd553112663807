//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
	"unsafe"
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

// avx512 is the micro-kernel for CPUs with AVX-512.
func (a *convArgs) avx512() {
	a.checkTaps(32)
	offs := a.offs
	src := unsafe.Pointer(unsafe.SliceData(a.src))
	for b := range a.nb {
		w := unsafe.Pointer(&a.w[b*a.wStride+a.wOff])
		co := b * convCo
		x := 0
		for ; x < a.nx-16; x += 32 {
			var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float32x16
			for t, off := range offs {
				v := unsafe.Add(src, 4*(off+x))
				v0 := archsimd.LoadFloat32x16((*[16]float32)(v))
				v1 := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(v, 64)))
				wt := (*[convCo]float32)(unsafe.Add(w, 4*convCo*t))
				w0 := archsimd.BroadcastFloat32x16(wt[0])
				s00 = w0.MulAdd(v0, s00)
				s01 = w0.MulAdd(v1, s01)
				w1 := archsimd.BroadcastFloat32x16(wt[1])
				s10 = w1.MulAdd(v0, s10)
				s11 = w1.MulAdd(v1, s11)
				w2 := archsimd.BroadcastFloat32x16(wt[2])
				s20 = w2.MulAdd(v0, s20)
				s21 = w2.MulAdd(v1, s21)
				w3 := archsimd.BroadcastFloat32x16(wt[3])
				s30 = w3.MulAdd(v0, s30)
				s31 = w3.MulAdd(v1, s31)
			}
			a.put16(co, x, s00)
			a.put16(co+1, x, s10)
			a.put16(co+2, x, s20)
			a.put16(co+3, x, s30)
			a.put16(co, x+16, s01)
			a.put16(co+1, x+16, s11)
			a.put16(co+2, x+16, s21)
			a.put16(co+3, x+16, s31)
		}
		if x < a.nx {
			var s0, s1, s2, s3 archsimd.Float32x16
			for t, off := range offs {
				v := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(src, 4*(off+x))))
				wt := (*[convCo]float32)(unsafe.Add(w, 4*convCo*t))
				s0 = archsimd.BroadcastFloat32x16(wt[0]).MulAdd(v, s0)
				s1 = archsimd.BroadcastFloat32x16(wt[1]).MulAdd(v, s1)
				s2 = archsimd.BroadcastFloat32x16(wt[2]).MulAdd(v, s2)
				s3 = archsimd.BroadcastFloat32x16(wt[3]).MulAdd(v, s3)
			}
			a.put16(co, x, s0)
			a.put16(co+1, x, s1)
			a.put16(co+2, x, s2)
			a.put16(co+3, x, s3)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// put16 is put for a vector of channel co at tile pixels x... x+15. A
// partial vector goes through put: archsimd's masked SlicePart loads
// convert a short slice to a whole array pointer, which checkptr (-race)
// rejects at the end of an allocation.
func (a *convArgs) put16(co, x int, s archsimd.Float32x16) {
	if co >= a.cout || x >= a.nx {
		return
	}
	if x+16 > a.nx {
		var t [16]float32
		s.Store(&t)
		archsimd.ClearAVXUpperBits() // before scalar code
		a.put(co, x, t[:])
		return
	}
	i := a.outOff + co*a.plane + x
	o := (*[16]float32)(a.out[i:])
	if a.bias != nil {
		s = s.Add(archsimd.BroadcastFloat32x16(a.bias[co/convCo][co%convCo]))
	} else {
		s = s.Add(archsimd.LoadFloat32x16(o))
	}
	if a.res != nil {
		s = s.Add(archsimd.LoadFloat32x16((*[16]float32)(a.res[i:])))
	}
	s.Store(o)
}

// avx2 is the micro-kernel for CPUs with AVX2 and FMA.
func (a *convArgs) avx2() {
	a.checkTaps(16)
	offs := a.offs
	src := unsafe.Pointer(unsafe.SliceData(a.src))
	for b := range a.nb {
		w := unsafe.Pointer(&a.w[b*a.wStride+a.wOff])
		co := b * convCo
		x := 0
		for ; x < a.nx-8; x += 16 {
			var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float32x8
			for t, off := range offs {
				v := unsafe.Add(src, 4*(off+x))
				v0 := archsimd.LoadFloat32x8((*[8]float32)(v))
				v1 := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(v, 32)))
				wt := (*[convCo]float32)(unsafe.Add(w, 4*convCo*t))
				w0 := archsimd.BroadcastFloat32x8(wt[0])
				s00 = w0.MulAdd(v0, s00)
				s01 = w0.MulAdd(v1, s01)
				w1 := archsimd.BroadcastFloat32x8(wt[1])
				s10 = w1.MulAdd(v0, s10)
				s11 = w1.MulAdd(v1, s11)
				w2 := archsimd.BroadcastFloat32x8(wt[2])
				s20 = w2.MulAdd(v0, s20)
				s21 = w2.MulAdd(v1, s21)
				w3 := archsimd.BroadcastFloat32x8(wt[3])
				s30 = w3.MulAdd(v0, s30)
				s31 = w3.MulAdd(v1, s31)
			}
			a.put8(co, x, s00)
			a.put8(co+1, x, s10)
			a.put8(co+2, x, s20)
			a.put8(co+3, x, s30)
			a.put8(co, x+8, s01)
			a.put8(co+1, x+8, s11)
			a.put8(co+2, x+8, s21)
			a.put8(co+3, x+8, s31)
		}
		if x < a.nx {
			var s0, s1, s2, s3 archsimd.Float32x8
			for t, off := range offs {
				v := archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(src, 4*(off+x))))
				wt := (*[convCo]float32)(unsafe.Add(w, 4*convCo*t))
				s0 = archsimd.BroadcastFloat32x8(wt[0]).MulAdd(v, s0)
				s1 = archsimd.BroadcastFloat32x8(wt[1]).MulAdd(v, s1)
				s2 = archsimd.BroadcastFloat32x8(wt[2]).MulAdd(v, s2)
				s3 = archsimd.BroadcastFloat32x8(wt[3]).MulAdd(v, s3)
			}
			a.put8(co, x, s0)
			a.put8(co+1, x, s1)
			a.put8(co+2, x, s2)
			a.put8(co+3, x, s3)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// put8 is put16 for 8 pixels.
func (a *convArgs) put8(co, x int, s archsimd.Float32x8) {
	if co >= a.cout || x >= a.nx {
		return
	}
	if x+8 > a.nx {
		var t [8]float32
		s.Store(&t)
		archsimd.ClearAVXUpperBits() // before scalar code
		a.put(co, x, t[:])
		return
	}
	i := a.outOff + co*a.plane + x
	o := (*[8]float32)(a.out[i:])
	if a.bias != nil {
		s = s.Add(archsimd.BroadcastFloat32x8(a.bias[co/convCo][co%convCo]))
	} else {
		s = s.Add(archsimd.LoadFloat32x8(o))
	}
	if a.res != nil {
		s = s.Add(archsimd.LoadFloat32x8((*[8]float32)(a.res[i:])))
	}
	s.Store(o)
}
