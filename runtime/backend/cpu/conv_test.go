package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/ref"
)

// convCase is one layer of the conformance table. ca < Cin feeds the
// input as two tensors; res adds a residual.
type convCase struct {
	spec   ConvSpec
	ca     int
	noBias bool
	res    bool
	sizes  [][2]int // h, w; convSizes when nil
}

var convSizes = [][2]int{{1, 1}, {3, 3}, {7, 7}, {17, 17}, {33, 33}, {37, 45}, {16, 16}}

var convCases = []convCase{
	{spec: ConvSpec{Cin: 6, Cout: 32, K: 7, Stride: 1, Pad: 3}},
	{spec: ConvSpec{Cin: 1, Cout: 5, K: 7, Stride: 1, Pad: 3}, res: true},
	{spec: ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1}},
	{spec: ConvSpec{Cin: 13, Cout: 5, K: 3, Stride: 1, Pad: 1}, res: true},
	{spec: ConvSpec{Cin: 64, Cout: 32, K: 3, Stride: 1, Pad: 1}, ca: 32, res: true},
	{spec: ConvSpec{Cin: 19, Cout: 6, K: 3, Stride: 1, Pad: 1}, ca: 13, noBias: true},
	{spec: ConvSpec{Cin: 32, Cout: 64, K: 1, Stride: 1}, noBias: true},
	{spec: ConvSpec{Cin: 13, Cout: 3, K: 1, Stride: 1}, res: true},
	{spec: ConvSpec{Cin: 64, Cout: 13, K: 1, Stride: 1}, ca: 5, res: true},
	{spec: ConvSpec{Cin: 1, Cout: 1, K: 1, Stride: 1}},
	{spec: ConvSpec{Cin: 32, Cout: 32, K: 4, Stride: 2, Pad: 1}},
	{spec: ConvSpec{Cin: 5, Cout: 13, K: 4, Stride: 2, Pad: 1}, res: true},
	{spec: ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1, Upsample: true}},
	{spec: ConvSpec{Cin: 6, Cout: 5, K: 3, Stride: 1, Pad: 1, Upsample: true}, ca: 2, res: true},
	// Shapes the UNet does not use, for the general paths: unpadded
	// kernels, odd strides, strided upsampling.
	{spec: ConvSpec{Cin: 5, Cout: 6, K: 3, Stride: 1}, res: true},
	{spec: ConvSpec{Cin: 3, Cout: 5, K: 2, Stride: 1}, ca: 1},
	{spec: ConvSpec{Cin: 3, Cout: 7, K: 5, Stride: 3, Pad: 2}},
	{spec: ConvSpec{Cin: 6, Cout: 3, K: 1, Stride: 2}},
	{spec: ConvSpec{Cin: 3, Cout: 5, K: 4, Stride: 2, Pad: 1, Upsample: true}},
	// Wide rows: several tiles, and several blocks of input channels.
	{spec: ConvSpec{Cin: 20, Cout: 9, K: 3, Stride: 1, Pad: 1}, ca: 7, res: true, sizes: [][2]int{{3, 1100}}},
	{spec: ConvSpec{Cin: 13, Cout: 4, K: 7, Stride: 1, Pad: 3}, sizes: [][2]int{{2, 531}}},
	{spec: ConvSpec{Cin: 2100, Cout: 5, K: 1, Stride: 1}, sizes: [][2]int{{1, 37}}},
	{spec: ConvSpec{Cin: 300, Cout: 6, K: 3, Stride: 1, Pad: 1}, ca: 100, res: true, sizes: [][2]int{{2, 70}}},
}

func convRandom(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = 2*r.Float32() - 1
	}
	return v
}

