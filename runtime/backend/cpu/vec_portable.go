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

// qSoftmaxHead normalises one head's q (dh rows of n pixels) over its dh
// channels for pixels [lo, hi), times scale. It works on chunks of pixels
// so that every loop runs along a contiguous row: the rows are n floats
// apart, often a multiple of 4 KiB, so a loop that took a few pixels of
// every row at a time found them all in one L1 cache set (the SIMD128
// build's kernel that did so took twice as long).
func qSoftmaxHead(q []float32, n, dh, lo, hi int, scale float32) {
	var mb, sb [laChunk]float32
	for i0 := lo; i0 < hi; i0 += laChunk {
		i1 := min(i0+laChunk, hi)
		m, s := mb[:i1-i0], sb[:i1-i0]
		copy(m, q[i0:i1])
		for d := 1; d < dh; d++ {
			maxInto(m, q[d*n+i0:d*n+i1])
		}
		clear(s)
		for d := 0; d < dh; d++ {
			expSubAcc(q[d*n+i0:d*n+i1], m, s)
		}
		for i, v := range s {
			s[i] = scale / v
		}
		for d := 0; d < dh; d++ {
			mulInto(q[d*n+i0:d*n+i1], s)
		}
	}
}

// scaleVecGeneric sets x[i] *= s.
func scaleVecGeneric(x []float32, s float32) {
	for i := range x {
		x[i] *= s
	}
}

// dotRowsGeneric adds dot(k, v[e*vstride:]) to out[e*ostride] for e < ne.
func dotRowsGeneric(out []float32, ostride int, k, v []float32, vstride, ne int) {
	for e := range ne {
		out[e*ostride] += dot(k, v[e*vstride:e*vstride+len(k)])
	}
}

// affineGeneric sets dst[i] = src[i]·a + b (+ res[i] when res is not nil).
func affineGeneric(dst, src, res []float32, a, b float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = v*a + b
	}
	if res != nil {
		res = res[:len(dst)]
		for i := range dst {
			dst[i] += res[i]
		}
	}
}

// sum64Generic returns Σ x[i] in float64.
func sum64Generic(x []float32) float64 {
	var sum float64
	for _, v := range x {
		sum += float64(v)
	}
	return sum
}

// sqDev64Generic returns Σ (x[i]-mean)² in float64.
func sqDev64Generic(x []float32, mean float64) float64 {
	var sq float64
	for _, v := range x {
		d := float64(v) - mean
		sq += d * d
	}
	return sq
}

// addIntoGeneric sets a[i] += x[i].
func addIntoGeneric(a, x []float32) {
	x = x[:len(a)]
	for i, v := range x {
		a[i] += v
	}
}

// sqDevAccGeneric sets acc[i] += (x[i]-mean[i])².
func sqDevAccGeneric(acc, x, mean []float32) {
	x, mean = x[:len(acc)], mean[:len(acc)]
	for i, v := range x {
		d := v - mean[i]
		acc[i] += d * d
	}
}

// lnApplyGeneric sets dst[i] = (src[i]-mean[i])·inv[i]·g.
func lnApplyGeneric(dst, src, mean, inv []float32, g float32) {
	src, mean, inv = src[:len(dst)], mean[:len(dst)], inv[:len(dst)]
	for i, v := range src {
		dst[i] = (v - mean[i]) * inv[i] * g
	}
}
