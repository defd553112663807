package gpu

import (
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/backendtest"
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

// Benchmark sizes: the defaults suit CPU-emulated adapters; on a real GPU
// raise them, e.g. -ops.size 1024 -ops.reps 20 -unet.size 512.
var (
	opsSize  = flag.Int("ops.size", 256, "BenchmarkOps: image side (the mid attention runs at size/8)")
	opsReps  = flag.Int("ops.reps", 4, "BenchmarkOps: runs of the op per submission")
	unetSize = flag.Int("unet.size", 256, "BenchmarkUNetPass: image side")
)

// BenchmarkOps times each kind of op at the Tiny model's shapes for an
// -ops.size image (default 256x256; the mid attention runs at a side of
// size/8): kernels only, -ops.reps runs per submission. Conv cases have a
// sub-benchmark per conv kernel (conv3x3_32to32/blocked, .../tiled), full
// attention one per attention kernel (stream, tiled). Run
// with -bench Ops -benchtime 3x; metrics are GFLOP/s and GB/s of
// compulsory traffic.
func BenchmarkOps(b *testing.B) {
	be := gpuBackend(b)
	b.Logf("adapter: %s, auto conv kernel: %s, auto attention kernel: %s; limits: storage binding %d, buffer %d, workgroup storage %d",
		be.Name(), be.ConvKernel(), be.AttnKernel(), be.limits.MaxStorageBufferBindingSize, be.limits.MaxBufferSize,
		be.limits.MaxComputeWorkgroupStorageSize)
	r := rand.New(rand.NewPCG(1, 2))
	S := *opsSize
	if S < 8 || *opsReps < 1 {
		b.Fatalf("-ops.size %d (want >= 8), -ops.reps %d (want >= 1)", S, *opsReps)
	}
	type input struct{ c, h, w int }
	type mkOp = func(tg *backendtest.Graph, in backend.Tensor) backend.Op
	sq := func(c, side int) backend.Tensor { return backend.Tensor{C: c, H: side, W: side} }
	// conv makes a conv case from c, whose Out gives only a shape, and
	// whose B, when set, makes it read the input twice (a channel concat):
	// random weights (f16 unless f32) and a bias where c names one.
	conv := func(c backend.Conv, f32 bool) mkOp {
		return func(tg *backendtest.Graph, in backend.Tensor) backend.Op {
			op := c
			scale := 0.05
			if op.K == 1 {
				scale = 0.1
			}
			if op.B.C > 0 {
				op.B = in
			}
			tg.W.Set("w", backendtest.Randn(r, op.Out.C*(in.C+op.B.C)*op.K*op.K, scale), !f32)
			if op.Bias != "" {
				tg.W.Set(op.Bias, backendtest.Randn(r, op.Out.C, 0.1), false)
			}
			op.Name, op.A, op.Weight, op.Out = "c", in, "w", tg.G.NewTensor(op.Out.C, op.Out.H, op.Out.W)
			return &op
		}
	}
	cases := []struct {
		name string
		in   input
		mk   mkOp
	}{
		{"conv7x7_6to32", input{6, S, S}, conv(backend.Conv{Out: sq(32, S), Bias: "b", K: 7, Stride: 1, Pad: 3}, false)},
		{"conv3x3_32to32", input{32, S, S}, conv(backend.Conv{Out: sq(32, S), Bias: "b", K: 3, Stride: 1, Pad: 1}, false)},
		{"conv3x3_cat64to32", input{32, S, S}, conv(backend.Conv{Out: sq(32, S), B: sq(32, S), Bias: "b", K: 3, Stride: 1, Pad: 1}, false)},
		{"conv3x3_32to32_f32", input{32, S, S}, conv(backend.Conv{Out: sq(32, S), Bias: "b", K: 3, Stride: 1, Pad: 1}, true)},
		{"conv4x4s2_32to32", input{32, S, S}, conv(backend.Conv{Out: sq(32, S/2), Bias: "b", K: 4, Stride: 2, Pad: 1}, false)},
		{"conv3x3up_32to32", input{32, S / 2, S / 2}, conv(backend.Conv{Out: sq(32, S), Bias: "b", K: 3, Stride: 1, Pad: 1, Upsample: true}, false)},
		{"conv1x1_qkv32to384", input{32, S, S}, conv(backend.Conv{Out: sq(384, S), K: 1, Stride: 1}, false)},
		{"conv1x1_out128to32", input{128, S, S}, conv(backend.Conv{Out: sq(32, S), Bias: "b", K: 1, Stride: 1}, false)},
		{"groupnorm_film_silu_32", input{32, S, S}, func(tg *backendtest.Graph, in backend.Tensor) backend.Op {
			tg.W.Set("g", backendtest.Randn(r, 32, 1), false)
			tg.W.Set("b", backendtest.Randn(r, 32, 1), false)
			return &backend.GroupNorm{Name: "gn", In: in, Out: tg.G.NewTensor(32, S, S), Gamma: "g", Beta: "b", Groups: 8, Eps: 1e-5, FiLM: 0, SiLU: true}
		}},
		{"layernorm_32", input{32, S, S}, func(tg *backendtest.Graph, in backend.Tensor) backend.Op {
			tg.W.Set("g", backendtest.Randn(r, 32, 1), false)
			return &backend.LayerNorm{Name: "ln", In: in, Out: tg.G.NewTensor(32, S, S), G: "g", Eps: 1e-5}
		}},
		{"linear_attention_4x32", input{384, S, S}, func(tg *backendtest.Graph, in backend.Tensor) backend.Op {
			return &backend.LinearAttention{Name: "la", QKV: in, Out: tg.G.NewTensor(128, S, S), Heads: 4, DimHead: 32}
		}},
		{fmt.Sprintf("attention_4x32_at%dx%d", S/8, S/8), input{384, S / 8, S / 8}, func(tg *backendtest.Graph, in backend.Tensor) backend.Op {
			return &backend.Attention{Name: "at", QKV: in, Out: tg.G.NewTensor(128, S/8, S/8), Heads: 4, DimHead: 32}
		}},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			if strings.HasPrefix(tc.name, "attention") { // full attention has two kernels
				for _, kern := range attnKernels {
					b.Run(kern, func(b *testing.B) {
						benchOp(b, convBackend(b, convSetup{attn: kern}), r, tc.in.c, tc.in.h, tc.in.w, tc.mk)
					})
				}
				return
			}
			if !strings.HasPrefix(tc.name, "conv") { // convs have two kernels
				benchOp(b, be, r, tc.in.c, tc.in.h, tc.in.w, tc.mk)
				return
			}
			for _, kern := range convKernels {
				b.Run(kern, func(b *testing.B) {
					benchOp(b, convBackend(b, convSetup{kernel: kern}), r, tc.in.c, tc.in.h, tc.in.w, tc.mk)
				})
			}
		})
	}
}

