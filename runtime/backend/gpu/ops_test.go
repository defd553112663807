package gpu

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/backendtest"
	"github.com/diffuir-web/diffuir/runtime/ref"
)

const f32Tol = 1e-4 // relative to the largest reference magnitude

// TestOps runs the backends' shared op table (backendtest.Ops) with each
// conv kernel and weight binding and each full-attention kernel.
func TestOps(t *testing.T) {
	gpuBackend(t)
	for _, run := range []struct {
		setup convSetup
		kind  string // "": every op
	}{
		{convSetup{kernel: ConvBlocked, attn: AttnStream}, ""},
		{convSetup{kernel: ConvBlocked, storage: true}, "conv"},
		{convSetup{kernel: ConvTiled}, "conv"},
		{convSetup{kernel: ConvTiled, storage: true}, "conv"},
		{convSetup{kernel: ConvBlocked, attn: AttnTiled}, "attention"},
	} {
		t.Run(run.setup.String(), func(t *testing.T) {
			backendtest.Ops(t, convBackend(t, run.setup), backendtest.Options{Tol: f32Tol, Kind: run.kind})
		})
	}
}

// TestConvTiledFoldsGrid checks the tiled conv when its pixel blocks
// exceed maxComputeWorkgroupsPerDimension and fold into a second grid
// dimension (the last row of the grid overshoots).
func TestConvTiledFoldsGrid(t *testing.T) {
	be := convBackend(t, convSetup{kernel: ConvTiled})
	r := rand.New(rand.NewPCG(7, 7))
	const c, h, w = 5, 33, 33 // 1089 pixels: 9 blocks of 128, folded 4x3
	tg := backendtest.NewGraph(h, w)
	x := backendtest.Randn(r, c*h*w, 1)
	wt := tg.W.Set("w", backendtest.Randn(r, c*c*9, 0.2), false)
	tg.G.Add(&backend.Conv{Name: "c", A: tg.Input(c, x), Out: tg.G.NewTensor(c, h, w), Weight: "w", K: 3, Stride: 1, Pad: 1})
	withLimits(be, func(l *wgpu.Limits) { l.MaxComputeWorkgroupsPerDimension = 4 }, func() {
		got := tg.Run(t, be, nil)
		want := make([]float32, len(got))
		ref.Conv2D(want, x, wt, nil, c, h, w, c, 3, 1, 1)
		backendtest.Compare(t, got, want, f32Tol)
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
			tg := backendtest.NewGraph(4, 4)
			tg.W.Set("w", backendtest.Randn(r, tc.cout*tc.cin*9, 0.1), tc.f16)
			tg.G.Add(&backend.Conv{Name: "c", A: tg.Input(tc.cin, make([]float32, tc.cin*16)), Out: tg.G.NewTensor(tc.cout, 4, 4), Weight: "w", K: 3, Stride: 1, Pad: 1})
			g, _ := tg.Build(t, 0)
			p, err := be.Compile(g, tg.W, false)
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

// attnKernels are the full-attention kernels every attention test runs.
var attnKernels = []string{AttnStream, AttnTiled}

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
					tg, qkv := backendtest.AttentionGraph(r, linear, true, 2, 8, h, w)
					backendtest.Compare(t, tg.Run(t, be, nil), backendtest.AttentionRef(linear, qkv, 2, 8, h*w), f32Tol)
				})
			}
			t.Run(kern+"/layernorm", func(t *testing.T) {
				tg := backendtest.NewGraph(h, w)
				gain := tg.W.Set("g", backendtest.Randn(r, 5, 1), false)
				x := backendtest.Randn(r, 5*h*w, 2)
				tg.G.Add(&backend.LayerNorm{Name: "ln", In: tg.Input(5, x), G: "g", Eps: 1e-5, Out: tg.G.NewTensor(5, h, w)})
				want := make([]float32, len(x))
				ref.ChannelLayerNorm(want, x, gain, 5, h*w, 1e-5)
				backendtest.Compare(t, tg.Run(t, be, nil), want, f32Tol)
			})
		})
	}
}

// TestSplitQKV checks the rewrite itself: the qkv conv becomes three convs
// and the largest activation a third of the qkv tensor, unless the qkv
// tensor is pinned (a tap the caller reads) or read twice.
func TestSplitQKV(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	tg, _ := backendtest.AttentionGraph(r, true, true, 4, 32, 16, 16)
	g, _ := tg.Build(t, 0)
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
					tg, qkv := backendtest.AttentionGraph(r, linear, true, heads, dh, h, w)
					att := tg.G.Ops[len(tg.G.Ops)-1].Output()
					wo, bo := tg.W.Set("wo", backendtest.Randn(r, cout*heads*dh, 0.3), true), tg.W.Set("bo", backendtest.Randn(r, cout, 0.3), false)
					tg.G.Add(&backend.Conv{Name: "to_out", A: att, Out: tg.G.NewTensor(cout, h, w), Weight: "wo", Bias: "bo", K: 1, Stride: 1})
					// Room for half the heads' channels, not for all of them.
					limit := uint64(4 * heads * dh * h * w / 2)
					var got []float32
					withLimits(be, func(l *wgpu.Limits) { l.MaxStorageBufferBindingSize = limit }, func() {
						g, _ := tg.Build(t, 0)
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
						got = tg.Run(t, be, nil)
					})
					want := make([]float32, cout*h*w)
					ref.Conv2D(want, backendtest.AttentionRef(linear, qkv, heads, dh, h*w), wo, bo, heads*dh, h, w, cout, 1, 1, 0)
					backendtest.Compare(t, got, want, f32Tol)
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
