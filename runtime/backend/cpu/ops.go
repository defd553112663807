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
	eps          float64
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
		mean := sum64(seg) / float64(len(seg))
		sq := sqDev64(seg, mean)
		g.mean[gi] = float32(mean)
		g.inv[gi] = float32(1 / math.Sqrt(sq/float64(len(seg))+g.eps))
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
			siluAffine(dst, src, g.res[ci*g.n:(ci+1)*g.n], a, b)
		case g.silu:
			siluAffine(dst, src, nil, a, b)
		case g.res != nil:
			affine(dst, src, g.res[ci*g.n:(ci+1)*g.n], a, b)
		default:
			affine(dst, src, nil, a, b)
		}
	}
}

// layerNorm is the channel LayerNorm over pixel ranges, with an optional
// residual. mean and inv are per-pixel scratch.
type layerNorm struct {
	out, in, res, g []float32
	c, n            int
	eps             float64
	mean, inv       []float32
}

func (l *layerNorm) run(lo, hi int) {
	n := l.n
	mean, inv := l.mean[lo:hi], l.inv[lo:hi]
	clear(mean)
	clear(inv)
	for ci := 0; ci < l.c; ci++ {
		addInto(mean, l.in[ci*n+lo:ci*n+hi])
	}
	rc := 1 / float32(l.c)
	for i := range mean {
		mean[i] *= rc
	}
	for ci := 0; ci < l.c; ci++ {
		sqDevAcc(inv, l.in[ci*n+lo:ci*n+hi], mean)
	}
	for i := range inv {
		inv[i] = float32(1 / math.Sqrt(float64(inv[i]*rc)+l.eps))
	}
	for ci := 0; ci < l.c; ci++ {
		gc := l.g[ci]
		src := l.in[ci*n+lo : ci*n+hi]
		dst := l.out[ci*n+lo : ci*n+hi]
		lnApply(dst, src, mean, inv, gc)
		if l.res != nil {
			addInto(dst, l.res[ci*n+lo:ci*n+hi])
		}
	}
}

// linearAttention runs in four parallel phases over the qkv buffer, which
// it overwrites: q softmax per pixel, k softmax per row, the per-head
// context k·vᵀ/n, and out = ctxᵀ·q.
type linearAttention struct {
	out, qkv     []float32
	heads, dh, n int
	ctx          []float32 // heads × dh × dh, stored transposed: ctx[h][e][d]
	qSoft        qSoftmax
	kSoft        kSoftmax
	context      contextTask
}

type qSoftmax struct{ a *linearAttention }
type kSoftmax struct{ a *linearAttention }
type contextTask struct{ a *linearAttention }

// laChunk is the pixel chunk of the q softmax (long enough that the vector
// helpers' call overhead does not count), and laTile the pixel tile of
// the context and output phases: a head's dh rows of a tile stay in cache
// while every row of the task's range uses them.
const (
	laChunk = 256
	laTile  = 512
)

// run normalises q over each head's dh channels for pixels [lo, hi), and
// folds in the dh^-1/2 scale. It works on chunks of pixels so that every
// loop runs along a contiguous row.
func (t *qSoftmax) run(lo, hi int) {
	a := t.a
	n, dh := a.n, a.dh
	scale := float32(1 / math.Sqrt(float64(dh)))
	for h := 0; h < a.heads; h++ {
		qSoftmaxHead(a.qkv[h*dh*n:(h+1)*dh*n], n, dh, lo, hi, scale)
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
		s := expSub(row, maxOf(row))
		scaleVec(row, 1/(s*float32(n)))
	}
}

// run computes context rows [lo, hi) (each a (head, d) pair):
// ctx[d][e] = Σ k[d]·v[e], stored at ctx[h][e][d]. It walks the pixels in
// tiles so that the head's v rows are read from memory once per task.
func (t *contextTask) run(lo, hi int) {
	a := t.a
	n, dh := a.n, a.dh
	hid := a.heads * dh
	for r := lo; r < hi; r++ {
		h, d := r/dh, r%dh
		for e := 0; e < dh; e++ {
			a.ctx[(h*dh+e)*dh+d] = 0
		}
	}
	for i0 := 0; i0 < n; i0 += laTile {
		i1 := min(i0+laTile, n)
		for r := lo; r < hi; r++ {
			h, d := r/dh, r%dh
			k := a.qkv[(hid+r)*n+i0 : (hid+r)*n+i1]
			dotRows(a.ctx[h*dh*dh+d:], dh, k, a.qkv[(2*hid+h*dh)*n+i0:], n, dh)
		}
	}
}

