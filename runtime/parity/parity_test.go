package parity

import (
	"context"
	"fmt"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

var cases = []struct {
	name, ckpt, acts string
	dtype            weights.DType
	tol              float64 // on the restored image in [0,1] and per layer (relative to the layer's scale)
}{
	{"tiny-f32", "tiny_trainer.pt.gz", "tiny_acts.safetensors", weights.F32, 1e-4},
	{"tiny-f16", "tiny_trainer.pt.gz", "tiny_acts.safetensors", weights.F16, 2e-3},
	{"small-f32", "small_state.pt.gz", "small_acts.safetensors", weights.F32, 1e-4},
	{"small-f16", "small_state.pt.gz", "small_acts.safetensors", weights.F16, 2e-3},
}

// layerOrder is the forward order of the recorded activations, so the
// first failure is the layer that went wrong, not one downstream of it.
func layerOrder(levels int) []string {
	names := []string{"init_conv"}
	for i := 0; i < levels; i++ {
		for k := 0; k < 4; k++ {
			names = append(names, fmt.Sprintf("downs.%d.%d", i, k))
		}
	}
	names = append(names, "mid_block1", "mid_attn", "mid_block2")
	for j := 0; j < levels; j++ {
		for k := 0; k < 4; k++ {
			names = append(names, fmt.Sprintf("ups.%d.%d", j, k))
		}
	}
	return append(names, "final_res_block", "final_conv")
}

func maxAbs(v []float32) float64 {
	var m float64
	for _, x := range v {
		m = max(m, float64(max(x, -x)))
	}
	return m
}

// TestLayers runs one UNet pass on the recorded padded input and compares
// every layer's output with PyTorch's, in forward order.
func TestLayers(t *testing.T) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := load(t, tc.ckpt, tc.acts, tc.dtype)
			in := f.Acts["unet_in"]
			g, err := f.Model.Graph(in.Shape[1], in.Shape[2])
			if err != nil {
				t.Fatal(err)
			}
			prog, err := (&cpu.Backend{}).Compile(g, f.Model.Params, true)
			if err != nil {
				t.Fatal(err)
			}
			defer prog.Close()
			enc := f.Model.NewTimeEncoder()
			tm := f.Acts["step0.t"].Data[0]
			if d, s := MaxAbsDiff(enc.Embedding(tm), f.Acts["time_emb"].Data), maxAbs(f.Acts["time_emb"].Data); !(d <= tc.tol*max(1, s)) { // a NaN fails too
				t.Fatalf("time_emb: max abs diff %.3g (scale %.3g)", d, s)
			}
			tv := make([]float32, f.Model.TimeLen())
			enc.Encode(tv, tm)
			out := make([]float32, g.Output.Len())
			if err := prog.Run(in.Data, tv, out); err != nil {
				t.Fatal(err)
			}
			compared := 0
			for _, name := range layerOrder(len(f.Model.Cfg.Mults)) {
				want, ok := f.Acts[name]
				if !ok {
					continue // the Small fixture keeps a subset of layers
				}
				compared++
				got, err := prog.Tap(name)
				if err != nil {
					t.Fatal(err)
				}
				d, s := MaxAbsDiff(got, want.Data), maxAbs(want.Data)
				if !(d <= tc.tol*max(1, s)) {
					t.Fatalf("layer %s: max abs diff %.3g (scale %.3g, tolerance %.3g relative)", name, d, s, tc.tol)
				}
				t.Logf("%-16s max abs diff %.2e (scale %.2f)", name, d, s)
			}
			if compared < 12 {
				t.Fatalf("only %d layers in the fixture", compared)
			}
			if d := MaxAbsDiff(out, f.Acts["final_conv"].Data); !(d <= tc.tol*max(1, maxAbs(out))) {
				t.Fatalf("program output differs from final_conv by %.3g", d)
			}
		})
	}
}

// TestRestore runs whole restores of the 45x37 image through the public
// facade and compares with PyTorch's output: 3 steps for every case, and
// the single-step path (pair 999, -1).
func TestRestore(t *testing.T) {
	type restoreCase struct {
		name, ckpt, acts string
		dtype            weights.DType
		steps            int
		tol              float64
	}
	var all []restoreCase
	for _, tc := range cases {
		all = append(all, restoreCase{tc.name, tc.ckpt, tc.acts, tc.dtype, 3, tc.tol})
	}
	all = append(all, restoreCase{"tiny-f32-one-step", "tiny_trainer.pt.gz", "tiny_acts_s1.safetensors", weights.F32, 1, 1e-4})
	for _, tc := range all {
		t.Run(tc.name, func(t *testing.T) {
			f := load(t, tc.ckpt, tc.acts, tc.dtype)
			xin := f.Acts["x_in"]
			r := restore.New(f.Model, &cpu.Backend{})
			defer r.Close()
			got, err := r.RestorePlanar(context.Background(), xin.Data, restore.Region{W: xin.Shape[2], H: xin.Shape[1]}, restore.Options{Steps: tc.steps})
			if err != nil {
				t.Fatal(err)
			}
			if d := MaxAbsDiff(got, f.Acts["output"].Data); !(d <= tc.tol) {
				t.Fatalf("restored image, %d steps: max abs diff %.3g > %.3g", tc.steps, d, tc.tol)
			} else {
				t.Logf("restored image, %d steps: max abs diff %.2e", tc.steps, d)
			}
		})
	}
}
