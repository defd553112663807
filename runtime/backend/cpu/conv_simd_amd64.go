//go:build goexperiment.simd && amd64

package cpu

import "simd/archsimd"

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
// multiply-add, which overwrites a multiplicand, needs.

// avx512 is the micro-kernel for CPUs with AVX-512.
func (a *convArgs) avx512() {
	offs := a.offs
	for b := range a.nb {
		w := a.w[b*a.wStride+a.wOff:][:len(offs)]
		for x := 0; x < a.nx; x += 32 {
			src := a.src[x:]
			var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float32x16
			for t, off := range offs {
				v := (*[32]float32)(src[off:])
				v0 := archsimd.LoadFloat32x16((*[16]float32)(v[:16]))
				v1 := archsimd.LoadFloat32x16((*[16]float32)(v[16:]))
				wt := &w[t]
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
			co := b * convCo
			a.finish16(co, x, s00, s10, s20, s30)
			a.finish16(co, x+16, s01, s11, s21, s31)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// finish16 is put for channels co.. co+3 at tile pixels x.. x+15.
func (a *convArgs) finish16(co, x int, s0, s1, s2, s3 archsimd.Float32x16) {
	if x >= a.nx {
		return
	}
	if x+16 <= a.nx && co+convCo <= a.cout {
		a.put16(co, x, s0)
		a.put16(co+1, x, s1)
		a.put16(co+2, x, s2)
		a.put16(co+3, x, s3)
		return
	}
	var t [convCo][16]float32
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
	archsimd.ClearAVXUpperBits() // before scalar code
	for c := range t {
		a.put(co+c, x, t[c][:])
	}
}

func (a *convArgs) put16(co, x int, s archsimd.Float32x16) {
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
	offs := a.offs
	for b := range a.nb {
		w := a.w[b*a.wStride+a.wOff:][:len(offs)]
		for x := 0; x < a.nx; x += 16 {
			src := a.src[x:]
			var s00, s01, s10, s11, s20, s21, s30, s31 archsimd.Float32x8
			for t, off := range offs {
				v := (*[16]float32)(src[off:])
				v0 := archsimd.LoadFloat32x8((*[8]float32)(v[:8]))
				v1 := archsimd.LoadFloat32x8((*[8]float32)(v[8:]))
				wt := &w[t]
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
			co := b * convCo
			a.finish8(co, x, s00, s10, s20, s30)
			a.finish8(co, x+8, s01, s11, s21, s31)
		}
	}
	archsimd.ClearAVXUpperBits()
}

// finish8 is put for channels co.. co+3 at tile pixels x.. x+7.
func (a *convArgs) finish8(co, x int, s0, s1, s2, s3 archsimd.Float32x8) {
	if x >= a.nx {
		return
	}
	if x+8 <= a.nx && co+convCo <= a.cout {
		a.put8(co, x, s0)
		a.put8(co+1, x, s1)
		a.put8(co+2, x, s2)
		a.put8(co+3, x, s3)
		return
	}
	var t [convCo][8]float32
	s0.Store(&t[0])
	s1.Store(&t[1])
	s2.Store(&t[2])
	s3.Store(&t[3])
	archsimd.ClearAVXUpperBits() // before scalar code
	for c := range t {
		a.put(co+c, x, t[c][:])
	}
}

func (a *convArgs) put8(co, x int, s archsimd.Float32x8) {
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
