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

// TestConvKernelChoice checks the automatic and explicit kernel choice.
func TestConvKernelChoice(t *testing.T) {
	for _, tc := range []struct {
		opt  string
		dev  gputypes.DeviceType
		want string
	}{
		{"", gputypes.DeviceTypeCPU, ConvBlocked},
		{ConvAuto, gputypes.DeviceTypeCPU, ConvBlocked},
		{ConvAuto, gputypes.DeviceTypeOther, ConvBlocked}, // the browser reports no type
		{ConvAuto, gputypes.DeviceTypeDiscreteGPU, ConvMixed},
		{"", gputypes.DeviceTypeIntegratedGPU, ConvMixed},
		{ConvBlocked, gputypes.DeviceTypeDiscreteGPU, ConvBlocked},
		{ConvTiled, gputypes.DeviceTypeCPU, ConvTiled},
		{ConvMixed, gputypes.DeviceTypeCPU, ConvMixed},
	} {
		if got := resolveConvKernel(tc.opt, wgpu.AdapterInfo{DeviceType: tc.dev}); got != tc.want {
			t.Errorf("%q on %v: %s, want %s", tc.opt, tc.dev, got, tc.want)
		}
	}
	if _, err := New(Options{ConvKernel: "fast"}); err == nil || !strings.Contains(err.Error(), `"fast"`) {
		t.Errorf("New with an unknown conv kernel: %v", err)
	}
	gpuBackend(t)
	t.Setenv(convKernelEnv, ConvTiled)
	be, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if be.ConvKernel() != ConvTiled {
		t.Errorf("%s=%s: backend uses %s convs", convKernelEnv, ConvTiled, be.ConvKernel())
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

var attnCases = []struct{ heads, dh int }{{1, 3}, {2, 5}, {3, 13}, {4, 32}}

func TestLinearAttention(t *testing.T) {
	be := gpuBackend(t)
	r := rand.New(rand.NewPCG(5, 5))
	for _, s := range attnCases {
		for _, sz := range testSizes {
			h, w := sz[0], sz[1]
			t.Run(fmt.Sprintf("h%d_d%d/%dx%d", s.heads, s.dh, w, h), func(t *testing.T) {
				hid := s.heads * s.dh
				og, qkv := newOpGraph(3*hid, h, w)
				op := &backend.LinearAttention{Name: "la", QKV: qkv, Heads: s.heads, DimHead: s.dh, Out: og.tensor(hid, h, w, nil)}
				og.g.Add(op)
				x := randn(r, qkv.Len(), 2)
				got := og.run(t, be, nil, x, nil)
				want := make([]float32, hid*h*w)
				ref.LinearAttention(want, x, s.heads, s.dh, h*w)
				compare(t, got, want, f32Tol)
			})
		}
	}
}

func TestAttention(t *testing.T) {
	be := gpuBackend(t)
	r := rand.New(rand.NewPCG(6, 6))
	for _, s := range attnCases {
		for _, sz := range testSizes {
			h, w := sz[0], sz[1]
			if h*w > 1200 && s.heads*s.dh > 40 {
				continue // the O(n²) reference gets slow; smaller shapes cover 45x37
			}
			t.Run(fmt.Sprintf("h%d_d%d/%dx%d", s.heads, s.dh, w, h), func(t *testing.T) {
				hid := s.heads * s.dh
				og, qkv := newOpGraph(3*hid, h, w)
				op := &backend.Attention{Name: "at", QKV: qkv, Heads: s.heads, DimHead: s.dh, Out: og.tensor(hid, h, w, nil)}
				og.g.Add(op)
				x := randn(r, qkv.Len(), 2)
				got := og.run(t, be, nil, x, nil)
				want := make([]float32, hid*h*w)
				ref.Attention(want, x, s.heads, s.dh, h*w)
				compare(t, got, want, f32Tol)
			})
		}
	}
}
