package model_test

import (
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func openRandom(t *testing.T, cfg weights.Config) *model.Model {
	t.Helper()
	m, err := model.FromTensors(cfg, model.RandomWeights(cfg, 1, weights.F16))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestGraphShapesAndMemoryPlan(t *testing.T) {
	for _, cfg := range []weights.Config{weights.Tiny, weights.Small} {
		m := openRandom(t, cfg)
		g, err := m.Graph(64, 48)
		if err != nil {
			t.Fatal(err)
		}
		if g.Input.C != 6 || g.Output.C != 3 || g.Output.H != 64 || g.Output.W != 48 {
			t.Fatalf("%s: input %+v output %+v", cfg.Name, g.Input, g.Output)
		}
		if mid := g.Taps["mid_attn"]; mid.H != 8 || mid.W != 6 || mid.C != cfg.Dim*cfg.Mults[3] {
			t.Fatalf("%s: mid_attn %+v", cfg.Name, mid)
		}
		naive := 0
		for _, tt := range g.Tensors {
			naive += tt.Len()
		}
		plan := g.PlanMemory([]backend.Tensor{g.Input, g.Output})
		if plan.Total() > naive/3 {
			t.Errorf("%s: planned %d values, naive %d: liveness reuse is not working", cfg.Name, plan.Total(), naive)
		}
		// No op may read a slot that a later-written tensor has overwritten:
		// simulate slot ownership through the op list.
		owner := map[int]int{}
		owner[plan.Slot[g.Input.ID]] = g.Input.ID
		for _, op := range g.Ops {
			for _, in := range op.Inputs() {
				if owner[plan.Slot[in.ID]] != in.ID {
					t.Fatalf("%s: %s reads tensor %d whose slot now holds %d", cfg.Name, op.Label(), in.ID, owner[plan.Slot[in.ID]])
				}
			}
			out := op.Output()
			for _, in := range op.Inputs() {
				if plan.Slot[in.ID] == plan.Slot[out.ID] {
					t.Fatalf("%s: %s writes over its own input", cfg.Name, op.Label())
				}
			}
			owner[plan.Slot[out.ID]] = out.ID
		}
	}
}

func TestGraphRejectsBadSizes(t *testing.T) {
	m := openRandom(t, weights.Tiny)
	for _, hw := range [][2]int{{0, 16}, {15, 16}, {16, 40}, {-16, 16}} {
		if _, err := m.Graph(hw[0], hw[1]); err == nil {
			t.Errorf("Graph(%d, %d) accepted", hw[0], hw[1])
		}
	}
}

func TestTimeVector(t *testing.T) {
	m := openRandom(t, weights.Tiny)
	// 8 down blocks, 2 middle, 8 up, 1 final, each 2*32 values.
	if got, want := m.TimeLen(), 19*64; got != want {
		t.Fatalf("TimeLen = %d, want %d", got, want)
	}
	enc := m.NewTimeEncoder()
	a, b := make([]float32, m.TimeLen()), make([]float32, m.TimeLen())
	enc.Encode(a, 993.6)
	enc.Encode(b, 433.6)
	same := true
	for i := range a {
		same = same && a[i] == b[i]
	}
	if same {
		t.Fatal("time vector does not depend on time")
	}
	if n := testing.AllocsPerRun(10, func() { enc.Encode(a, 500) }); n != 0 {
		t.Fatalf("Encode allocates %v times", n)
	}
}

// The pack's LayerNorm epsilon reaches every channel LayerNorm of the graph:
// weights trained under half precision run wrongly with any other.
func TestGraphNormEps(t *testing.T) {
	for _, eps := range []float32{weights.DefaultNormEps, 1e-3} {
		cfg := weights.Tiny
		cfg.NormEps = eps
		g, err := openRandom(t, cfg).Graph(32, 32)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, op := range g.Ops {
			if ln, ok := op.(*backend.LayerNorm); ok {
				n++
				if ln.Eps != eps {
					t.Errorf("%s: eps %g, want %g", ln.Name, ln.Eps, eps)
				}
			}
		}
		if n == 0 {
			t.Fatal("no LayerNorm in the graph")
		}
	}
}
