package gpu

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/ref"
)

// Sizes (h, w): odd ones leave partial blocks in every direction; widths
// that are multiples of 8 take the kernels' aligned vec4 paths.
var testSizes = [][2]int{{1, 1}, {3, 3}, {7, 7}, {17, 17}, {33, 33}, {37, 45}, {9, 16}, {5, 24}}

const f32Tol = 1e-4 // relative to the largest reference magnitude

// TestConv checks every conv case on both kernels (blocked and tiled),
// with weights in whichever binding the layer gets and forced to storage.
func TestConv(t *testing.T) {
	gpuBackend(t)
	var setups []convSetup
	for _, k := range convKernels {
		setups = append(setups, convSetup{kernel: k}, convSetup{kernel: k, storage: true})
	}
	cases := []struct {
		name           string
		ca, cb, cout   int
		k, stride, pad int
		up, bias, res  bool
	}{
		{name: "7x7 p3", ca: 6, cout: 5, k: 7, stride: 1, pad: 3, bias: true},
		{name: "3x3 p1", ca: 13, cout: 13, k: 3, stride: 1, pad: 1, bias: true},
		{name: "1x1 bias", ca: 13, cout: 19, k: 1, stride: 1, bias: true},
		{name: "1x1 no bias", ca: 5, cout: 40, k: 1, stride: 1},
		{name: "4x4 s2 p1", ca: 5, cout: 13, k: 4, stride: 2, pad: 1, bias: true},
		{name: "3x3 upsample", ca: 13, cout: 5, k: 3, stride: 1, pad: 1, up: true, bias: true},
		{name: "3x3 concat", ca: 5, cb: 3, cout: 13, k: 3, stride: 1, pad: 1, bias: true},
		{name: "3x3 residual", ca: 13, cout: 13, k: 3, stride: 1, pad: 1, bias: true, res: true},
		{name: "1x1 concat residual", ca: 3, cb: 5, cout: 13, k: 1, stride: 1, bias: true, res: true},
		{name: "3x3 wide", ca: 40, cb: 24, cout: 61, k: 3, stride: 1, pad: 1, bias: true}, // storage weights
		{name: "7x7 cout 70", ca: 3, cout: 70, k: 7, stride: 1, pad: 3, bias: true},       // three tiled channel blocks
	}
	r := rand.New(rand.NewPCG(1, 1))
	for _, tc := range cases {
		for _, setup := range setups {
			be := convBackend(t, setup)
			for _, f16 := range []bool{false, true} {
				for _, sz := range testSizes {
					h, w := sz[0], sz[1]
					if tc.name == "3x3 wide" && h > 17 {
						continue // the reference is slow; small sizes cover the variant
					}
					hi, wi := h, w
					if tc.up {
						hi, wi = 2*h, 2*w
					}
					if hi+2*tc.pad < tc.k {
						continue
					}
					dt := "f32"
					if f16 {
						dt = "f16"
					}
					t.Run(fmt.Sprintf("%s/%s/%s/%dx%d", tc.name, setup, dt, w, h), func(t *testing.T) {
						cin := tc.ca + tc.cb
						ho, wo := (hi+2*tc.pad-tc.k)/tc.stride+1, (wi+2*tc.pad-tc.k)/tc.stride+1
						wts := newWeights()
						wts.set("w", randn(r, tc.cout*cin*tc.k*tc.k, 1/float64(cin*tc.k)), f16)
						op := &backend.Conv{Name: "conv", Weight: "w", K: tc.k, Stride: tc.stride, Pad: tc.pad, Upsample: tc.up}
						if tc.bias {
							wts.set("b", randn(r, tc.cout, 0.5), false)
							op.Bias = "b"
						}
						og, a := newOpGraph(tc.ca, h, w)
						op.A = a
						xa := randn(r, a.Len(), 1)
						var xb, xr []float32
						if tc.cb > 0 {
							xb = randn(r, tc.cb*h*w, 1)
							op.B = og.tensor(tc.cb, h, w, xb)
						}
						if tc.res {
							xr = randn(r, tc.cout*ho*wo, 1)
							op.Res = og.tensor(tc.cout, ho, wo, xr)
						}
						op.Out = og.tensor(tc.cout, ho, wo, nil)
						og.g.Add(op)
						got := og.run(t, be, wts, xa, nil)

						in := append(append([]float32(nil), xa...), xb...)
						if tc.up {
							upd := make([]float32, cin*hi*wi)
							ref.Upsample2x(upd, in, cin, h, w)
							in = upd
						}
						want := make([]float32, tc.cout*ho*wo)
						var bias []float32
						if tc.bias {
							bias = wts.v["b"]
						}
						ref.Conv2D(want, in, wts.v["w"], bias, cin, hi, wi, tc.cout, tc.k, tc.stride, tc.pad)
						if tc.res {
							ref.Add(want, want, xr)
						}
						compare(t, got, want, f32Tol)
					})
				}
			}
		}
	}
}

