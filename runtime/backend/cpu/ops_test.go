package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/backendtest"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func randVec(r *rand.Rand, n int, scale float64) []float32 { return backendtest.Randn(r, n, scale) }

// TestOps runs the backends' shared op table (backendtest.Ops).
func TestOps(t *testing.T) {
	backendtest.Ops(t, &Backend{Threads: 2}, backendtest.Options{Tol: 1e-5})
}

func TestExpf(t *testing.T) {
	var worst float64
	for x := float32(-87); x < 88; x += 0.0137 {
		got, want := float64(expf(x)), math.Exp(float64(x))
		worst = max(worst, math.Abs(got-want)/want)
	}
	if !(worst <= 3e-7) { // a NaN fails too
		t.Fatalf("expf relative error %.3g", worst)
	}
	if expf(-100) != 0 || !math.IsInf(float64(expf(100)), 1) {
		t.Fatal("expf does not saturate")
	}
}

// A compiled program must not allocate per pass (the diffusion step loop):
// the whole Tiny UNet, with every op kind and fusion in it.
func TestRunDoesNotAllocate(t *testing.T) {
	m, err := model.FromTensors(weights.Tiny, model.RandomWeights(weights.Tiny, 1, weights.F16))
	if err != nil {
		t.Fatal(err)
	}
	g, err := m.Graph(32, 48)
	if err != nil {
		t.Fatal(err)
	}
	prog, err := (&Backend{Threads: 2}).Compile(g, m.Params, false)
	if err != nil {
		t.Fatal(err)
	}
	defer prog.Close()
	r := rand.New(rand.NewPCG(7, 8))
	in, tm, out := randVec(r, g.Input.Len(), 1), randVec(r, m.TimeLen(), 1), make([]float32, g.Output.Len())
	allocs := testing.AllocsPerRun(5, func() {
		if err := prog.Run(in, tm, out); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Fatalf("Run allocates %v times per pass", allocs)
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
			prog, err := (&Backend{Threads: 2}).Compile(g, backendtest.NewWeights(), false)
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
