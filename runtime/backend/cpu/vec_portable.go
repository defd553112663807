package cpu

// Portable vector helpers. The SIMD build (vec_simd_amd64.go) uses these
// for the tails it does not vectorise and on CPUs without AVX2 and FMA.

// dotGeneric returns Σ x[i]·y[i] over len(x) (y must be at least as long).
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(x); i += 8 {
		xs, ys := x[i:i+8:i+8], y[i:i+8:i+8]
		s0 += xs[0] * ys[0]
		s1 += xs[1] * ys[1]
		s2 += xs[2] * ys[2]
		s3 += xs[3] * ys[3]
		s4 += xs[4] * ys[4]
		s5 += xs[5] * ys[5]
		s6 += xs[6] * ys[6]
		s7 += xs[7] * ys[7]
	}
	for ; i < len(x); i++ {
		s0 += x[i] * y[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// gemvTGeneric adds Σ_k c[k]·x[k·stride+i] to dst[i] for every i in dst:
// dst += cᵀ·X for the len(c) × len(dst) block of rows of X stride apart.
func gemvTGeneric(dst, c, x []float32, stride int) {
	if len(c) == 0 || len(dst) == 0 {
		return
	}
	_ = x[(len(c)-1)*stride+len(dst)-1]
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		d := dst[i : i+8 : i+8]
		s0, s1, s2, s3, s4, s5, s6, s7 := d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]
		for k, ck := range c {
			o := k*stride + i
			xs := x[o : o+8 : o+8]
			s0 += ck * xs[0]
			s1 += ck * xs[1]
			s2 += ck * xs[2]
			s3 += ck * xs[3]
			s4 += ck * xs[4]
			s5 += ck * xs[5]
			s6 += ck * xs[6]
			s7 += ck * xs[7]
		}
		d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7] = s0, s1, s2, s3, s4, s5, s6, s7
	}
	for ; i < len(dst); i++ {
		s := dst[i]
		for k, ck := range c {
			s += ck * x[k*stride+i]
		}
		dst[i] = s
	}
}

// expSubGeneric replaces x[i] by exp(x[i]-m) and returns their sum.
func expSubGeneric(x []float32, m float32) float32 {
	var s0, s1 float32
	i := 0
	for ; i+2 <= len(x); i += 2 {
		xs := x[i : i+2 : i+2]
		e0, e1 := expf(xs[0]-m), expf(xs[1]-m)
		xs[0], xs[1] = e0, e1
		s0 += e0
		s1 += e1
	}
	for ; i < len(x); i++ {
		e := expf(x[i] - m)
		x[i] = e
		s0 += e
	}
	return s0 + s1
}

// maxOfGeneric returns the largest element of a non-empty x.
func maxOfGeneric(x []float32) float32 {
	m0 := x[0]
	m1, m2, m3 := m0, m0, m0
	i := 0
	for ; i+4 <= len(x); i += 4 {
		xs := x[i : i+4 : i+4]
		m0 = max(m0, xs[0])
		m1 = max(m1, xs[1])
		m2 = max(m2, xs[2])
		m3 = max(m3, xs[3])
	}
	for ; i < len(x); i++ {
		m0 = max(m0, x[i])
	}
	return max(max(m0, m1), max(m2, m3))
}

// maxIntoGeneric sets m[i] = max(m[i], x[i]).
func maxIntoGeneric(m, x []float32) {
	x = x[:len(m)]
	for i, v := range x {
		m[i] = max(m[i], v)
	}
}

// mulIntoGeneric sets x[i] *= s[i].
func mulIntoGeneric(x, s []float32) {
	s = s[:len(x)]
	for i, v := range s {
		x[i] *= v
	}
}

// expSubAccGeneric sets x[i] = exp(x[i]-m[i]), for x[i] <= m[i], and adds
// it to s[i].
func expSubAccGeneric(x, m, s []float32) {
	m, s = m[:len(x)], s[:len(x)]
	for i, v := range x {
		e := expf(v - m[i])
		x[i] = e
		s[i] += e
	}
}

// siluAffineGeneric sets dst[i] = silu(src[i]·a + b) (+ res[i] when res is
// not nil).
func siluAffineGeneric(dst, src, res []float32, a, b float32) {
	src = src[:len(dst)]
	if res != nil {
		res = res[:len(dst)]
		for i, v := range src {
			dst[i] = silu(v*a+b) + res[i]
		}
		return
	}
	for i, v := range src {
		dst[i] = silu(v*a + b)
	}
}