// benchOp times the op mk builds on a c×h×w input.
func benchOp(b *testing.B, be *Backend, r *rand.Rand, c, h, w int, mk func(*backendtest.Graph, backend.Tensor) backend.Op) {
	tg := backendtest.NewGraph(h, w)
	op := mk(tg, tg.Input(c, backendtest.Randn(r, c*h*w, 1)))
	tg.G.Add(op)
	g, in := tg.Build(b, 64)
	prog, err := be.Compile(g, tg.W, false)
	if errors.Is(err, ErrLimits) {
		b.Skipf("too large for this adapter: %v", err)
	}
	if err != nil {
		b.Fatal(err)
	}
	p := prog.(*Program)
	defer p.Close()
	out := make([]float32, op.Output().Len())
	if err := p.Run(in, backendtest.Randn(r, 64, 0.1), out); err != nil {
		b.Fatal(err)
	}
	reps := *opsReps
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
}

// BenchmarkUNetPass times Program.Run of the Tiny model at -unet.size
// (default 256x256) with each conv kernel (sub-benchmarks blocked and
// tiled): input upload, all dispatches, output readback.
func BenchmarkUNetPass(b *testing.B) {
	gpuBackend(b)
	m, g, in, tv := unetPass(b, 3, *unetSize)
	var flops float64
	for _, op := range g.Ops {
		f, _ := opFlops(op)
		flops += f
	}
	out := make([]float32, g.Output.Len())
	for _, kern := range convKernels {
		b.Run(kern, func(b *testing.B) {
			p, err := convBackend(b, convSetup{kernel: kern}).Compile(g, m.Params, false)
			if errors.Is(err, ErrLimits) {
				b.Skipf("too large for this adapter: %v", err)
			}
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close()
			b.Logf("%s", p.(*Program).Summary())
			if err := p.Run(in, tv, out); err != nil { // warm-up: first-use costs
				b.Fatal(err)
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
		})
	}
}

// BenchmarkUNetProfile answers where a UNet pass spends its time, as the
// browser's profile request does (Backend.ProfilePass): every dispatch timed
// alone (Program.Profile, -ops.reps copies per submit), summed by kernel
// entry point and logged as a table, largest first. The summed metric
// overstates a real pass by the submit cost; pass-ms is one real pass.
//
//	go test ./runtime/backend/gpu/ -run '^$' -bench UNetProfile -benchtime 1x -v
func BenchmarkUNetProfile(b *testing.B) {
	m, g, _, tv := unetPass(b, 3, *unetSize)
	var p PassProfile
	var err error
	for range b.N {
		if p, err = gpuBackend(b).ProfilePass(g, m.Params, tv, *opsReps, nil); err != nil {
			b.Fatal(err)
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s\n%-58s %9s %6s %6s\n", p.Summary, "kernel", "ms/pass", "share", "count")
	for _, k := range p.Kernels {
		fmt.Fprintf(&sb, "%-58s %9.2f %5.1f%% %6d\n", k.Kernel, k.Millis, 100*k.Share, k.Count)
	}
	b.Log(sb.String())
	b.ReportMetric(p.SummedMs, "ms/pass-summed")
	b.ReportMetric(p.PassMs, "pass-ms")
}

// dispatchOnly encodes every dispatch reps times into one command buffer,
// submits it and waits for it through a 16-byte readback: the kernels'
// time without the input upload and output copy (benchmarks use it).
func (p *Program) dispatchOnly(reps int) error {
	return p.submitAndWait(func(pass *wgpu.ComputePassEncoder) {
		for range reps {
			p.encodeUNet(pass)
		}
	})
}
