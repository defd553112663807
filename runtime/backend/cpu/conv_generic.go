package cpu

// genericChunk is the portable kernel's run of output pixels. It computes
// 2 output channels x 4 pixels at a time: with the products the compiler
// schedules ahead of the sums, more scalar sums spill the 15 float
// registers of amd64 (measured: 2x4 beats 4x4, 4x2 and 4x3 with and
// without FMA).
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
				if x+genericChunk <= a.nx && co+1 < a.cout {
					a.put4(co, x, s00, s01, s02, s03)
					a.put4(co+1, x, s10, s11, s12, s13)
					continue
				}
				a.put(co, x, []float32{s00, s01, s02, s03})
				a.put(co+1, x, []float32{s10, s11, s12, s13})
			}
		}
	}
}

// put4 is put for 4 pixels inside the tile of a channel below cout.
func (a *convArgs) put4(co, x int, s0, s1, s2, s3 float32) {
	i := a.outOff + co*a.plane + x
	o := (*[4]float32)(a.out[i:])
	if a.bias != nil {
		b := a.bias[co/convCo][co%convCo]
		s0, s1, s2, s3 = s0+b, s1+b, s2+b, s3+b
	} else {
		s0, s1, s2, s3 = s0+o[0], s1+o[1], s2+o[2], s3+o[3]
	}
	if a.res != nil {
		r := (*[4]float32)(a.res[i:])
		s0, s1, s2, s3 = s0+r[0], s1+r[1], s2+r[2], s3+r[3]
	}
	o[0], o[1], o[2], o[3] = s0, s1, s2, s3
}