// convRef computes the case with runtime/ref: explicit upsampling, concat
// and residual add.
func convRef(sp ConvSpec, in, w, bias, res []float32, h, wd int) []float32 {
	if sp.Upsample {
		up := make([]float32, 4*len(in))
		ref.Upsample2x(up, in, sp.Cin, h, wd)
		in, h, wd = up, 2*h, 2*wd
	}
	ho, wo := (h+2*sp.Pad-sp.K)/sp.Stride+1, (wd+2*sp.Pad-sp.K)/sp.Stride+1
	out := make([]float32, sp.Cout*ho*wo)
	ref.Conv2D(out, in, w, bias, sp.Cin, h, wd, sp.Cout, sp.K, sp.Stride, sp.Pad)
	if res != nil {
		ref.Add(out, out, res)
	}
	return out
}

// convRun runs p over rows [0, ho) in three uneven chunks, concurrently.
func convRun(p *PackedConv, out, inA, inB, res []float32, ca, h, w int) {
	ho, _ := p.OutSize(h, w)
	cuts := []int{0, ho / 5, ho / 5, ho/2 + 1, ho}
	var wg sync.WaitGroup
	for i := range len(cuts) - 1 {
		y0, y1 := min(cuts[i], ho), min(cuts[i+1], ho)
		wg.Go(func() { p.Run(out, inA, inB, res, ca, h, w, y0, y1) })
	}
	wg.Wait()
}

func TestConv(t *testing.T) {
	convEachImpl(t, func(t *testing.T) {
		for _, tc := range convCases {
			sizes := tc.sizes
			if sizes == nil {
				sizes = convSizes
			}
			for _, sz := range sizes {
				convCheck(t, tc, sz[0], sz[1])
			}
		}
	})
}

func convCheck(t *testing.T, tc convCase, h, w int) {
	sp := tc.spec
	name := fmt.Sprintf("%+v ca=%d res=%v bias=%v %dx%d", sp, tc.ca, tc.res, !tc.noBias, w, h)
	r := rand.New(rand.NewPCG(uint64(h), uint64(w*sp.Cin+sp.K)))
	wt := convRandom(r, sp.Cout*sp.Cin*sp.K*sp.K)
	var bias []float32
	if !tc.noBias {
		bias = convRandom(r, sp.Cout)
	}
	p, err := PackConv(sp, wt, bias)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	ho, wo := p.OutSize(h, w)
	hv, wv := h, w
	if sp.Upsample {
		hv, wv = 2*h, 2*w
	}
	if hv+2*sp.Pad < sp.K || wv+2*sp.Pad < sp.K {
		if ho != 0 || wo != 0 {
			t.Errorf("%s: OutSize %dx%d, want 0x0", name, wo, ho)
		}
		return
	}
	in := convRandom(r, sp.Cin*h*w)
	var res []float32
	if tc.res {
		res = convRandom(r, sp.Cout*ho*wo)
	}
	want := convRef(sp, in, wt, bias, res, h, w)
	if len(want) != sp.Cout*ho*wo {
		t.Fatalf("%s: OutSize %dx%d disagrees with the reference", name, wo, ho)
	}
	ca := sp.Cin
	if tc.ca > 0 {
		ca = tc.ca
	}
	// Guard values around the output catch writes outside it; the inputs
	// are exact-length sub-slices, so reads outside them panic.
	const guard = 17
	buf := make([]float32, len(want)+2*guard)
	for i := range buf {
		buf[i] = 1e30
	}
	out := buf[guard : guard+len(want)]
	inA, inB := in[:ca*h*w:ca*h*w], in[ca*h*w:]
	if ca == sp.Cin {
		inB = nil
	}
	convRun(p, out, inA, inB, res, ca, h, w)
	var maxRef, maxDiff float64
	for i := range want {
		maxRef = max(maxRef, math.Abs(float64(want[i])))
		maxDiff = max(maxDiff, math.Abs(float64(want[i]-out[i])))
	}
	if maxDiff > 1e-4*(1+maxRef) || math.IsNaN(maxDiff) {
		t.Errorf("%s: max |diff| %g (max |ref| %g)", name, maxDiff, maxRef)
	}
	for i := range guard {
		if buf[i] != 1e30 || buf[len(buf)-1-i] != 1e30 {
			t.Fatalf("%s: wrote outside the output", name)
		}
	}
}