// TestConvTiledFoldsGrid checks the tiled conv when its pixel blocks
// exceed maxComputeWorkgroupsPerDimension and fold into a second grid
// dimension (the last row of the grid overshoots).
func TestConvTiledFoldsGrid(t *testing.T) {
	be := convBackend(t, convSetup{kernel: ConvTiled})
	r := rand.New(rand.NewPCG(7, 7))
	const c, h, w = 5, 33, 33 // 1089 pixels: 9 blocks of 128, folded 4x3
	og, a := newOpGraph(c, h, w)
	wts := newWeights()
	wts.set("w", randn(r, c*c*9, 0.2), false)
	og.g.Add(&backend.Conv{Name: "c", A: a, Out: og.tensor(c, h, w, nil), Weight: "w", K: 3, Stride: 1, Pad: 1})
	x := randn(r, a.Len(), 1)
	withLimits(be, func(l *wgpu.Limits) { l.MaxComputeWorkgroupsPerDimension = 4 }, func() {
		got := og.run(t, be, wts, x, nil)
		want := make([]float32, len(got))
		ref.Conv2D(want, x, wts.v["w"], nil, c, h, w, c, 3, 1, 1)
		compare(t, got, want, f32Tol)
	})
}

// TestConvVariants checks which weight variant each layer gets, with
// either kernel, and that the summary names the kernel.
func TestConvVariants(t *testing.T) {
	gpuBackend(t)
	cases := []struct {
		cin, cout int
		f16       bool
		want      string
	}{
		{32, 32, true, "f16 uniform"},  // 4x32x9 entries x 16 B = 18 KiB
		{64, 32, true, "f16 uniform"},  // 36 KiB
		{64, 32, false, "f32 storage"}, // 72 KiB
		{64, 64, true, "f16 storage"},  // 72 KiB
		{32, 32, false, "f32 uniform"}, // 36 KiB
	}
	r := rand.New(rand.NewPCG(2, 2))
	for _, kern := range convKernels {
		be := convBackend(t, convSetup{kernel: kern})
		prefix := "conv3x3 "
		if kern == ConvTiled {
			prefix = "conv3x3 tiled "
		}
		for _, tc := range cases {
			want := prefix + tc.want
			og, a := newOpGraph(tc.cin, 4, 4)
			wts := newWeights()
			wts.set("w", randn(r, tc.cout*tc.cin*9, 0.1), tc.f16)
			og.g.Add(&backend.Conv{Name: "c", A: a, Out: og.tensor(tc.cout, 4, 4, nil), Weight: "w", K: 3, Stride: 1, Pad: 1})
			og.g.Output = og.g.Ops[0].Output()
			p, err := be.Compile(og.g, wts, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.(*Program).Kernels()[0]; got != "c: "+want {
				t.Errorf("%s %d->%d f16=%v: %s, want %s", kern, tc.cin, tc.cout, tc.f16, got, want)
			}
			sum := p.(*Program).Summary()
			if !strings.Contains(sum, want) || !strings.Contains(sum, kern+" convs") {
				t.Errorf("summary %q does not name %q and %q", sum, want, kern+" convs")
			}
			p.Close()
		}
	}
}

// TestKernelChoice checks the automatic and explicit choice of the conv and
// attention kernels, the refusal of an unknown one and the environment
// variable read when the option is empty.
func TestKernelChoice(t *testing.T) {
	type choice struct {
		opt  string
		dev  gputypes.DeviceType
		want string
	}
	for _, k := range []struct {
		name    string
		resolve func(string, wgpu.AdapterInfo) (string, error)
		choices []choice
		bad     Options // names the kernel "bogus"
		env     string
		forced  string
		got     func(*Backend) string
	}{
		{"conv", func(v string, info wgpu.AdapterInfo) (string, error) { return resolveConvKernel(v, info), nil }, []choice{
			{"", gputypes.DeviceTypeCPU, ConvBlocked},
			{ConvAuto, gputypes.DeviceTypeCPU, ConvBlocked},
			{ConvAuto, gputypes.DeviceTypeOther, ConvBlocked}, // the browser reports no type
			{ConvAuto, gputypes.DeviceTypeDiscreteGPU, ConvMixed},
			{"", gputypes.DeviceTypeIntegratedGPU, ConvMixed},
			{ConvBlocked, gputypes.DeviceTypeDiscreteGPU, ConvBlocked},
			{ConvTiled, gputypes.DeviceTypeCPU, ConvTiled},
			{ConvMixed, gputypes.DeviceTypeCPU, ConvMixed},
		}, Options{ConvKernel: "bogus"}, convKernelEnv, ConvTiled, (*Backend).ConvKernel},
		{"attention", resolveAttnKernel, []choice{
			{"", gputypes.DeviceTypeCPU, AttnStream},
			{AttnAuto, gputypes.DeviceTypeOther, AttnStream}, // the browser reports no type
			{AttnAuto, gputypes.DeviceTypeDiscreteGPU, AttnTiled},
			{"", gputypes.DeviceTypeIntegratedGPU, AttnTiled},
			{AttnStream, gputypes.DeviceTypeDiscreteGPU, AttnStream},
			{AttnTiled, gputypes.DeviceTypeCPU, AttnTiled},
		}, Options{AttnKernel: "bogus"}, attnKernelEnv, AttnTiled, (*Backend).AttnKernel},
	} {
		t.Run(k.name, func(t *testing.T) {
			for _, c := range k.choices {
				if got, err := k.resolve(c.opt, wgpu.AdapterInfo{DeviceType: c.dev}); err != nil || got != c.want {
					t.Errorf("%q on %v: %s, %v; want %s", c.opt, c.dev, got, err, c.want)
				}
			}
			if _, err := New(k.bad); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
				t.Errorf("New with an unknown kernel: %v", err)
			}
			gpuBackend(t)
			t.Setenv(k.env, k.forced)
			be, err := New(Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer be.Close()
			if got := k.got(be); got != k.forced {
				t.Errorf("%s=%s: backend uses %s", k.env, k.forced, got)
			}
		})
	}
}

func TestGroupNorm(t *testing.T) {
	be := gpuBackend(t)
	cases := []struct {
		name      string
		c, groups int
		film      bool
		silu, res bool
	}{
		{name: "plain", c: 5, groups: 5},
		{name: "film silu", c: 6, groups: 3, film: true, silu: true},
		{name: "silu res", c: 13, groups: 1, silu: true, res: true},
		{name: "film silu res", c: 12, groups: 4, film: true, silu: true, res: true},
	}
	r := rand.New(rand.NewPCG(3, 3))
	for _, tc := range cases {
		for _, sz := range testSizes {
			h, w := sz[0], sz[1]
			t.Run(fmt.Sprintf("%s/%dx%d", tc.name, w, h), func(t *testing.T) {
				n := h * w
				wts := newWeights()
				wts.set("g", randn(r, tc.c, 1), false)
				wts.set("b", randn(r, tc.c, 1), false)
				og, in := newOpGraph(tc.c, h, w)
				op := &backend.GroupNorm{Name: "gn", In: in, Gamma: "g", Beta: "b", Groups: tc.groups, Eps: 1e-5, FiLM: -1, SiLU: tc.silu}
				// A time vector with junk around the FiLM slice, to catch offset errors.
				time := randn(r, 3+2*tc.c+2, 1)
				if tc.film {
					op.FiLM = 3
				}
				x := randn(r, in.Len(), 3)
				for i := range x {
					x[i] += 2 // a mean far from 0 tests the variance's stability
				}
				var xr []float32
				if tc.res {
					xr = randn(r, in.Len(), 1)
					op.Res = og.tensor(tc.c, h, w, xr)
				}
				op.Out = og.tensor(tc.c, h, w, nil)
				og.g.Add(op)
				got := og.run(t, be, wts, x, time)

				want := make([]float32, len(x))
				ref.GroupNorm(want, x, wts.v["g"], wts.v["b"], tc.c, n, tc.groups, 1e-5)
				if tc.film {
					ref.ScaleShift(want, time[3:3+tc.c], time[3+tc.c:3+2*tc.c], tc.c, n)
				}
				if tc.silu {
					ref.SiLU(want)
				}
				if tc.res {
					ref.Add(want, want, xr)
				}
				compare(t, got, want, f32Tol)
			})
		}
	}
}

func TestLayerNorm(t *testing.T) {
	be := gpuBackend(t)
	r := rand.New(rand.NewPCG(4, 4))
	for ci, c := range []int{1, 5, 13, 32} {
		eps := []float32{1e-5, 1e-3, 0.05, 1e-5}[ci] // 0.05: ignoring eps would fail
		for _, res := range []bool{false, true} {
			for _, sz := range testSizes {
				h, w := sz[0], sz[1]
				t.Run(fmt.Sprintf("c%d/eps%g/res=%v/%dx%d", c, eps, res, w, h), func(t *testing.T) {
					wts := newWeights()
					wts.set("g", randn(r, c, 1), false)
					og, in := newOpGraph(c, h, w)
					op := &backend.LayerNorm{Name: "ln", In: in, G: "g", Eps: eps}
					x := randn(r, in.Len(), 2)
					var xr []float32
					if res {
						xr = randn(r, in.Len(), 1)
						op.Res = og.tensor(c, h, w, xr)
					}
					op.Out = og.tensor(c, h, w, nil)
					og.g.Add(op)
					got := og.run(t, be, wts, x, nil)
					want := make([]float32, len(x))
					ref.ChannelLayerNorm(want, x, wts.v["g"], c, h*w, eps)
					if res {
						ref.Add(want, want, xr)
					}
					compare(t, got, want, f32Tol)
				})
			}
		}
	}
}

var attnCases = []struct{ heads, dh int }{{1, 3}, {2, 5}, {3, 13}, {4, 32}, {1, 64}}

// attnKernels are the full-attention kernels every attention test runs.
var attnKernels = []string{AttnStream, AttnTiled}

// attnGraph builds the op under test on a qkv tensor of 3·heads·dh
// channels: fed by the host (the backend reads it unsplit, at offsets), or
// computed by a 1x1 conv from a cin-channel input, which the backend splits
// into q, k and v convs and tensors (lower.go). It returns the graph, its
// input values and the qkv values the reference sees.
func attnGraph(r *rand.Rand, linear, split bool, heads, dh, h, w int) (*opGraph, *fakeWeights, []float32, []float32) {
	hid := heads * dh
	wts := newWeights()
	var og *opGraph
	var qkv backend.Tensor
	var in, x []float32
	if split {
		const cin = 7
		var src backend.Tensor
		og, src = newOpGraph(cin, h, w)
		in = randn(r, src.Len(), 1)
		wts.set("w", randn(r, 3*hid*cin, 0.8), true)
		wts.set("b", randn(r, 3*hid, 0.3), false)
		qkv = og.g.NewTensor(3*hid, h, w)
		og.g.Add(&backend.Conv{Name: "to_qkv", A: src, Out: qkv, Weight: "w", Bias: "b", K: 1, Stride: 1})
		x = make([]float32, qkv.Len())
		ref.Conv2D(x, in, wts.v["w"], wts.v["b"], cin, h, w, 3*hid, 1, 1, 0)
	} else {
		og, qkv = newOpGraph(3*hid, h, w)
		in = randn(r, qkv.Len(), 2)
		x = in
	}
	out := og.g.NewTensor(hid, h, w)
	if linear {
		og.g.Add(&backend.LinearAttention{Name: "la", QKV: qkv, Heads: heads, DimHead: dh, Out: out})
	} else {
		og.g.Add(&backend.Attention{Name: "at", QKV: qkv, Heads: heads, DimHead: dh, Out: out})
	}
	return og, wts, in, x
}

// TestAttention runs both attention ops, on a fed qkv tensor and on one
// the backend splits, full attention with each kernel, against the CPU
// reference at odd sizes.
func TestAttention(t *testing.T) {
	gpuBackend(t)
	r := rand.New(rand.NewPCG(6, 6))
	for _, op := range []string{"linear", "full"} {
		kernels := attnKernels
		if op == "linear" {
			kernels = []string{""} // one kernel
		}
		for _, kern := range kernels {
			be := convBackend(t, convSetup{kernel: ConvBlocked, attn: kern})
			for _, split := range []bool{false, true} {
				for _, s := range attnCases {
					for _, sz := range testSizes {
						h, w := sz[0], sz[1]
						if op == "full" && h*w > 1200 && s.heads*s.dh > 40 {
							continue // the O(n²) reference gets slow; smaller shapes cover 45x37
						}
						name := fmt.Sprintf("%s%s/split=%v/h%d_d%d/%dx%d", op, kern, split, s.heads, s.dh, w, h)
						t.Run(name, func(t *testing.T) {
							og, wts, in, x := attnGraph(r, op == "linear", split, s.heads, s.dh, h, w)
							got := og.run(t, be, wts, in, nil)
							want := make([]float32, s.heads*s.dh*h*w)
							if op == "linear" {
								ref.LinearAttention(want, x, s.heads, s.dh, h*w)
							} else {
								ref.Attention(want, x, s.heads, s.dh, h*w)
							}
							compare(t, got, want, f32Tol)
						})
					}
				}
			}
		}
	}
}

// TestFoldedGrids runs the kernels whose pixel blocks fold into a second
// grid dimension with maxComputeWorkgroupsPerDimension at 8, so the fold
// and its overshoot are exercised at test sizes.
func TestFoldedGrids(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	const h, w = 37, 45 // 1665 pixels: 27 blocks of 64, folded 8x4
	for _, kern := range attnKernels {
		be := convBackend(t, convSetup{kernel: ConvBlocked, attn: kern})
		withLimits(be, func(l *wgpu.Limits) { l.MaxComputeWorkgroupsPerDimension = 8 }, func() {
			for _, linear := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/linear=%v", kern, linear), func(t *testing.T) {
					og, wts, in, x := attnGraph(r, linear, true, 2, 8, h, w)
					got := og.run(t, be, wts, in, nil)
					want := make([]float32, 16*h*w)
					if linear {
						ref.LinearAttention(want, x, 2, 8, h*w)
					} else {
						ref.Attention(want, x, 2, 8, h*w)
					}
					compare(t, got, want, f32Tol)
				})
			}
			t.Run(kern+"/layernorm", func(t *testing.T) {
				wts := newWeights()
				wts.set("g", randn(r, 5, 1), false)
				og, in := newOpGraph(5, h, w)
				og.g.Add(&backend.LayerNorm{Name: "ln", In: in, G: "g", Eps: 1e-5, Out: og.tensor(5, h, w, nil)})
				x := randn(r, in.Len(), 2)
				got := og.run(t, be, wts, x, nil)
				want := make([]float32, len(x))
				ref.ChannelLayerNorm(want, x, wts.v["g"], 5, h*w, 1e-5)
				compare(t, got, want, f32Tol)
			})
		})
	}
}

