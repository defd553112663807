package backendtest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Weights is an in-memory weight source. Tensors set as f16 are served as
// f16 bytes through Info and Raw, like a pack, and Float32 returns the
// rounded values, so the reference sees exactly what a backend sees.
type Weights struct {
	v   map[string][]float32
	f16 map[string]bool
}

func NewWeights() *Weights { return &Weights{v: map[string][]float32{}, f16: map[string]bool{}} }

// Set stores v (rounded to f16 in place when f16) under name and returns it.
func (w *Weights) Set(name string, v []float32, f16 bool) []float32 {
	if f16 {
		for i, x := range v {
			v[i] = weights.F16ToF32(weights.F32ToF16(x))
		}
	}
	w.v[name], w.f16[name] = v, f16
	return v
}

func (w *Weights) Float32(name string) ([]float32, error) {
	v, ok := w.v[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return v, nil
}

func (w *Weights) Info(name string) (weights.TensorInfo, bool) {
	v, ok := w.v[name]
	if !ok {
		return weights.TensorInfo{}, false
	}
	dt := weights.F32
	if w.f16[name] {
		dt = weights.F16
	}
	return weights.TensorInfo{Name: name, DType: dt, Shape: []int{len(v)}}, true
}

func (w *Weights) Raw(name string) ([]byte, error) {
	v, err := w.Float32(name)
	if err != nil {
		return nil, err
	}
	if !w.f16[name] {
		b := make([]byte, 0, 4*len(v))
		for _, x := range v {
			u := math.Float32bits(x)
			b = append(b, byte(u), byte(u>>8), byte(u>>16), byte(u>>24))
		}
		return b, nil
	}
	b := make([]byte, 0, 2*len(v))
	for _, x := range v {
		h := weights.F32ToF16(x)
		b = append(b, byte(h), byte(h>>8))
	}
	return b, nil
}

// Randn returns n normal values of standard deviation scale.
func Randn(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// Graph is a graph under test with inputs the test sets. A backend.Graph
// has one input, so with several the graph input is their channel
// concatenation and each is taken out of it by a 1x1 convolution with 0/1
// weights, which is exact on every backend. The output is the last op's.
type Graph struct {
	G      *backend.Graph
	W      *Weights
	h, w   int
	inputs []input
}

type input struct {
	t      backend.Tensor
	values []float32
}

// NewGraph starts a graph whose inputs are h×w.
func NewGraph(h, w int) *Graph {
	return &Graph{G: &backend.Graph{Taps: map[string]backend.Tensor{}}, W: NewWeights(), h: h, w: w}
}

// Input adds an input of c channels holding values.
func (g *Graph) Input(c int, values []float32) backend.Tensor {
	t := g.G.NewTensor(c, g.h, g.w)
	g.inputs = append(g.inputs, input{t, values})
	return t
}

// Build completes the graph and returns it with the values of its input.
// The returned graph is g.G with the picking convolutions, if any, first.
func (g *Graph) Build(t testing.TB, timeLen int) (*backend.Graph, []float32) {
	t.Helper()
	if len(g.inputs) == 0 || len(g.G.Ops) == 0 {
		t.Fatal("backendtest: a graph needs an input and an op")
	}
	var in []float32
	for _, x := range g.inputs {
		if len(x.values) != x.t.Len() {
			t.Fatalf("backendtest: input %d holds %d values, want %d", x.t.ID, len(x.values), x.t.Len())
		}
		in = append(in, x.values...)
	}
	out := *g.G
	out.Output = out.Ops[len(out.Ops)-1].Output()
	out.TimeLen = timeLen
	if len(g.inputs) == 1 {
		out.Input = g.inputs[0].t
		return &out, in
	}
	out.Tensors = append([]backend.Tensor(nil), out.Tensors...)
	out.Input = out.NewTensor(len(in)/(g.h*g.w), g.h, g.w)
	var picks []backend.Op
	off := 0
	for i, x := range g.inputs {
		c := x.t.C
		sel := make([]float32, c*out.Input.C)
		for j := range c {
			sel[j*out.Input.C+off+j] = 1
		}
		name := fmt.Sprintf("pick%d", i)
		g.W.Set(name, sel, false)
		picks = append(picks, &backend.Conv{Name: name, A: out.Input, Out: x.t, Weight: name, K: 1, Stride: 1})
		off += c
	}
	out.Ops = append(picks, out.Ops...)
	return &out, in
}

// Run compiles the graph on be, runs it once and returns its output.
func (g *Graph) Run(t testing.TB, be backend.Backend, time []float32) []float32 {
	t.Helper()
	bg, in := g.Build(t, len(time))
	return Run(t, be, bg, g.W, in, time)
}

// Run compiles g on be, runs it once on in and time and returns its output.
func Run(t testing.TB, be backend.Backend, g *backend.Graph, w backend.Weights, in, time []float32) []float32 {
	t.Helper()
	p, err := be.Compile(g, w, false)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	defer p.Close()
	out := make([]float32, g.Output.Len())
	if err := p.Run(append([]float32(nil), in...), time, out); err != nil { // a program may overwrite its input
		t.Fatalf("run: %v", err)
	}
	return out
}

// Compare checks got against want with a tolerance relative to the largest
// reference magnitude (at least 1): float32 sums in another order differ by
// ulps of the largest terms, not of each result.
func Compare(t testing.TB, got, want []float32, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d values, want %d", len(got), len(want))
	}
	scale := 1.0
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if math.IsNaN(float64(got[i])) {
			d = math.Inf(1)
		}
		if d > worst {
			worst, at = d, i
		}
	}
	if worst > rel*scale {
		t.Fatalf("max abs error %.3g at %d (got %g, want %g), tolerance %.3g", worst, at, got[at], want[at], rel*scale)
	}
}
