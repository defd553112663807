package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/ref"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

type fakeWeights map[string][]float32

func (f fakeWeights) Float32(name string) ([]float32, error) {
	v, ok := f[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %s", name)
	}
	return v, nil
}

// Info and Raw complete backend.Weights: the CPU backend reads Float32 only.
func (f fakeWeights) Info(name string) (weights.TensorInfo, bool) {
	v, ok := f[name]
	return weights.TensorInfo{Name: name, DType: weights.F32, Shape: []int{len(v)}}, ok
}

func (f fakeWeights) Raw(name string) ([]byte, error) {
	return nil, fmt.Errorf("no raw tensor %s", name)
}

func randVec(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// runOne compiles a one-op graph whose op reads the graph input (and a
// second input tensor placed after it in the same input buffer is not
// possible, so residuals reuse the input) and returns the output.
func runOne(t *testing.T, g *backend.Graph, w fakeWeights, input, time []float32, threads int) []float32 {
	t.Helper()
	prog, err := (&Backend{Threads: threads}).Compile(g, w, false)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	out := make([]float32, g.Output.Len())
	if err := prog.Run(input, time, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkClose(t *testing.T, name string, got, want []float32, tol float64) {
	t.Helper()
	var worst float64
	for i := range want {
		d := math.Abs(float64(got[i] - want[i]))
		worst = max(worst, d/(1+math.Abs(float64(want[i]))))
		if d > tol*(1+math.Abs(float64(want[i]))) || math.IsNaN(float64(got[i])) {
			t.Fatalf("%s: [%d] = %v, want %v", name, i, got[i], want[i])
		}
	}
}

var sizes = [][2]int{{1, 1}, {3, 3}, {7, 7}, {17, 17}, {33, 33}, {37, 45}}

func TestGroupNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, hw := range sizes {
		for _, tc := range []struct {
			c, groups  int
			film, silu bool
			residual   bool
			eps        float32
		}{{8, 8, false, false, false, 1e-5}, {16, 8, true, true, false, 1e-5}, {24, 8, true, true, true, 1e-5}, {6, 3, false, true, true, 1e-3}} {
			name := fmt.Sprintf("%dx%d/c%d/g%d/film%v/silu%v/res%v", hw[1], hw[0], tc.c, tc.groups, tc.film, tc.silu, tc.residual)
			t.Run(name, func(t *testing.T) {
				h, w, c := hw[0], hw[1], tc.c
				g := &backend.Graph{}
				g.Input = g.NewTensor(c, h, w)
				g.Output = g.NewTensor(c, h, w)
				op := &backend.GroupNorm{Out: g.Output, In: g.Input, Gamma: "g", Beta: "b", Groups: tc.groups, Eps: tc.eps, FiLM: -1, SiLU: tc.silu}
				time := randVec(r, 2*c+3, 0.5)
				if tc.film {
					op.FiLM = 3
					g.TimeLen = len(time)
				} else {
					time = nil
				}
				if tc.residual {
					op.Res = g.Input
				}
				g.Add(op)
				in := randVec(r, c*h*w, 2)
				wts := fakeWeights{"g": randVec(r, c, 1), "b": randVec(r, c, 1)}
				want := make([]float32, len(in))
				ref.GroupNorm(want, in, wts["g"], wts["b"], c, h*w, tc.groups, tc.eps)
				if tc.film {
					ref.ScaleShift(want, time[3:3+c], time[3+c:3+2*c], c, h*w)
				}
				if tc.silu {
					ref.SiLU(want)
				}
				if tc.residual {
					ref.Add(want, want, in)
				}
				got := runOne(t, g, wts, in, time, 2)
				checkClose(t, name, got, want, 1e-5)
			})
		}
	}
}

func TestLayerNorm(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, hw := range sizes {
		for ci, c := range []int{1, 3, 13, 32} {
			// 1e-3: weights trained under half-precision autocast; 0.05 is large
			// enough next to the inputs' variance that ignoring eps would fail.
			eps := []float32{1e-5, 1e-3, 0.05, 1e-5}[ci]
			for _, residual := range []bool{false, true} {
				h, w := hw[0], hw[1]
				g := &backend.Graph{}
				g.Input = g.NewTensor(c, h, w)
				g.Output = g.NewTensor(c, h, w)
				op := &backend.LayerNorm{Out: g.Output, In: g.Input, G: "g", Eps: eps}
				if residual {
					op.Res = g.Input
				}
				g.Add(op)
				in := randVec(r, c*h*w, 3)
				wts := fakeWeights{"g": randVec(r, c, 1)}
				want := make([]float32, len(in))
				ref.ChannelLayerNorm(want, in, wts["g"], c, h*w, eps)
				if residual {
					ref.Add(want, want, in)
				}
				name := fmt.Sprintf("%dx%d/c%d/eps%g/res%v", w, h, c, eps, residual)
				checkClose(t, name, runOne(t, g, wts, in, nil, 2), want, 1e-4)
			}
		}
	}
}

func TestAttentionOps(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, hw := range sizes {
		for _, heads := range []struct{ h, d int }{{1, 3}, {2, 5}, {4, 32}} {
			for _, linear := range []bool{true, false} {
				h, w := hw[0], hw[1]
				hid := heads.h * heads.d
				g := &backend.Graph{}
				g.Input = g.NewTensor(3*hid, h, w)
				g.Output = g.NewTensor(hid, h, w)
				if linear {
					g.Add(&backend.LinearAttention{Out: g.Output, QKV: g.Input, Heads: heads.h, DimHead: heads.d})
				} else {
					g.Add(&backend.Attention{Out: g.Output, QKV: g.Input, Heads: heads.h, DimHead: heads.d})
				}
				in := randVec(r, 3*hid*h*w, 2)
				want := make([]float32, hid*h*w)
				if linear {
					ref.LinearAttention(want, in, heads.h, heads.d, h*w)
				} else {
					ref.Attention(want, in, heads.h, heads.d, h*w)
				}
				name := fmt.Sprintf("%dx%d/heads%d/dh%d/linear%v", w, h, heads.h, heads.d, linear)
				// the program may overwrite its input buffer; hand it a copy
				got := runOne(t, g, fakeWeights{}, append([]float32(nil), in...), nil, 2)
				checkClose(t, name, got, want, 1e-4)
			}
		}
	}
}

func TestExpf(t *testing.T) {
	var worst float64
	for x := float32(-87); x < 88; x += 0.0137 {
		got, want := float64(expf(x)), math.Exp(float64(x))
		worst = max(worst, math.Abs(got-want)/want)
	}
	if worst > 3e-7 {
		t.Fatalf("expf relative error %.3g", worst)
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Fatal("expf does not saturate")
	}
}

// A compiled program must not allocate per pass (the diffusion step loop).
func TestRunDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	c, h, w := 8, 16, 16
	g := &backend.Graph{}
	g.Input = g.NewTensor(c, h, w)
	mid := g.NewTensor(c, h, w)
	g.Output = g.NewTensor(c, h, w)
	g.TimeLen = 2 * c
	g.Add(&backend.Conv{Out: mid, A: g.Input, Weight: "w", Bias: "b", K: 3, Stride: 1, Pad: 1})
	g.Add(&backend.GroupNorm{Out: g.Output, In: mid, Res: g.Input, Gamma: "g", Beta: "b", Groups: 4, Eps: 1e-5, FiLM: 0, SiLU: true})
	wts := fakeWeights{"w": randVec(r, c*c*9, 0.3), "b": randVec(r, c, 0.1), "g": randVec(r, c, 1)}
	prog, err := (&Backend{Threads: 2}).Compile(g, wts, false)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	in, tm, out := randVec(r, c*h*w, 1), randVec(r, 2*c, 1), make([]float32, c*h*w)
	if a := testing.AllocsPerRun(20, func() { _ = prog.Run(in, tm, out) }); a != 0 {
		t.Fatalf("Run allocates %v times per pass", a)
	}
}

// The compiled attention ops must not allocate per pass either.
func TestAttentionDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, linear := range []bool{true, false} {
		heads, dh, h, w := 2, 32, 19, 23
		hid := heads * dh
		g := &backend.Graph{}
		g.Input = g.NewTensor(3*hid, h, w)
		g.Output = g.NewTensor(hid, h, w)
		if linear {
			g.Add(&backend.LinearAttention{Out: g.Output, QKV: g.Input, Heads: heads, DimHead: dh})
		} else {
			g.Add(&backend.Attention{Out: g.Output, QKV: g.Input, Heads: heads, DimHead: dh})
		}
		prog, err := (&Backend{Threads: 2}).Compile(g, fakeWeights{}, false)
		if err != nil {
			t.Fatal(err)
		}
		in := randVec(r, 3*hid*h*w, 1)
		out := make([]float32, hid*h*w)
		allocs := testing.AllocsPerRun(5, func() {
			if err := prog.Run(in, nil, out); err != nil {
				t.Fatal(err)
			}
		})
		prog.Close()
		if allocs != 0 {
			t.Fatalf("linear=%v: %v allocations per run", linear, allocs)
		}
	}
}