// TestSplitQKV checks the rewrite itself: the qkv conv becomes three convs
// and the largest activation a third of the qkv tensor, unless the qkv
// tensor is pinned (a tap the caller reads) or read twice.
func TestSplitQKV(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	og, _, _, _ := attnGraph(r, true, true, 4, 32, 16, 16)
	g := og.g
	g.Output = g.Ops[len(g.Ops)-1].Output()
	lg := lower(g, []backend.Tensor{g.Input, g.Output}, 0)
	var parts, attn int
	largest := 0
	for _, op := range lg.Ops {
		switch o := op.(type) {
		case *convPart:
			parts++
			if o.Out.C != 128 || o.total != 384 || o.off != 128*(parts-1) {
				t.Errorf("part %d: %d channels at %d of %d", parts, o.Out.C, o.off, o.total)
			}
		case *attnQKV:
			attn++
			if o.q == o.k || o.koff != 0 || o.voff != 0 {
				t.Errorf("attention still reads one qkv tensor: %+v", o)
			}
		}
		largest = max(largest, op.Output().Len())
	}
	if parts != 3 || attn != 1 || largest != 128*16*16 {
		t.Errorf("%d conv parts, %d attention ops, largest tensor %d values; want 3, 1, %d", parts, attn, largest, 128*16*16)
	}
	if len(g.Ops) != 2 {
		t.Errorf("lower changed the caller's graph: %d ops", len(g.Ops))
	}
	qkv := g.Ops[0].Output()
	for _, pinned := range [][]backend.Tensor{{g.Input, g.Output, qkv}} {
		lg := lower(g, pinned, 0)
		if _, ok := lg.Ops[0].(*backend.Conv); !ok || len(lg.Ops) != 2 {
			t.Errorf("pinned qkv split anyway: %T, %d ops", lg.Ops[0], len(lg.Ops))
		}
	}
	if be := gpuBackend(t); be.LargestTensorBytes(g) != 4*128*16*16 {
		t.Errorf("LargestTensorBytes %d, want %d", be.LargestTensorBytes(g), 4*128*16*16)
	}
}

