//go:build !(wasm && simd128)

package cpu

// The loops that the wasm SIMD128 build runs as whole kernels
// (vec_simd128_wasm.go); everywhere else they are the portable loops over
// the vector helpers.

func scaleVec(x []float32, s float32) { scaleVecGeneric(x, s) }

func dotRows(out []float32, ostride int, k, v []float32, vstride, ne int) {
	dotRowsGeneric(out, ostride, k, v, vstride, ne)
}

func affine(dst, src, res []float32, a, b float32) { affineGeneric(dst, src, res, a, b) }

func sum64(x []float32) float64                 { return sum64Generic(x) }
func sqDev64(x []float32, mean float64) float64 { return sqDev64Generic(x, mean) }
func addInto(a, x []float32)                    { addIntoGeneric(a, x) }
func sqDevAcc(acc, x, mean []float32)           { sqDevAccGeneric(acc, x, mean) }
func lnApply(dst, src, mean, inv []float32, g float32) {
	lnApplyGeneric(dst, src, mean, inv, g)
}

// linearAttentionOut computes output rows [lo, hi) of a as a whole, where a
// build has a faster way than the tiled gemvT loop; false: it did nothing.
func linearAttentionOut(a *linearAttention, lo, hi int) bool { return false }
