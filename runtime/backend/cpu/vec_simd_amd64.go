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
	if vecLevel >= 1 && len(m) >= 8 {
		pm, px := unsafe.Pointer(unsafe.SliceData(m)), unsafe.Pointer(unsafe.SliceData(x))
		for ; i+8 <= len(m); i += 8 {
			a := (*[8]float32)(unsafe.Add(pm, 4*i))
			archsimd.LoadFloat32x8(a).Max(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(px, 4*i)))).Store(a)
		}
		archsimd.ClearAVXUpperBits()
	}
	maxIntoGeneric(m[i:], x[i:])
}

// mulInto sets x[i] *= s[i] for every i in x.
func mulInto(x, s []float32) {
	s = s[:len(x)]
	i := 0
	if vecLevel >= 1 && len(x) >= 8 {
		px, ps := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(s))
		for ; i+8 <= len(x); i += 8 {
			a := (*[8]float32)(unsafe.Add(px, 4*i))
			archsimd.LoadFloat32x8(a).Mul(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(ps, 4*i)))).Store(a)
		}
		archsimd.ClearAVXUpperBits()
	}
	mulIntoGeneric(x[i:], s[i:])
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
	if vecLevel >= 1 && len(x) >= 8 {
		px, pm, ps := unsafe.Pointer(unsafe.SliceData(x)), unsafe.Pointer(unsafe.SliceData(m)), unsafe.Pointer(unsafe.SliceData(s))
		for ; i+8 <= len(x); i += 8 {
			a := (*[8]float32)(unsafe.Add(px, 4*i))
			b := (*[8]float32)(unsafe.Add(ps, 4*i))
			e := exp256(archsimd.LoadFloat32x8(a).Sub(archsimd.LoadFloat32x8((*[8]float32)(unsafe.Add(pm, 4*i)))))
			e.Store(a)
			archsimd.LoadFloat32x8(b).Add(e).Store(b)
		}
		archsimd.ClearAVXUpperBits()
	}
	expSubAccGeneric(x[i:], m[i:], s[i:])
}

// exp256 is expSub256's exponential of one vector of v <= 0.
func exp256(v archsimd.Float32x8) archsimd.Float32x8 {
	v = v.Max(archsimd.BroadcastFloat32x8(-87.3))
	ni := v.Mul(archsimd.BroadcastFloat32x8(1.44269504088896341)).ConvertToInt32()
	nf := ni.ConvertToFloat32()
	r := nf.MulAdd(archsimd.BroadcastFloat32x8(-0.693359375), v)
	r = nf.MulAdd(archsimd.BroadcastFloat32x8(2.12194440e-4), r)
	p := archsimd.BroadcastFloat32x8(1.9875691500e-4).MulAdd(r, archsimd.BroadcastFloat32x8(1.3981999507e-3))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(8.3334519073e-3))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(4.1665795894e-2))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(1.6666665459e-1))
	p = p.MulAdd(r, archsimd.BroadcastFloat32x8(5.0000001201e-1))
	y := p.Mul(r).MulAdd(r, r.Add(archsimd.BroadcastFloat32x8(1)))
	return y.Mul(ni.Add(archsimd.BroadcastInt32x8(127)).ShiftAllLeft(23).AsFloat32x8())
}

// dot{512,256}, gemvT{512,256} and expSub{512,256} are generated
// (simd_kernels_amd64.go). Their vector exp follows expf: n = round(x·log2e),
// r = x - n·ln2 in two parts, the degree-6 polynomial, and 2^n built in the
// exponent bits. x is clamped below at -87.3 (where expf returns 0, this
// returns about 1e-38).

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

// siluAffine512 handles whole vectors of 16 and returns how many it did.
// silu(v) = v / (1 + exp(-v)), with exp's argument clamped to [-87.3, 88]
// so the exponent bits stay in range (the result is then v/(1+huge) ≈ 0,
// or v/(1+tiny) ≈ v, as the scalar code gives).
func siluAffine512(dst, src, res []float32, a, b float32) int {
	n := len(dst) / 16 * 16
	if n == 0 {
		return 0
	}
	pd, ps := unsafe.Pointer(unsafe.SliceData(dst)), unsafe.Pointer(unsafe.SliceData(src))
	var pr unsafe.Pointer
	if res != nil {
		pr = unsafe.Pointer(unsafe.SliceData(res))
	}
	av, bv := archsimd.BroadcastFloat32x16(a), archsimd.BroadcastFloat32x16(b)
	lo, hi := archsimd.BroadcastFloat32x16(-87.3), archsimd.BroadcastFloat32x16(88)
	l2e := archsimd.BroadcastFloat32x16(1.44269504088896341)
	c1 := archsimd.BroadcastFloat32x16(-0.693359375)
	c2 := archsimd.BroadcastFloat32x16(2.12194440e-4)
	p0 := archsimd.BroadcastFloat32x16(1.9875691500e-4)
	p1 := archsimd.BroadcastFloat32x16(1.3981999507e-3)
	p2 := archsimd.BroadcastFloat32x16(8.3334519073e-3)
	p3 := archsimd.BroadcastFloat32x16(4.1665795894e-2)
	p4 := archsimd.BroadcastFloat32x16(1.6666665459e-1)
	p5 := archsimd.BroadcastFloat32x16(5.0000001201e-1)
	one := archsimd.BroadcastFloat32x16(1)
	zero := archsimd.BroadcastFloat32x16(0)
	bias := archsimd.BroadcastInt32x16(127)
	for i := 0; i < n; i += 16 {
		v := archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(ps, 4*i))).MulAdd(av, bv)
		x := zero.Sub(v).Max(lo).Min(hi) // exp's argument, -v
		ni := x.Mul(l2e).ConvertToInt32()
		nf := ni.ConvertToFloat32()
		r := nf.MulAdd(c1, x)
		r = nf.MulAdd(c2, r)
		p := p0.MulAdd(r, p1)
		p = p.MulAdd(r, p2)
		p = p.MulAdd(r, p3)
		p = p.MulAdd(r, p4)
		p = p.MulAdd(r, p5)
		e := p.Mul(r).MulAdd(r, r.Add(one)).Mul(ni.Add(bias).ShiftAllLeft(23).AsFloat32x16())
		y := v.Div(e.Add(one))
		if pr != nil {
			y = y.Add(archsimd.LoadFloat32x16((*[16]float32)(unsafe.Add(pr, 4*i))))
		}
		y.Store((*[16]float32)(unsafe.Add(pd, 4*i)))
	}
	archsimd.ClearAVXUpperBits()
	return n
}
