package backendtest

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/ref"
)

// sizes (h, w) every op runs at: odd ones leave partial blocks in every
// direction; widths that are multiples of 8 take aligned vector paths.
var sizes = [][2]int{{1, 1}, {3, 3}, {7, 7}, {17, 17}, {33, 33}, {37, 45}, {9, 16}, {5, 24}}

// Options choose what Ops runs and how close it must be.
type Options struct {
	Tol  float64 // the largest error, relative to the largest reference magnitude
	Kind string  // "conv", "groupnorm", "layernorm" or "attention"; "" for all
}

// opCase builds one op under test at h×w and its reference output; a nil
// graph skips that size.
type opCase struct {
	kind, name string
	build      func(r *rand.Rand, h, w int) (g *Graph, time, want []float32)
}

// Ops runs every op of the table on be at every size of sizes and compares
// it with the reference.
func Ops(t *testing.T, be backend.Backend, o Options) {
	for i, c := range cases() {
		if o.Kind != "" && c.kind != o.Kind {
			continue
		}
		for j, sz := range sizes {
			h, w := sz[0], sz[1]
			// Seeded per case and size, so that Kind does not change the values.
			g, time, want := c.build(rand.New(rand.NewPCG(uint64(i), uint64(j))), h, w)
			if g == nil {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s/%dx%d", c.kind, c.name, w, h), func(t *testing.T) {
				Compare(t, g.Run(t, be, time), want, o.Tol)
			})
		}
	}
}

func cases() []opCase {
	var cs []opCase
	for _, c := range convCases {
		for _, f16 := range []bool{false, true} {
			name := c.name + "/f32"
			if f16 {
				name = c.name + "/f16"
			}
			cs = append(cs, opCase{"conv", name, func(r *rand.Rand, h, w int) (*Graph, []float32, []float32) {
				g, want := c.build(r, h, w, f16)
				return g, nil, want
			}})
		}
	}
	for _, c := range groupNormCases {
		cs = append(cs, opCase{"groupnorm", c.name, c.build})
	}
	for i, c := range []int{1, 5, 13, 32} {
		eps := []float32{1e-5, 1e-3, 0.05, 1e-5}[i] // 0.05: ignoring eps would fail
		for _, res := range []bool{false, true} {
			cs = append(cs, opCase{"layernorm", fmt.Sprintf("c%d/eps%g/res=%v", c, eps, res),
				func(r *rand.Rand, h, w int) (*Graph, []float32, []float32) { return layerNorm(r, c, eps, res, h, w) }})
		}
	}
	for _, linear := range []bool{true, false} {
		for _, split := range []bool{false, true} {
			for _, s := range []struct{ heads, dh int }{{1, 3}, {2, 5}, {3, 13}, {4, 32}, {1, 64}} {
				name := fmt.Sprintf("linear=%v/split=%v/h%d_d%d", linear, split, s.heads, s.dh)
				cs = append(cs, opCase{"attention", name, func(r *rand.Rand, h, w int) (*Graph, []float32, []float32) {
					if !linear && h*w > 1200 && s.heads*s.dh > 40 {
						return nil, nil, nil // the O(n²) reference gets slow; smaller shapes cover 45x37
					}
					g, qkv := AttentionGraph(r, linear, split, s.heads, s.dh, h, w)
					return g, nil, AttentionRef(linear, qkv, s.heads, s.dh, h*w)
				}})
			}
		}
	}
	return cs
}

type convCase struct {
	name           string
	ca, cb, cout   int
	k, stride, pad int
	up, bias, res  bool
	maxH           int // 0: any; the slow reference limits the widest case
}

