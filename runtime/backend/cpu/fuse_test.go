package cpu

import (
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// The headwise attentions plan less memory and give the two ops' outputs
// bit for bit: the same UNet pass compiled with taps (no fusion: every
// layer's output stays readable) and without.
func TestHeadwiseAttentionMatchesUnfused(t *testing.T) {
	cfg := weights.Tiny
	m, err := model.FromTensors(cfg, model.RandomWeights(cfg, 7, weights.F32))
	if err != nil {
		t.Fatal(err)
	}
	mult := model.Multiple(cfg)
	h, w := 2*mult, 3*mult
	g, err := m.Graph(h, w)
	if err != nil {
		t.Fatal(err)
	}
	pinned := []backend.Tensor{g.Input, g.Output}
	fused, headBuf := fuseHeads(g, pinned)
	if fused == g {
		t.Fatal("the Tiny graph has no qkv convolution to fuse")
	}
	before, after := g.PlanMemory(pinned).Total(), fused.PlanMemory(pinned).Total()+headBuf
	if after >= before {
		t.Errorf("planned activations: %d floats unfused, %d headwise", before, after)
	}
	if got := (&Backend{}).Device().PlannedBytes(g); got != 4*int64(after) {
		t.Errorf("Device().PlannedBytes = %d, want %d", got, 4*after)
	}
	t.Logf("planned activations: %d floats unfused, %d headwise (%.2fx)", before, after, float64(after)/float64(before))
	r := rand.New(rand.NewPCG(1, 2))
	in := make([]float32, g.Input.Len())
	for i := range in {
		in[i] = float32(r.NormFloat64())
	}
	tv := make([]float32, g.TimeLen)
	for i := range tv {
		tv[i] = float32(r.NormFloat64())
	}
	var outs [2][]float32
	for i, taps := range []bool{true, false} {
		prog, err := (&Backend{Threads: 2}).Compile(g, m.Params, taps)
		if err != nil {
			t.Fatal(err)
		}
		outs[i] = make([]float32, g.Output.Len())
		if err := prog.Run(in, tv, outs[i]); err != nil {
			t.Fatal(err)
		}
		prog.Close()
	}
	for i := range outs[0] {
		if outs[0][i] != outs[1][i] {
			t.Fatalf("output %d: unfused %v, headwise %v", i, outs[0][i], outs[1][i])
		}
	}
}
