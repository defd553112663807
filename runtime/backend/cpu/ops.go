package cpu

import (
	"math"
)

// expf is a float32 exp accurate to about 2 ulp (Cephes-style range
// reduction and a degree-6 polynomial). math.Exp in float64 was the single
// largest cost of the attention and SiLU ops.
func expf(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	if x > 88.7 {
		return float32(math.Inf(1))
	}
	if x < -87.3 {
		return 0
	}
	n := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - n*c1 - n*c2
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return y * math.Float32frombits(uint32(int32(n)+127)<<23)
}

func silu(v float32) float32 { return v / (1 + expf(-v)) }

// groupNorm is backend.GroupNorm fused: statistics per group, then one
// pass applying gamma/beta, the time FiLM, SiLU and the residual.
type groupNorm struct {
	out, in, res []float32
	gamma, beta  []float32
	c, n, groups int
	film         int
	time         *[]float32 // the program's current time vector
	silu         bool
	mean, inv    []float32 // per group
	stats        statsTask
}

type statsTask struct{ g *groupNorm }

func (s *statsTask) run(lo, hi int) {
	g := s.g
	cg := g.c / g.groups
	for gi := lo; gi < hi; gi++ {
		seg := g.in[gi*cg*g.n : (gi+1)*cg*g.n]
		var sum float64
		for _, v := range seg {
			sum += float64(v)
		}
		mean := sum / float64(len(seg))
		var sq float64
		for _, v := range seg {
			d := float64(v) - mean
			sq += d * d
		}
		g.mean[gi] = float32(mean)
		g.inv[gi] = float32(1 / math.Sqrt(sq/float64(len(seg))+1e-5))
	}
}

// run applies the normalisation to channels [lo, hi).
func (g *groupNorm) run(lo, hi int) {
	cg := g.c / g.groups
	for ci := lo; ci < hi; ci++ {
		gi := ci / cg
		a := g.inv[gi] * g.gamma[ci]
		b := g.beta[ci] - g.mean[gi]*a
		if g.film >= 0 {
			t := *g.time
			s1, sh := t[g.film+ci]+1, t[g.film+g.c+ci]
			a, b = a*s1, b*s1+sh
		}
		src := g.in[ci*g.n : (ci+1)*g.n]
		dst := g.out[ci*g.n : (ci+1)*g.n]
		switch {
		case g.silu && g.res != nil:
			r := g.res[ci*g.n : (ci+1)*g.n]
			for i, v := range src {
				dst[i] = silu(v*a+b) + r[i]
			}
		case g.silu:
			for i, v := range src {
				dst[i] = silu(v*a + b)
			}
		default:
			for i, v := range src {
				dst[i] = v*a + b
			}
			if g.res != nil {
				r := g.res[ci*g.n : (ci+1)*g.n]
				for i := range dst {
					dst[i] += r[i]
				}
			}
		}
	}
}

// layerNorm is the channel LayerNorm over pixel ranges, with an optional
// residual. mean and inv are per-pixel scratch.
type layerNorm struct {
	out, in, res, g []float32
	c, n            int
	mean, inv       []float32
}

func (l *layerNorm) run(lo, hi int) {
	n := l.n
	mean, inv := l.mean[lo:hi], l.inv[lo:hi]
	clear(mean)
	clear(inv)
	for ci := 0; ci < l.c; ci++ {
		row := l.in[ci*n+lo : ci*n+hi]
		for i, v := range row {
			mean[i] += v
		}
	}
	rc := 1 / float32(l.c)
	for i := range mean {
		mean[i] *= rc
	}
	for ci := 0; ci < l.c; ci++ {
		row := l.in[ci*n+lo : ci*n+hi]
		for i, v := range row {
			d := v - mean[i]
			inv[i] += d * d
		}
	}
	for i := range inv {
		inv[i] = float32(1 / math.Sqrt(float64(inv[i]*rc+1e-5)))
	}
	for ci := 0; ci < l.c; ci++ {
		gc := l.g[ci]
		src := l.in[ci*n+lo : ci*n+hi]
		dst := l.out[ci*n+lo : ci*n+hi]
		for i, v := range src {
			dst[i] = (v - mean[i]) * inv[i] * gc
		}
		if l.res != nil {
			r := l.res[ci*n+lo : ci*n+hi]
			for i := range dst {
				dst[i] += r[i]
			}
		}
	}
}

// linearAttention runs in four parallel phases over the qkv buffer, which
// it overwrites: q softmax per pixel, k softmax per row, the per-head
// context k·vᵀ/n, and out = ctxᵀ·q.
type linearAttention struct {
	out, qkv     []float32
	heads, dh, n int
	ctx          []float32 // heads × dh × dh
	qSoft        qSoftmax
	kSoft        kSoftmax
	context      contextTask
}

type qSoftmax struct{ a *linearAttention }
type kSoftmax struct{ a *linearAttention }
type contextTask struct{ a *linearAttention }

