//go:build !(goexperiment.simd && amd64) && !(wasm && simd128)

package cpu

// dot returns Σ x[i]·y[i] over len(x).
func dot(x, y []float32) float32 { return dotGeneric(x, y) }

// gemvT adds Σ_k c[k]·x[k·stride+i] to dst[i] for every i in dst.
func gemvT(dst, c, x []float32, stride int) { gemvTGeneric(dst, c, x, stride) }

// expSub replaces x[i] by exp(x[i]-m), for x[i] <= m, and returns the sum.
func expSub(x []float32, m float32) float32 { return expSubGeneric(x, m) }

// maxInto sets m[i] = max(m[i], x[i]) for every i in m.
func maxInto(m, x []float32) { maxIntoGeneric(m, x) }

// mulInto sets x[i] *= s[i] for every i in x.
func mulInto(x, s []float32) { mulIntoGeneric(x, s) }

// expSubAcc sets x[i] = exp(x[i]-m[i]), for x[i] <= m[i], and adds it to
// s[i], for every i in x.
func expSubAcc(x, m, s []float32) { expSubAccGeneric(x, m, s) }

// maxOf returns the largest element of a non-empty x.
func maxOf(x []float32) float32 { return maxOfGeneric(x) }

// siluAffine sets dst[i] = silu(src[i]·a + b), plus res[i] when res is not nil.
func siluAffine(dst, src, res []float32, a, b float32) { siluAffineGeneric(dst, src, res, a, b) }