// run computes output rows [lo, hi) (each a (head, e) pair):
// out[e] = Σ_d ctx[d][e]·q[d], a tile of pixels at a time, each tile
// accumulated in registers across the dh rows of q.
func (a *linearAttention) run(lo, hi int) {
	if linearAttentionOut(a, lo, hi) {
		return
	}
	n, dh := a.n, a.dh
	for i0 := 0; i0 < n; i0 += laTile {
		i1 := min(i0+laTile, n)
		for r := lo; r < hi; r++ {
			h := r / dh
			dst := a.out[r*n+i0 : r*n+i1]
			clear(dst)
			q := a.qkv[h*dh*n+i0 : (h*dh+dh-1)*n+i1]
			gemvT(dst, a.ctx[r*dh:(r+1)*dh], q, n)
		}
	}
}

// attention is full softmax attention with an online softmax over blocks
// of attBlock keys, parallel over query rows. q and v are first transposed
// to pixel-major (n × dh) per head, and k to one contiguous dh × B tile per
// block of keys, so a block of scores is Σ_d q_d·k[d][j:j+B] read from one
// tile (the planar rows, n apart, alias in the L1 cache), and the block's
// values add Σ_j p_j·vt[j] to the running output.
type attention struct {
	out, qkv     []float32
	heads, dh, n int
	qt, kt, vt   []float32 // heads × n × dh; kt in dh × B tiles per key block
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
			a.vt[base+i*dh+d] = v[i]
		}
		for j0 := 0; j0 < n; j0 += attBlock {
			j1 := min(j0+attBlock, n)
			copy(a.kt[base+j0*dh+d*(j1-j0):base+j0*dh+(d+1)*(j1-j0)], k[j0:j1])
		}
	}
}

// attBlock is the number of keys scored at a time, and attGroup the
// number of queries that share each block while it is in the L1 cache.
const (
	attBlock = 128
	attGroup = 8
)

// run handles query rows [lo, hi) of all heads (index = head·n + i), in
// groups of attGroup queries of one head that take the key blocks in turn,
// each query with its own online softmax, so memory stays O(n).
func (a *attention) run(lo, hi int) {
	n, dh := a.n, a.dh
	var acc [attGroup][64]float32 // dh <= 64
	var ms, ss [attGroup]float32
	var sc [attBlock]float32
	for q0 := lo; q0 < hi; {
		h := q0 / n
		q1 := min(q0+attGroup, hi, (h+1)*n)
		g := q1 - q0
		for t := range g {
			clear(acc[t][:dh])
			ms[t] = float32(math.Inf(-1))
			ss[t] = 0
		}
		qt := a.qt[q0*dh : q1*dh] // query index head·n + i is the row of qt
		kt := a.kt[h*n*dh : (h+1)*n*dh]
		vt := a.vt[h*n*dh : (h+1)*n*dh]
		for j0 := 0; j0 < n; j0 += attBlock {
			j1 := min(j0+attBlock, n)
			kb, vb := kt[j0*dh:j1*dh], vt[j0*dh:j1*dh]
			for t := range g {
				p := sc[:j1-j0]
				clear(p)
				gemvT(p, qt[t*dh:(t+1)*dh], kb, j1-j0)
				accd := acc[t][:dh]
				m := ms[t]
				if mb := maxOf(p); mb > m {
					c := expf(m - mb)
					ss[t] *= c
					for d := range accd {
						accd[d] *= c
					}
					m = mb
					ms[t] = m
				}
				ss[t] += expSub(p, m)
				gemvT(accd, p, vb, dh)
			}
		}
		for t := range g {
			i := q0 - h*n + t
			inv := 1 / ss[t]
			for d, v := range acc[t][:dh] {
				a.out[(h*dh+d)*n+i] = v * inv
			}
		}
		q0 = q1
	}
}
