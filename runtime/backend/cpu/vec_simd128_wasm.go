//go:build simd128

package cpu

// The vector helpers in tools/wasmsimd's module (see conv_simd128_wasm.go
// for how it is reached). Each kernel takes whole vectors; the Go side
// checks the bounds, calls it for the longest run it can take and does the
// few elements left with the portable code. Runs shorter than simdMin go
// straight to the portable code: an import call costs about as much as a
// few dozen of its multiply-adds.

//go:wasmimport diffuir_simd dot
func simdDot(x, y, n uint32) float32

//go:wasmimport diffuir_simd dot4
func simdDot4(k, v, vstride, ne, n, out, ostride uint32)

//go:wasmimport diffuir_simd gemvt
func simdGemvT(dst, c, nc, x, stride, n uint32)

//go:wasmimport diffuir_simd expsub
func simdExpSub(x, n uint32, m float32) float32

//go:wasmimport diffuir_simd expsubacc
func simdExpSubAcc(x, m, s, n uint32)

//go:wasmimport diffuir_simd maxinto
func simdMaxInto(m, x, n uint32)

//go:wasmimport diffuir_simd mulinto
func simdMulInto(x, s, n uint32)

//go:wasmimport diffuir_simd maxof
func simdMaxOf(x, n uint32) float32

//go:wasmimport diffuir_simd scale
func simdScale(x, n uint32, s float32)

//go:wasmimport diffuir_simd affine
func simdAffine(dst, src, res, n uint32, a, b float32, silu uint32)

const simdMin = 16

// simdVecs is how many of n elements go to a kernel: the longest run of
// whole vectors of 4, or none where there are no kernels or n is too short
// for the call to pay.
func simdVecs(n int) int {
	if simdLevel == 0 || n < simdMin {
		return 0
	}
	return n &^ 3
}

func optAddr(x []float32) uint32 {
	if x == nil {
		return 0
	}
	return addr(&x[0])
}

func dot(x, y []float32) float32 {
	y = y[:len(x)]
	if simdLevel == 0 || len(x) < simdMin {
		return dotGeneric(x, y)
	}
	n := len(x) &^ 7
	return simdDot(addr(&x[0]), addr(&y[0]), uint32(n)) + dotGeneric(x[n:], y[n:])
}

func dotRows(out []float32, ostride int, k, v []float32, vstride, ne int) {
	n := simdVecs(len(k))
	if n == 0 || ne%4 != 0 || ne == 0 {
		dotRowsGeneric(out, ostride, k, v, vstride, ne)
		return
	}
	_ = out[(ne-1)*ostride]
	_ = v[(ne-1)*vstride+len(k)-1]
	simdDot4(addr(&k[0]), addr(&v[0]), uint32(vstride*4), uint32(ne), uint32(n), addr(&out[0]), uint32(ostride*4))
	if n < len(k) {
		for e := range ne {
			out[e*ostride] += dotGeneric(k[n:], v[e*vstride+n:e*vstride+len(k)])
		}
	}
}

func gemvT(dst, c, x []float32, stride int) {
	if len(c) == 0 || len(dst) == 0 {
		return
	}
	if (len(c)-1)*stride+len(dst) > len(x) || stride < 0 {
		panic("cpu: gemvT outside x")
	}
	n := len(dst) &^ 15
	if simdLevel == 0 || n == 0 {
		gemvTGeneric(dst, c, x, stride)
		return
	}
	simdGemvT(addr(&dst[0]), addr(&c[0]), uint32(len(c)), addr(&x[0]), uint32(stride*4), uint32(n))
	if n < len(dst) {
		gemvTGeneric(dst[n:], c, x[n:], stride)
	}
}

func expSub(x []float32, m float32) float32 {
	if n := simdVecs(len(x)); n > 0 {
		return simdExpSub(addr(&x[0]), uint32(n), m) + expSubGeneric(x[n:], m)
	}
	return expSubGeneric(x, m)
}

func maxInto(m, x []float32) {
	x = x[:len(m)]
	if n := simdVecs(len(m)); n > 0 {
		simdMaxInto(addr(&m[0]), addr(&x[0]), uint32(n))
		m, x = m[n:], x[n:]
	}
	maxIntoGeneric(m, x)
}

func mulInto(x, s []float32) {
	s = s[:len(x)]
	if n := simdVecs(len(x)); n > 0 {
		simdMulInto(addr(&x[0]), addr(&s[0]), uint32(n))
		x, s = x[n:], s[n:]
	}
	mulIntoGeneric(x, s)
}

func expSubAcc(x, m, s []float32) {
	m, s = m[:len(x)], s[:len(x)]
	if n := simdVecs(len(x)); n > 0 {
		simdExpSubAcc(addr(&x[0]), addr(&m[0]), addr(&s[0]), uint32(n))
		x, m, s = x[n:], m[n:], s[n:]
	}
	expSubAccGeneric(x, m, s)
}

func maxOf(x []float32) float32 {
	n := simdVecs(len(x))
	if n == 0 {
		return maxOfGeneric(x)
	}
	m := simdMaxOf(addr(&x[0]), uint32(n))
	if n < len(x) {
		m = max(m, maxOfGeneric(x[n:]))
	}
	return m
}

func scaleVec(x []float32, s float32) {
	if n := simdVecs(len(x)); n > 0 {
		simdScale(addr(&x[0]), uint32(n), s)
		x = x[n:]
	}
	scaleVecGeneric(x, s)
}

func siluAffine(dst, src, res []float32, a, b float32) {
	affineSIMD(dst, src, res, a, b, true)
}

