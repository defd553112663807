//go:build !wasm

package cpu

// genericChunk is the portable kernel's run of output pixels. It computes
// 2 output channels x 4 pixels at a time: as the compiler schedules all
// products ahead of the sums, more scalar sums spill the 15 float
// registers of amd64 (measured: 2x4 beats 4x4, 4x3 and 4x2 with and
// without FMA; wasm prefers 4x3, see conv_generic_wasm.go).
const genericChunk = 4

// generic is the portable micro-kernel.
func (a *convArgs) generic() {
	offs := a.offs
	for b := range a.nb {
		w := a.w[b*a.wStride+a.wOff:][:len(offs)]
		for x := 0; x < a.nx; x += genericChunk {
			src := a.src[x:]
			for c := 0; c < convCo; c += 2 {
				var s00, s01, s02, s03, s10, s11, s12, s13 float32
				for t, off := range offs {
					v := (*[genericChunk]float32)(src[off:])
					wc := (*[2]float32)(w[t][c:])
					v0, v1, v2, v3 := v[0], v[1], v[2], v[3]
					w0, w1 := wc[0], wc[1]
					s00 += w0 * v0
					s01 += w0 * v1
					s02 += w0 * v2
					s03 += w0 * v3
					s10 += w1 * v0
					s11 += w1 * v1
					s12 += w1 * v2
					s13 += w1 * v3
				}
				co := b*convCo + c
				a.put(co, x, []float32{s00, s01, s02, s03})
				a.put(co+1, x, []float32{s10, s11, s12, s13})
			}
		}
	}
}
