//go:build goexperiment.simd && amd64

package cpu

import (
	"simd/archsimd"
	"unsafe"
)

// Vector level of the helpers: 2 for AVX-512, 1 for AVX2 with FMA, 0 for
// the portable code.
var vecLevel = func() int {
	switch {
	case archsimd.X86.AVX512():
		return 2
	case archsimd.X86.AVX2() && archsimd.X86.FMA():
		return 1
	}
	return 0
}()

// dot returns Σ x[i]·y[i] over len(x).
func dot(x, y []float32) float32 {
	y = y[:len(x)]
	switch {
	case vecLevel == 2 && len(x) >= 16:
		return dot512(x, y)
	case vecLevel >= 1 && len(x) >= 8:
		return dot256(x, y)
	}
	return dotGeneric(x, y)
}

// gemvT adds Σ_k c[k]·x[k·stride+i] to dst[i] for every i in dst.
func gemvT(dst, c, x []float32, stride int) {
	if len(c) == 0 || len(dst) == 0 {
		return
	}
	if (len(c)-1)*stride+len(dst) > len(x) || stride < 0 {
		panic("cpu: gemvT outside x")
	}
	switch {
	case vecLevel == 2 && len(dst) >= 16:
		gemvT512(dst, c, x, stride)
	case vecLevel >= 1 && len(dst) >= 8:
		gemvT256(dst, c, x, stride)
	default:
		gemvTGeneric(dst, c, x, stride)
	}
}

// expSub replaces x[i] by exp(x[i]-m), for x[i] <= m, and returns the sum.
func expSub(x []float32, m float32) float32 {
	switch {
	case vecLevel == 2 && len(x) >= 16:
		return expSub512(x, m)
	case vecLevel >= 1 && len(x) >= 8:
		return expSub256(x, m)
	}
	return expSubGeneric(x, m)
}

// maxInto sets m[i] = max(m[i], x[i]) for every i in m.
func maxInto(m, x []float32) {
	x = x[:len(m)]
	i := 0
	if vecLevel >= 1 {
		i = zip256(m, x, func(a, b archsimd.Float32x8) archsimd.Float32x8 { return a.Max(b) })
	}
	maxIntoGeneric(m[i:], x[i:])
}

// mulInto sets x[i] *= s[i] for every i in x.
func mulInto(x, s []float32) {
	s = s[:len(x)]
	i := 0
	if vecLevel >= 1 {
		i = zip256(x, s, func(a, b archsimd.Float32x8) archsimd.Float32x8 { return a.Mul(b) })
	}
	mulIntoGeneric(x[i:], s[i:])
}

// zip256 sets x[i] = op(x[i], y[i]) over the whole vectors of 8 in x and
// returns how many elements it did. It and op, a function literal, are
// inlined: no call per vector.
func zip256(x, y []float32, op func(a, b archsimd.Float32x8) archsimd.Float32x8) int {
	px, py := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(y))
	i := 0
	for ; i+8 <= len(x); i += 8 {
		a := (*[8]float32)(unsafe.Add(px, 4*i))
		op(archsimd.LoadFloat32x8(a), archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(py, 4*i)))).Store(a)
	}
	archsimd.ClearAVXUpperBits()
	return i
}

// maxOf returns the largest element of a non-empty x.
func maxOf(x []float32) float32 {
	if vecLevel == 0 || len(x) < 32 {
		return maxOfGeneric(x)
	}
	px := unsafe.Pointer(unsafe.SliceData(x))
	m0 := archsimd.LoadFloat32x8((*[8]float32)(px))
	m1, m2, m3 := m0, m0, m0
	i := 0
	for ; i+32 <= len(x); i += 32 {
		a := unsafe.Add(px, 4*i)
		m0 = m0.Max(archsimd.LoadFloat32x8((*[8]float32)(a)))
		m1 = m1.Max(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(a, 32))))
		m2 = m2.Max(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(a, 64))))
		m3 = m3.Max(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(a, 96))))
	}
	var t [8]float32
	m0.Max(m1).Max(m2.Max(m3)).Store(&t)
	archsimd.ClearAVXUpperBits()
	r := maxOfGeneric(t[:])
	if i < len(x) {
		r = max(r, maxOfGeneric(x[i:]))
	}
	return r
}

// expSubAcc sets x[i] = exp(x[i]-m[i]), for x[i] <= m[i], and adds it to
// s[i], for every i in x.
func expSubAcc(x, m, s []float32) {
	m, s = m[:len(x)], s[:len(x)]
	i := 0
	if vecLevel >= 1 {
		i = expSubAcc256(x, m, s)
	}
	expSubAccGeneric(x[i:], m[i:], s[i:])
}

// dot{512,256}, gemvT{512,256}, expSub{512,256}, expSubAcc256 and
// siluAffine512 are generated (simd_kernels_amd64.go, from
// tmpl/simd_amd64.go.tmpl, which describes their vector exp). expSubAcc
// and siluAffine keep the one width each had: another would change which
// tail elements take the portable code, and so their results.

// siluAffine sets dst[i] = silu(src[i]·a + b), plus res[i] when res is not nil.
func siluAffine(dst, src, res []float32, a, b float32) {
	n := len(dst)
	if len(src) < n || (res != nil && len(res) < n) {
		panic("siluAffine: short input")
	}
	i := 0
	if vecLevel == 2 {
		i = siluAffine512(dst, src, res, a, b)
	}
	siluAffineGeneric(dst[i:], src[i:], tail(res, i), a, b)
}

func tail(s []float32, i int) []float32 {
	if s == nil {
		return nil
	}
	return s[i:]
}