func affine(dst, src, res []float32, a, b float32) {
	affineSIMD(dst, src, res, a, b, false)
}

func affineSIMD(dst, src, res []float32, a, b float32, silu bool) {
	src = src[:len(dst)]
	if res != nil {
		res = res[:len(dst)]
	}
	if n := simdVecs(len(dst)); n > 0 {
		var s uint32
		if silu {
			s = 1
		}
		simdAffine(addr(&dst[0]), addr(&src[0]), optAddr(res), uint32(n), a, b, s)
		dst, src = dst[n:], src[n:]
		if res != nil {
			res = res[n:]
		}
	}
	if silu {
		siluAffineGeneric(dst, src, res, a, b)
	} else {
		affineGeneric(dst, src, res, a, b)
	}
}

//go:wasmimport diffuir_simd stat64
func simdStat64(x, n uint32, mean float64, dev uint32) float64

//go:wasmimport diffuir_simd addinto
func simdAddInto(a, x, n uint32)

//go:wasmimport diffuir_simd sqdevacc
func simdSqDevAcc(acc, x, mean, n uint32)

//go:wasmimport diffuir_simd lnapply
func simdLnApply(dst, src, mean, inv, n uint32, g float32)

func sum64(x []float32) float64 {
	if n := simdVecs(len(x)); n > 0 {
		return simdStat64(addr(&x[0]), uint32(n), 0, 0) + sum64Generic(x[n:])
	}
	return sum64Generic(x)
}

func sqDev64(x []float32, mean float64) float64 {
	if n := simdVecs(len(x)); n > 0 {
		return simdStat64(addr(&x[0]), uint32(n), mean, 1) + sqDev64Generic(x[n:], mean)
	}
	return sqDev64Generic(x, mean)
}

func addInto(a, x []float32) {
	x = x[:len(a)]
	if n := simdVecs(len(a)); n > 0 {
		simdAddInto(addr(&a[0]), addr(&x[0]), uint32(n))
		a, x = a[n:], x[n:]
	}
	addIntoGeneric(a, x)
}

func sqDevAcc(acc, x, mean []float32) {
	x, mean = x[:len(acc)], mean[:len(acc)]
	if n := simdVecs(len(acc)); n > 0 {
		simdSqDevAcc(addr(&acc[0]), addr(&x[0]), addr(&mean[0]), uint32(n))
		acc, x, mean = acc[n:], x[n:], mean[n:]
	}
	sqDevAccGeneric(acc, x, mean)
}

func lnApply(dst, src, mean, inv []float32, g float32) {
	src, mean, inv = src[:len(dst)], mean[:len(dst)], inv[:len(dst)]
	if n := simdVecs(len(dst)); n > 0 {
		simdLnApply(addr(&dst[0]), addr(&src[0]), addr(&mean[0]), addr(&inv[0]), uint32(n), g)
		dst, src, mean, inv = dst[n:], src[n:], mean[n:], inv[n:]
	}
	lnApplyGeneric(dst, src, mean, inv, g)
}

// Packed weights, zero bias and a staged tile of q for linearAttentionOut
// (one thread, see simdOffs). q's rows are n floats apart, in practice a
// multiple of 4 KiB, and the kernel reads the same pixels of every row, so
// a tile of them is copied to rows laQStride floats apart first (not a
// multiple of 256 bytes: see padStride).
const (
	laQTile   = 256
	laQStride = laQTile + 16
)

var (
	laW    [64 * 64][1]float32
	laZero [64]float32
	laQ    [64 * laQStride]float32
)

// linearAttentionOut runs out[e] = Σ_d ctx[d][e]·q[d] for output rows
// [lo, hi) (multiples of 4) as a 1x1 convolution per head (Cin = Cout = dh,
// weights ctxᵀ) on the convolution kernel: 4 output rows × 8 pixels per
// step, the head's q rows read once per chunk of pixels, where the tiled
// gemvT loop reads them once per output row.
func linearAttentionOut(a *linearAttention, lo, hi int) bool {
	n, dh := a.n, a.dh
	if simdLevel == 0 || dh%4 != 0 || dh > 64 || lo%4 != 0 || hi%4 != 0 || int64(dh)*int64(n)*4 >= 1<<31 {
		return false
	}
	for d := range dh {
		simdOffs[d] = int32(d * laQStride * 4)
	}
	for h := lo / dh; h*dh < hi; h++ {
		e0, e1 := max(lo, h*dh)-h*dh, min(hi, (h+1)*dh)-h*dh
		// w[(b*dh + d)*4 + c] = ctx[h][4b+c][d]
		ctx := a.ctx[h*dh*dh : (h+1)*dh*dh]
		for e := e0; e < e1; e++ {
			b, c := e/4, e%4
			for d := range dh {
				laW[(b*dh+d)*4+c][0] = ctx[e*dh+d]
			}
		}
		q := a.qkv[h*dh*n : (h+1)*dh*n]
		for i0 := 0; i0 < n; i0 += laQTile {
			nx := min(laQTile, n-i0)
			for d := range dh {
				copy(laQ[d*laQStride:d*laQStride+nx], q[d*n+i0:d*n+i0+nx])
			}
			out := a.out[(h*dh+e0)*n+i0 : (h*dh+e1-1)*n+i0+nx]
			simdConv(addr(&laQ[0]), addr(&simdOffs[0]), uint32(dh), addr(&laW[e0/4*dh*4]), uint32(dh*16), uint32((e1-e0)/4),
				uint32(e1-e0), addr(&out[0]), uint32(n*4), uint32(nx), addr(&laZero[0]), 0, addr(&simdScratch[0]))
		}
	}
	return true
}
