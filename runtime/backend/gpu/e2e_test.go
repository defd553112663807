package gpu

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// tinyModel is the Tiny UNet with random weights, stored like a converted
// pack: conv and linear matrices f16, vectors f32.
func tinyModel(t testing.TB, seed uint64) *model.Model {
	t.Helper()
	m, err := model.FromTensors(weights.Tiny, model.RandomWeights(weights.Tiny, seed, weights.F16))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func testImage(r *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.Float64()*2 - 1)
	}
	return x
}

// unetPass is one pass of the Tiny model (weights from seed) at size×size
// (padded): its graph, a random input image and the time vector of step 500.
func unetPass(t testing.TB, seed uint64, size int) (m *model.Model, g *backend.Graph, in, tv []float32) {
	t.Helper()
	m = tinyModel(t, seed)
	g, err := m.Graph(size, size)
	if err != nil {
		t.Fatal(err)
	}
	in = testImage(rand.New(rand.NewPCG(seed, seed)), g.Input.Len())
	tv = make([]float32, m.TimeLen())
	m.NewTimeEncoder().Encode(tv, 500)
	return m, g, in, tv
}

// TestUNetPassMatchesCPU runs one Tiny UNet pass (48x48 padded) on the GPU,
// with each conv kernel, and on the CPU backend and compares every tapped
// layer, so a mismatch names the first layer that differs.
func TestUNetPassMatchesCPU(t *testing.T) {
	gpuBackend(t)
	m, g, in, tv := unetPass(t, 1, 48)

	cpuProg, err := (&cpu.Backend{}).Compile(g, m.Params, true)
	if err != nil {
		t.Fatalf("cpu compile: %v", err)
	}
	defer cpuProg.Close()
	cpuOut := make([]float32, g.Output.Len())
	if err := cpuProg.Run(in, tv, cpuOut); err != nil {
		t.Fatalf("cpu run: %v", err)
	}
	// Walk taps in graph order.
	order := map[int]int{}
	for i, op := range g.Ops {
		order[op.Output().ID] = i
	}
	var names []string
	for n := range g.Taps {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		return cmp.Or(cmp.Compare(order[g.Taps[a].ID], order[g.Taps[b].ID]), strings.Compare(a, b))
	})

	for _, kern := range append(convKernels, ConvMixed) {
		t.Run(kern, func(t *testing.T) {
			p, err := convBackend(t, convSetup{kernel: kern}).Compile(g, m.Params, true)
			if err != nil {
				t.Fatalf("gpu compile: %v", err)
			}
			defer p.Close()
			if kern == ConvMixed { // tiled for the strided downsamples only
				ks := strings.Join(p.(*Program).Kernels(), "; ")
				if !strings.Contains(ks, ": conv tiled") || strings.Contains(ks, "conv3x3 tiled") ||
					!strings.Contains(ks, "conv3x3 f16") {
					t.Errorf("mixed kernels: %s", ks)
				}
			}
			out := make([]float32, g.Output.Len())
			if err := p.Run(in, tv, out); err != nil {
				t.Fatalf("gpu run: %v", err)
			}
			t.Logf("%s", p.(*Program).Summary())
			for _, name := range names {
				a, err := p.Tap(name)
				if err != nil {
					t.Fatal(err)
				}
				b, err := cpuProg.Tap(name)
				if err != nil {
					t.Fatal(err)
				}
				if d, s := maxDiff(a, b); d > 1e-3*s {
					t.Fatalf("layer %s: max abs diff %.3g (scale %.3g)", name, d, s)
				}
			}
			if d, s := maxDiff(out, cpuOut); d > 1e-3*s {
				t.Fatalf("output: max abs diff %.3g (scale %.3g)", d, s)
			}
		})
	}
}

// maxDiff is the largest |a[i] - b[i]|, +Inf where the lengths differ or a
// value is NaN (so a NaN fails every threshold), and the largest |b[i]|, at
// least 1.
func maxDiff(a, b []float32) (diff, scale float64) {
	if len(a) != len(b) {
		return math.Inf(1), 1
	}
	scale = 1
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		if math.IsNaN(d) {
			return math.Inf(1), scale
		}
		diff, scale = max(diff, d), max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}