// TestHeadGroups: where heads·dh channels exceed the binding limit, the
// backend runs the heads in two groups and the output conv reads the halves
// as its concat; the result must not change.
func TestHeadGroups(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	const heads, dh, cout = 4, 6, 5
	for _, kern := range attnKernels {
		be := convBackend(t, convSetup{kernel: ConvBlocked, attn: kern})
		for _, linear := range []bool{false, true} {
			for _, sz := range [][2]int{{7, 7}, {17, 13}} {
				h, w := sz[0], sz[1]
				t.Run(fmt.Sprintf("%s/linear=%v/%dx%d", kern, linear, w, h), func(t *testing.T) {
					og, wts, in, x := attnGraph(r, linear, true, heads, dh, h, w)
					att := og.g.Ops[len(og.g.Ops)-1].Output()
					wts.set("wo", randn(r, cout*heads*dh, 0.3), true)
					wts.set("bo", randn(r, cout, 0.3), false)
					og.g.Add(&backend.Conv{Name: "to_out", A: att, Out: og.tensor(cout, h, w, nil), Weight: "wo", Bias: "bo", K: 1, Stride: 1})
					// Room for half the heads' channels, not for all of them.
					limit := uint64(4 * heads * dh * h * w / 2)
					var got []float32
					withLimits(be, func(l *wgpu.Limits) { l.MaxStorageBufferBindingSize = limit }, func() {
						g := og.g
						g.Output = att
						lg := lower(g, []backend.Tensor{g.Input}, int64(limit))
						n := 0
						for _, op := range lg.Ops {
							if _, ok := op.(*attnQKV); ok {
								n++
							}
						}
						if n != 2 {
							t.Fatalf("%d attention ops after lowering, want 2 head groups", n)
						}
						got = og.run(t, be, wts, in, nil)
					})
					a := make([]float32, heads*dh*h*w)
					if linear {
						ref.LinearAttention(a, x, heads, dh, h*w)
					} else {
						ref.Attention(a, x, heads, dh, h*w)
					}
					want := make([]float32, cout*h*w)
					ref.Conv2D(want, a, wts.v["wo"], wts.v["bo"], heads*dh, h, w, cout, 1, 1, 0)
					compare(t, got, want, f32Tol)
				})
			}
		}
	}
}