var convCases = []convCase{
	{name: "7x7 p3", ca: 6, cout: 5, k: 7, stride: 1, pad: 3, bias: true},
	{name: "3x3 p1", ca: 13, cout: 13, k: 3, stride: 1, pad: 1, bias: true},
	{name: "1x1 bias", ca: 13, cout: 19, k: 1, stride: 1, bias: true},
	{name: "1x1 no bias", ca: 5, cout: 40, k: 1, stride: 1},
	{name: "4x4 s2 p1", ca: 5, cout: 13, k: 4, stride: 2, pad: 1, bias: true},
	{name: "3x3 upsample", ca: 13, cout: 5, k: 3, stride: 1, pad: 1, up: true, bias: true},
	{name: "3x3 concat", ca: 5, cb: 3, cout: 13, k: 3, stride: 1, pad: 1, bias: true},
	{name: "3x3 residual", ca: 13, cout: 13, k: 3, stride: 1, pad: 1, bias: true, res: true},
	{name: "1x1 concat residual", ca: 3, cb: 5, cout: 13, k: 1, stride: 1, bias: true, res: true},
	{name: "3x3 wide", ca: 40, cb: 24, cout: 61, k: 3, stride: 1, pad: 1, bias: true, maxH: 17}, // GPU: storage weights
	{name: "7x7 cout 70", ca: 3, cout: 70, k: 7, stride: 1, pad: 3, bias: true},                 // GPU: three tiled channel blocks
}

// build makes the conv on an h×w input (2h×2w after an upsample); a
// residual has the output's size, which is the input's for the cases that
// have one.
func (c convCase) build(r *rand.Rand, h, w int, f16 bool) (*Graph, []float32) {
	hi, wi := h, w
	if c.up {
		hi, wi = 2*h, 2*w
	}
	if hi+2*c.pad < c.k || (c.maxH > 0 && h > c.maxH) {
		return nil, nil
	}
	cin := c.ca + c.cb
	ho, wo := (hi+2*c.pad-c.k)/c.stride+1, (wi+2*c.pad-c.k)/c.stride+1
	g := NewGraph(h, w)
	op := &backend.Conv{Name: "conv", Weight: "w", K: c.k, Stride: c.stride, Pad: c.pad, Upsample: c.up}
	wt := g.W.Set("w", Randn(r, c.cout*cin*c.k*c.k, 1/float64(cin*c.k)), f16)
	var bias []float32
	if c.bias {
		bias, op.Bias = g.W.Set("b", Randn(r, c.cout, 0.5), false), "b"
	}
	in := Randn(r, cin*h*w, 1)
	op.A = g.Input(c.ca, in[:c.ca*h*w])
	if c.cb > 0 {
		op.B = g.Input(c.cb, in[c.ca*h*w:])
	}
	var res []float32
	if c.res {
		res = Randn(r, c.cout*ho*wo, 1)
		op.Res = g.Input(c.cout, res)
	}
	op.Out = g.G.NewTensor(c.cout, ho, wo)
	g.G.Add(op)
	if c.up {
		up := make([]float32, cin*hi*wi)
		ref.Upsample2x(up, in, cin, h, w)
		in = up
	}
	want := make([]float32, c.cout*ho*wo)
	ref.Conv2D(want, in, wt, bias, cin, hi, wi, c.cout, c.k, c.stride, c.pad)
	if c.res {
		ref.Add(want, want, res)
	}
	return g, want
}

type groupNormCase struct {
	name      string
	c, groups int
	eps       float32
	film      bool
	silu, res bool
}

var groupNormCases = []groupNormCase{
	{name: "plain", c: 5, groups: 5, eps: 1e-5},
	{name: "film silu eps1e-3", c: 6, groups: 3, eps: 1e-3, film: true, silu: true},
	{name: "silu res", c: 13, groups: 1, eps: 1e-5, silu: true, res: true},
	{name: "film silu res", c: 12, groups: 4, eps: 1e-5, film: true, silu: true, res: true},
}