// convEachImpl runs f with each kernel the build and CPU offer, each with
// the direct and the Winograd form of the 3x3 layers.
func convEachImpl(t *testing.T, f func(t *testing.T)) {
	for _, impl := range convImpls {
		for _, wino := range []bool{false, true} {
			name := impl.String()
			if wino {
				name += "+winograd"
			}
			t.Run(name, func(t *testing.T) {
				defer func(k convImpl, w bool) { convKernel, convWinograd = k, w }(convKernel, convWinograd)
				convKernel, convWinograd = impl, wino
				f(t)
			})
		}
	}
}

func TestConvNoAlloc(t *testing.T) {
	convEachImpl(t, func(t *testing.T) {
		for _, sp := range []ConvSpec{
			{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1},
			{Cin: 32, Cout: 13, K: 1, Stride: 1},
			{Cin: 6, Cout: 5, K: 3, Stride: 1, Pad: 1, Upsample: true},
		} {
			const h, w = 9, 45
			p, err := PackConv(sp, make([]float32, sp.Cout*sp.Cin*sp.K*sp.K), nil)
			if err != nil {
				t.Fatal(err)
			}
			ho, wo := p.OutSize(h, w)
			out, res := make([]float32, sp.Cout*ho*wo), make([]float32, sp.Cout*ho*wo)
			a, b := make([]float32, 3*h*w), make([]float32, (sp.Cin-3)*h*w)
			if n := testing.AllocsPerRun(10, func() { p.Run(out, a, b, res, 3, h, w, 1, ho) }); n != 0 {
				t.Errorf("%+v: %v allocations per Run", sp, n)
			}
		}
	})
}

// TestConvRows checks that Run writes exactly the rows it is given.
func TestConvRows(t *testing.T) {
	convEachImpl(t, func(t *testing.T) {
		for _, sp := range []ConvSpec{
			{Cin: 5, Cout: 6, K: 3, Stride: 1, Pad: 1},
			{Cin: 5, Cout: 6, K: 1, Stride: 1},
			{Cin: 5, Cout: 6, K: 4, Stride: 2, Pad: 1},
		} {
			const h, w, y0, y1 = 12, 19, 2, 5
			r := rand.New(rand.NewPCG(7, 7))
			wt, in := convRandom(r, sp.Cout*sp.Cin*sp.K*sp.K), convRandom(r, sp.Cin*h*w)
			p, err := PackConv(sp, wt, nil)
			if err != nil {
				t.Fatal(err)
			}
			ho, wo := p.OutSize(h, w)
			want := convRef(sp, in, wt, nil, nil, h, w)
			out := make([]float32, len(want))
			for i := range out {
				out[i] = 1e30
			}
			p.Run(out, in, nil, nil, sp.Cin, h, w, y0, y1)
			for i := range out {
				if y := i / wo % ho; y >= y0 && y < y1 {
					if d := math.Abs(float64(out[i] - want[i])); d > 1e-4*(1+math.Abs(float64(want[i]))) {
						t.Fatalf("%+v: out[%d] = %g, want %g", sp, i, out[i], want[i])
					}
				} else if out[i] != 1e30 {
					t.Fatalf("%+v: wrote row %d outside [%d, %d)", sp, y, y0, y1)
				}
			}
		}
	})
}

func TestPackConvErrors(t *testing.T) {
	sp := ConvSpec{Cin: 2, Cout: 3, K: 3, Stride: 1, Pad: 1}
	if _, err := PackConv(sp, make([]float32, 2*3*9-1), nil); err == nil {
		t.Error("short weights accepted")
	}
	if _, err := PackConv(sp, make([]float32, 2*3*9), make([]float32, 2)); err == nil {
		t.Error("short bias accepted")
	}
	if _, err := PackConv(ConvSpec{Cin: 2, Cout: 3, K: 0, Stride: 1}, nil, nil); err == nil {
		t.Error("0x0 kernel accepted")
	}
	p, err := PackConv(sp, make([]float32, 2*3*9), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Run with a short input did not panic")
		}
	}()
	p.Run(make([]float32, 3*16), make([]float32, 2*16-1), nil, nil, 2, 4, 4, 0, 4)
}