// run normalises q over each head's dh channels for pixels [lo, hi), and
// folds in the dh^-1/2 scale.
func (t *qSoftmax) run(lo, hi int) {
	a := t.a
	n, dh := a.n, a.dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	for h := 0; h < a.heads; h++ {
		q := a.qkv[h*dh*n : (h+1)*dh*n]
		for i := lo; i < hi; i++ {
			m := q[i]
			for d := 1; d < dh; d++ {
				m = max(m, q[d*n+i])
			}
			var s float32
			for d := 0; d < dh; d++ {
				e := expf(q[d*n+i] - m)
				q[d*n+i] = e
				s += e
			}
			s = scale / s
			for d := 0; d < dh; d++ {
				q[d*n+i] *= s
			}
		}
	}
}

// run normalises rows [lo, hi) of k (heads·dh rows of n pixels) over pixels,
// folding in the 1/n that the reference applies to v.
func (t *kSoftmax) run(lo, hi int) {
	a := t.a
	n := a.n
	hid := a.heads * a.dh
	for r := lo; r < hi; r++ {
		row := a.qkv[(hid+r)*n : (hid+r+1)*n]
		m := row[0]
		for _, v := range row {
			m = max(m, v)
		}
		var s float32
		for i, v := range row {
			e := expf(v - m)
			row[i] = e
			s += e
		}
		s = 1 / (s * float32(n))
		for i := range row {
			row[i] *= s
		}
	}
}

// run computes context rows [lo, hi) (each a (head, d) pair): ctx[d][e] = Σ k[d]·v[e].
func (t *contextTask) run(lo, hi int) {
	a := t.a
	n, dh := a.n, a.dh
	hid := a.heads * dh
	for r := lo; r < hi; r++ {
		h := r / dh
		k := a.qkv[(hid+r)*n : (hid+r+1)*n]
		for e := 0; e < dh; e++ {
			v := a.qkv[(2*hid+h*dh+e)*n : (2*hid+h*dh+e+1)*n]
			var s0, s1, s2, s3 float32
			i := 0
			for ; i+4 <= n; i += 4 {
				s0 += k[i] * v[i]
				s1 += k[i+1] * v[i+1]
				s2 += k[i+2] * v[i+2]
				s3 += k[i+3] * v[i+3]
			}
			for ; i < n; i++ {
				s0 += k[i] * v[i]
			}
			a.ctx[r*dh+e] = (s0 + s1) + (s2 + s3)
		}
	}
}

// run computes output rows [lo, hi) (each a (head, e) pair): out[e] = Σ_d ctx[d][e]·q[d].
func (a *linearAttention) run(lo, hi int) {
	n, dh := a.n, a.dh
	for r := lo; r < hi; r++ {
		h, e := r/dh, r%dh
		dst := a.out[r*n : (r+1)*n]
		clear(dst)
		for d := 0; d < dh; d++ {
			c := a.ctx[(h*dh+d)*dh+e]
			q := a.qkv[(h*dh+d)*n : (h*dh+d+1)*n]
			for i, v := range q {
				dst[i] += c * v
			}
		}
	}
}

// attention is full softmax attention with an online softmax over key
// blocks, parallel over query rows. q, k and v are first transposed to
// pixel-major (n × dh) per head so the inner loops run over contiguous dh.
type attention struct {
	out, qkv     []float32
	heads, dh, n int
	qt, kt, vt   []float32 // heads × n × dh
	transpose    transposeTask
}

type transposeTask struct{ a *attention }

// run transposes q (scaled), k and v of rows [lo, hi) of heads×dh channels.
func (t *transposeTask) run(lo, hi int) {
	a := t.a
	n, dh := a.n, a.dh
	hid := a.heads * dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	for r := lo; r < hi; r++ {
		h, d := r/dh, r%dh
		q := a.qkv[r*n : (r+1)*n]
		k := a.qkv[(hid+r)*n : (hid+r+1)*n]
		v := a.qkv[(2*hid+r)*n : (2*hid+r+1)*n]
		base := h * n * dh
		for i := 0; i < n; i++ {
			a.qt[base+i*dh+d] = q[i] * scale
			a.kt[base+i*dh+d] = k[i]
			a.vt[base+i*dh+d] = v[i]
		}
	}
}

// run handles query rows [lo, hi) of all heads (index = head·n + i), one
// query at a time with an online softmax, so memory stays O(n).
func (a *attention) run(lo, hi int) {
	n, dh := a.n, a.dh
	var acc [64]float32 // dh <= 64
	for qi := lo; qi < hi; qi++ {
		h, i := qi/n, qi%n
		q := a.qt[(h*n+i)*dh : (h*n+i+1)*dh]
		kt := a.kt[h*n*dh : (h+1)*n*dh]
		vt := a.vt[h*n*dh : (h+1)*n*dh]
		// Online softmax over keys: running max m and sum s; rescale acc when m grows.
		m := float32(math.Inf(-1))
		var s float32
		accd := acc[:dh]
		clear(accd)
		for j := 0; j < n; j++ {
			kj := kt[j*dh : (j+1)*dh]
			var dot float32
			for d, kv := range kj {
				dot += q[d] * kv
			}
			if dot > m {
				c := expf(m - dot)
				s *= c
				for d := range accd {
					accd[d] *= c
				}
				m = dot
			}
			e := expf(dot - m)
			s += e
			vj := vt[j*dh : (j+1)*dh]
			for d, vv := range vj {
				accd[d] += e * vv
			}
		}
		inv := 1 / s
		for d := 0; d < dh; d++ {
			a.out[(h*dh+d)*n+i] = accd[d] * inv
		}
	}
}