func (c groupNormCase) build(r *rand.Rand, h, w int) (*Graph, []float32, []float32) {
	n := h * w
	if c.c/c.groups*n == 1 {
		// A group of one value: the output is beta plus rounding that
		// 1/sqrt(eps) amplifies, in whatever order a backend computes.
		return nil, nil, nil
	}
	g := NewGraph(h, w)
	gamma, beta := g.W.Set("g", Randn(r, c.c, 1), false), g.W.Set("b", Randn(r, c.c, 1), false)
	x := Randn(r, c.c*n, 3)
	for i := range x {
		x[i] += 2 // a mean far from 0 tests the variance's stability
	}
	op := &backend.GroupNorm{Name: "gn", In: g.Input(c.c, x), Gamma: "g", Beta: "b", Groups: c.groups, Eps: c.eps, FiLM: -1, SiLU: c.silu}
	// A time vector with junk around the FiLM slice, to catch offset errors.
	time := Randn(r, 3+2*c.c+2, 1)
	if c.film {
		op.FiLM = 3
	}
	var res []float32
	if c.res {
		res = Randn(r, c.c*n, 1)
		op.Res = g.Input(c.c, res)
	}
	op.Out = g.G.NewTensor(c.c, h, w)
	g.G.Add(op)
	want := make([]float32, len(x))
	ref.GroupNorm(want, x, gamma, beta, c.c, n, c.groups, c.eps)
	if c.film {
		ref.ScaleShift(want, time[3:3+c.c], time[3+c.c:3+2*c.c], c.c, n)
	}
	if c.silu {
		ref.SiLU(want)
	}
	if c.res {
		ref.Add(want, want, res)
	}
	return g, time, want
}

func layerNorm(r *rand.Rand, c int, eps float32, res bool, h, w int) (*Graph, []float32, []float32) {
	g := NewGraph(h, w)
	gain := g.W.Set("g", Randn(r, c, 1), false)
	x := Randn(r, c*h*w, 2)
	op := &backend.LayerNorm{Name: "ln", In: g.Input(c, x), G: "g", Eps: eps}
	var xr []float32
	if res {
		xr = Randn(r, len(x), 1)
		op.Res = g.Input(c, xr)
	}
	op.Out = g.G.NewTensor(c, h, w)
	g.G.Add(op)
	want := make([]float32, len(x))
	ref.ChannelLayerNorm(want, x, gain, c, h*w, eps)
	if res {
		ref.Add(want, want, xr)
	}
	return g, nil, want
}

// AttentionGraph builds an attention op (linear or full) on a qkv tensor of
// 3·heads·dh channels: the graph input, or with split the output of a 1x1
// conv from a 7-channel input, which backends may split or fuse. It returns
// the graph and the qkv values the reference sees.
func AttentionGraph(r *rand.Rand, linear, split bool, heads, dh, h, w int) (*Graph, []float32) {
	hid := heads * dh
	g := NewGraph(h, w)
	var qkv backend.Tensor
	var x []float32
	if split {
		const cin = 7
		in := Randn(r, cin*h*w, 1)
		wt, b := g.W.Set("w", Randn(r, 3*hid*cin, 0.8), true), g.W.Set("b", Randn(r, 3*hid, 0.3), false)
		qkv = g.G.NewTensor(3*hid, h, w)
		g.G.Add(&backend.Conv{Name: "to_qkv", A: g.Input(cin, in), Out: qkv, Weight: "w", Bias: "b", K: 1, Stride: 1})
		x = make([]float32, qkv.Len())
		ref.Conv2D(x, in, wt, b, cin, h, w, 3*hid, 1, 1, 0)
	} else {
		x = Randn(r, 3*hid*h*w, 2)
		qkv = g.Input(3*hid, x)
	}
	out := g.G.NewTensor(hid, h, w)
	if linear {
		g.G.Add(&backend.LinearAttention{Name: "la", QKV: qkv, Heads: heads, DimHead: dh, Out: out})
	} else {
		g.G.Add(&backend.Attention{Name: "at", QKV: qkv, Heads: heads, DimHead: dh, Out: out})
	}
	return g, x
}

// AttentionRef is the reference output of AttentionGraph's op.
func AttentionRef(linear bool, qkv []float32, heads, dh, n int) []float32 {
	out := make([]float32, heads*dh*n)
	if linear {
		ref.LinearAttention(out, qkv, heads, dh, n)
	} else {
		ref.Attention(out, qkv, heads, dh, n)
	}
	return out
}