// BenchmarkAttentionOps times the attention ops at the sizes of the UNet:
// linear attention at full resolution, full attention at the bottleneck.
func BenchmarkAttentionOps(b *testing.B) {
	for _, tc := range []struct {
		linear bool
		h, w   int
	}{{true, 256, 256}, {false, 32, 32}, {false, 64, 64}} {
		heads, dh := 4, 32
		kind := "full"
		if tc.linear {
			kind = "linear"
		}
		b.Run(fmt.Sprintf("%s/%dx%d/heads%d/dh%d", kind, tc.w, tc.h, heads, dh), func(b *testing.B) {
			hid, n := heads*dh, tc.h*tc.w
			g := &backend.Graph{}
			g.Input = g.NewTensor(3*hid, tc.h, tc.w)
			g.Output = g.NewTensor(hid, tc.h, tc.w)
			// multiply-adds of the two products (context and output, or
			// scores and values)
			macs := 2 * float64(heads) * float64(n) * float64(dh)
			if tc.linear {
				g.Add(&backend.LinearAttention{Out: g.Output, QKV: g.Input, Heads: heads, DimHead: dh})
				macs *= float64(dh)
			} else {
				g.Add(&backend.Attention{Out: g.Output, QKV: g.Input, Heads: heads, DimHead: dh})
				macs *= float64(n)
			}
			prog, err := (&Backend{Threads: 2}).Compile(g, fakeWeights{}, false)
			if err != nil {
				b.Fatal(err)
			}
			defer prog.Close()
			r := rand.New(rand.NewPCG(11, 12))
			src := randVec(r, 3*hid*n, 1)
			in := make([]float32, len(src))
			out := make([]float32, hid*n)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				copy(in, src)
				b.StartTimer()
				if err := prog.Run(in, nil, out); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(2*macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// siluAffine must agree with the scalar silu everywhere, saturating ends
// included, with and without the residual.
func TestSiLUAffine(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, n := range []int{1, 15, 16, 17, 33, 100, 1665} {
		src, res := randVec(r, n, 40), randVec(r, n, 1)
		src[0] = 100
		if n > 1 {
			src[1] = -100
		}
		for _, withRes := range []bool{false, true} {
			var rr []float32
			if withRes {
				rr = res
			}
			got := make([]float32, n)
			siluAffine(got, src, rr, 0.7, -0.2)
			for i, v := range src {
				want := silu(v*0.7 - 0.2)
				if withRes {
					want += res[i]
				}
				if d := math.Abs(float64(got[i] - want)); d > 1e-5*(1+math.Abs(float64(want))) {
					t.Fatalf("n=%d res=%v: [%d] silu(%v) = %v, want %v", n, withRes, i, v, got[i], want)
				}
			}
		}
	}
}
