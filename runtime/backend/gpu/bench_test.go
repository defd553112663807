package gpu

import (
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// opFlops counts an op's floating-point work (a multiply-add is 2) and the
// bytes it must at least move, for the benchmark metrics.
func opFlops(op backend.Op) (flops, bytes float64) {
	switch o := op.(type) {
	case *backend.Conv:
		cin := float64(o.A.C + o.B.C)
		flops = 2 * float64(o.Out.Len()) * cin * float64(o.K*o.K)
	case *backend.LinearAttention:
		n, dh, h := float64(o.QKV.H*o.QKV.W), float64(o.DimHead), float64(o.Heads)
		flops = 2*2*n*dh*dh*h + 12*n*dh*h // context + output, plus the two softmaxes
	case *backend.Attention:
		n, dh, h := float64(o.QKV.H*o.QKV.W), float64(o.DimHead), float64(o.Heads)
		flops = 4 * n * n * dh * h
	case *backend.GroupNorm:
		flops = 10 * float64(o.Out.Len())
	case *backend.LayerNorm:
		flops = 8 * float64(o.Out.Len())
	}
	for _, t := range op.Inputs() {
		bytes += 4 * float64(t.Len())
	}
	bytes += 4 * float64(op.Output().Len())
	return flops, bytes
}

// BenchmarkOps times each kind of op at the Tiny model's shapes for a
// 256x256 image (the mid attention runs at 32x32): kernels only, 4 runs per
// submission. Run with -bench Ops -benchtime 3x; metrics are GFLOP/s and
// GB/s of compulsory traffic.
func BenchmarkOps(b *testing.B) {
	be := gpuBackend(b)
	b.Logf("adapter: %s", be.Name())
	r := rand.New(rand.NewPCG(1, 2))
	const S = 256
	type input struct{ c, h, w int }
	cases := []struct {
		name string
		in   input
		mk   func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op
	}{
		{"conv7x7_6to32", input{6, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*6*49, 0.05), true)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 7, Stride: 1, Pad: 3}
		}},
		{"conv3x3_32to32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*32*9, 0.05), true)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 3, Stride: 1, Pad: 1}
		}},
		{"conv3x3_cat64to32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*64*9, 0.05), true)
			w.set("b", randn(r, 32, 0.1), false)
			skip := og.tensor(32, S, S, randn(r, 32*S*S, 1))
			return &backend.Conv{Name: "c", A: in, B: skip, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 3, Stride: 1, Pad: 1}
		}},
		{"conv3x3_32to32_f32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*32*9, 0.05), false)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 3, Stride: 1, Pad: 1}
		}},
		{"conv4x4s2_32to32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*32*16, 0.05), true)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S/2, S/2, nil), Weight: "w", Bias: "b", K: 4, Stride: 2, Pad: 1}
		}},
		{"conv3x3up_32to32", input{32, S / 2, S / 2}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*32*9, 0.05), true)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 3, Stride: 1, Pad: 1, Upsample: true}
		}},
		{"conv1x1_qkv32to384", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 384*32, 0.1), true)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(384, S, S, nil), Weight: "w", K: 1, Stride: 1}
		}},
		{"conv1x1_out128to32", input{128, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("w", randn(r, 32*128, 0.1), true)
			w.set("b", randn(r, 32, 0.1), false)
			return &backend.Conv{Name: "c", A: in, Out: og.tensor(32, S, S, nil), Weight: "w", Bias: "b", K: 1, Stride: 1}
		}},
		{"groupnorm_film_silu_32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("g", randn(r, 32, 1), false)
			w.set("b", randn(r, 32, 1), false)
			return &backend.GroupNorm{Name: "gn", In: in, Out: og.tensor(32, S, S, nil), Gamma: "g", Beta: "b", Groups: 8, FiLM: 0, SiLU: true}
		}},
		{"layernorm_32", input{32, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			w.set("g", randn(r, 32, 1), false)
			return &backend.LayerNorm{Name: "ln", In: in, Out: og.tensor(32, S, S, nil), G: "g"}
		}},
		{"linear_attention_4x32", input{384, S, S}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			return &backend.LinearAttention{Name: "la", QKV: in, Out: og.tensor(128, S, S, nil), Heads: 4, DimHead: 32}
		}},
		{"attention_4x32_at32x32", input{384, S / 8, S / 8}, func(og *opGraph, in backend.Tensor, w *fakeWeights) backend.Op {
			return &backend.Attention{Name: "at", QKV: in, Out: og.tensor(128, S/8, S/8, nil), Heads: 4, DimHead: 32}
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			w := newWeights()
			og, in := newOpGraph(tc.in.c, tc.in.h, tc.in.w)
			op := tc.mk(og, in, w)
			og.g.Add(op)
			og.g.Output = op.Output()
			og.g.TimeLen = 64
			prog, err := be.Compile(og.g, w, false)
			if err != nil {
				b.Fatal(err)
			}
			p := prog.(*Program)
			defer p.Close()
			for id, v := range og.feeds {
				if err := p.write(og.g.Tensors[id], v); err != nil {
					b.Fatal(err)
				}
			}
			out := make([]float32, op.Output().Len())
			if err := p.Run(randn(r, in.Len(), 1), randn(r, 64, 0.1), out); err != nil {
				b.Fatal(err)
			}
			const reps = 4
			b.ResetTimer()
			for range b.N {
				if err := p.dispatchOnly(reps); err != nil {
					b.Fatal(err)
				}
			}
			sec := b.Elapsed().Seconds() / float64(b.N*reps)
			flops, bytes := opFlops(op)
			b.ReportMetric(sec*1e3, "ms/op")
			b.ReportMetric(flops/sec/1e9, "GFLOP/s")
			b.ReportMetric(bytes/sec/1e9, "GB/s")
		})
	}
}

// BenchmarkUNetPass times Program.Run of the Tiny model at 256x256: input
// upload, all dispatches, output readback.
func BenchmarkUNetPass(b *testing.B) {
	be := gpuBackend(b)
	m := tinyModel(b, 3)
	g, err := m.Graph(256, 256)
	if err != nil {
		b.Fatal(err)
	}
	p, err := be.Compile(g, m.Params, false)
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	b.Logf("%s", p.(*Program).Summary())
	r := rand.New(rand.NewPCG(4, 4))
	in := testImage(r, g.Input.Len())
	tv := make([]float32, m.TimeLen())
	m.NewTimeEncoder().Encode(tv, 500)
	out := make([]float32, g.Output.Len())
	if err := p.Run(in, tv, out); err != nil { // warm-up: first-use costs
		b.Fatal(err)
	}
	var flops float64
	for _, op := range g.Ops {
		f, _ := opFlops(op)
		flops += f
	}
	b.ResetTimer()
	for range b.N {
		if err := p.Run(in, tv, out); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(sec*1e3, "ms/pass")
	b.ReportMetric(flops/sec/1e9, "GFLOP/s")
	b.ReportMetric(flops/2/1e9, "GMAC/pass")
}