// TestMaxUntiledSize pins the largest tile the Tiny graph fits in
// lavapipe's 128 MiB bindings after the rewrite: 720x720 (64-channel head
// groups; the unsplit 384-channel qkv tensor stopped at 288x288), and
// 512x512 without head groups (128-channel q, k, v).
func TestMaxUntiledSize(t *testing.T) {
	m := tinyModel(t, 1)
	const limit = 128 << 20
	fits := func(side int, maxBytes int64) bool {
		g, err := m.Graph(side, side)
		if err != nil {
			t.Fatal(err)
		}
		lg := lower(g, []backend.Tensor{g.Input, g.Output}, maxBytes)
		largest := 0
		for _, op := range lg.Ops {
			largest = max(largest, op.Output().Len())
		}
		return 4*int64(largest) <= limit
	}
	for _, tc := range []struct {
		side     int
		maxBytes int64 // what lower may assume
		want     bool
	}{
		{720, limit, true}, {736, limit, false}, // head groups
		{512, 0, true}, {528, 0, false}, // q, k, v split only
	} {
		if got := fits(tc.side, tc.maxBytes); got != tc.want {
			t.Errorf("%dx%d with lowering for %d bytes fits 128 MiB: %v, want %v", tc.side, tc.side, tc.maxBytes, got, tc.want)
		}
	}
	g, _ := m.Graph(288, 288)
	largest := 0
	for _, tt := range g.Tensors {
		largest = max(largest, tt.Len())
	}
	if 4*largest > limit || 4*(largest/288/288)*304*304 <= limit {
		t.Errorf("unsplit: the largest tensor at 288x288 is %d bytes; 288 should be the last side that fits", 4*largest)
	}
}
