package gpu

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// One Backend serves every test (pipelines are cached per Backend). Tests
// skip only when there is no adapter at all; with DIFFUIR_REQUIRE_GPU=1 a
// missing adapter fails instead, so CI cannot pass by skipping. The package
// prints "GPU tests ran on <adapter>" (visible with -v), and with
// DIFFUIR_GPU_REPORT=<file> also writes that line to the file, since
// `go test ./...` hides the output of passing packages.
var (
	testBE    *Backend
	testBEErr error
	// convBEs are backends with a forced conv kernel and weight binding,
	// opened on first use by convBackend.
	convBEs = map[convSetup]*Backend{}
)

// convSetup is one conv configuration the tests and benchmarks compare.
type convSetup struct {
	kernel  string // ConvBlocked or ConvTiled
	storage bool   // Options.StorageWeights
	attn    string // Options.AttnKernel ("": the adapter's choice)
}

func (s convSetup) String() string {
	name := s.kernel
	if s.storage {
		name += "_storage"
	}
	if s.attn != "" {
		name += "_attn_" + s.attn
	}
	return name
}

// convKernels are the conv kernels every conv test and benchmark runs.
var convKernels = []string{ConvBlocked, ConvTiled}

func TestMain(m *testing.M) {
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		os.Setenv("XDG_RUNTIME_DIR", os.TempDir()) // silences Mesa's warning
	}
	testBE, testBEErr = New(Options{})
	if testBEErr != nil && os.Getenv("DIFFUIR_REQUIRE_GPU") == "1" {
		fmt.Fprintf(os.Stderr, "FAIL: DIFFUIR_REQUIRE_GPU=1 but no GPU backend: %v\n", testBEErr)
		os.Exit(1)
	}
	code := m.Run()
	for _, be := range convBEs {
		_ = be.Close()
	}
	line := fmt.Sprintf("GPU tests skipped: %v\n", testBEErr)
	if testBE != nil {
		line = fmt.Sprintf("GPU tests ran on %s\n", testBE.Name())
		_ = testBE.Close()
	}
	fmt.Print(line)
	if f := os.Getenv("DIFFUIR_GPU_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(line), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// gpuBackend returns the shared backend or skips the test.
func gpuBackend(t testing.TB) *Backend {
	t.Helper()
	if testBE == nil {
		if !errors.Is(testBEErr, ErrNoAdapter) {
			t.Fatalf("GPU backend: %v", testBEErr) // an adapter exists but failed: a real error
		}
		t.Skipf("no GPU adapter: %v", testBEErr)
	}
	return testBE
}

// convBackend returns a backend whose convs use s, or skips like
// gpuBackend. The shared backend picks its kernel per adapter; these force
// one, so both kernels are checked on any adapter.
func convBackend(t testing.TB, s convSetup) *Backend {
	t.Helper()
	gpuBackend(t)
	if be, ok := convBEs[s]; ok {
		return be
	}
	be, err := New(Options{ConvKernel: s.kernel, StorageWeights: s.storage, AttnKernel: s.attn})
	if err != nil {
		t.Fatalf("GPU backend with %s convs: %v", s, err)
	}
	convBEs[s] = be
	return be
}

// fakeWeights is a tiny in-memory weight source. Names in f16 are served
// as f16 bytes through Raw/Info, like a pack; Float32 returns the rounded
// values, so the reference sees exactly what the GPU sees.
type fakeWeights struct {
	v   map[string][]float32
	f16 map[string]bool
}

func newWeights() *fakeWeights {
	return &fakeWeights{v: map[string][]float32{}, f16: map[string]bool{}}
}

func (w *fakeWeights) set(name string, v []float32, f16 bool) {
	if f16 {
		for i, x := range v {
			v[i] = weights.F16ToF32(weights.F32ToF16(x))
		}
	}
	w.v[name], w.f16[name] = v, f16
}

func (w *fakeWeights) Float32(name string) ([]float32, error) {
	v, ok := w.v[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	return v, nil
}

func (w *fakeWeights) Info(name string) (weights.TensorInfo, bool) {
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

func (w *fakeWeights) Raw(name string) ([]byte, error) {
	v, ok := w.v[name]
	if !ok {
		return nil, fmt.Errorf("no tensor %q", name)
	}
	if !w.f16[name] {
		return f32Bytes(v), nil
	}
	b := make([]byte, 2*len(v))
	for i, x := range v {
		h := weights.F32ToF16(x)
		b[2*i], b[2*i+1] = byte(h), byte(h>>8)
	}
	return b, nil
}

func randn(r *rand.Rand, n int, scale float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64() * scale)
	}
	return v
}

// feed is a test-only op: its output is a graph input the test writes.
type feed struct{ out backend.Tensor }

func (f *feed) Label() string            { return "feed" }
func (f *feed) Inputs() []backend.Tensor { return nil }
func (f *feed) Output() backend.Tensor   { return f.out }
func (f *feed) hostWritten()             {}

// opGraph is a graph of one op under test whose inputs are the graph input
// (the first) and feeds (the others).
type opGraph struct {
	g     *backend.Graph
	feeds map[int][]float32 // tensor ID -> values
}

// newOpGraph starts a graph whose input is c×h×w.
func newOpGraph(c, h, w int) (*opGraph, backend.Tensor) {
	g := &backend.Graph{Taps: map[string]backend.Tensor{}}
	g.Input = g.NewTensor(c, h, w)
	return &opGraph{g: g, feeds: map[int][]float32{}}, g.Input
}

// tensor adds a tensor; with values it is fed by the host.
func (o *opGraph) tensor(c, h, w int, values []float32) backend.Tensor {
	t := o.g.NewTensor(c, h, w)
	if values != nil {
		o.g.Add(&feed{t})
		o.feeds[t.ID] = values
	}
	return t
}

// run compiles the graph (output: the last op's output), writes the feeds
// and input, runs it and returns the output.
func (o *opGraph) run(t *testing.T, be *Backend, w backend.Weights, input, time []float32) []float32 {
	t.Helper()
	o.g.Output = o.g.Ops[len(o.g.Ops)-1].Output()
	o.g.TimeLen = len(time)
	prog, err := be.Compile(o.g, w, false)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	p := prog.(*Program)
	defer p.Close()
	for id, v := range o.feeds {
		if err := p.write(o.g.Tensors[id], v); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]float32, o.g.Output.Len())
	if err := p.Run(input, time, out); err != nil {
		t.Fatalf("run: %v", err)
	}
	return out
}

// compare checks got against want with a tolerance relative to the
// largest reference magnitude (f32 sums in another order differ by ulps).
func compare(t *testing.T, got, want []float32, rel float64) {
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
