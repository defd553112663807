package gpu

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/backendtest"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want error // nil: no sentinel
	}{
		{wgpu.ErrDeviceLost, ErrDeviceLost},
		{fmt.Errorf("submit: %w", wgpu.ErrDeviceLost), ErrDeviceLost},
		{wgpu.ErrMapDeviceLost, ErrDeviceLost},
		{context.DeadlineExceeded, ErrDeviceLost},
		{errors.New("mapAsync: OperationError: Device is lost"), ErrDeviceLost},
		{fmt.Errorf("create buffer: %w", wgpu.ErrOutOfMemory), ErrOutOfMemory},
		{errors.New("vulkan: vkAllocateMemory: VK_ERROR_OUT_OF_DEVICE_MEMORY"), ErrOutOfMemory},
		{errors.New("Out of memory"), ErrOutOfMemory},
		{errors.New("validation error"), nil},
	}
	for _, c := range cases {
		got := classify(c.err)
		if !errors.Is(got, c.err) && got != c.err {
			t.Errorf("classify(%v) lost the original error: %v", c.err, got)
		}
		for _, s := range []error{ErrDeviceLost, ErrOutOfMemory} {
			if errors.Is(got, s) != (s == c.want) {
				t.Errorf("classify(%v) = %v: errors.Is(%v) = %v", c.err, got, s, !(s == c.want))
			}
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestGuard(t *testing.T) {
	f := func() (err error) {
		defer guard(&err, "test")
		var m map[string]int
		m["x"] = 1 // panics
		return nil
	}
	if err := f(); err == nil {
		t.Fatal("panic not turned into an error")
	}
}

// withLimits runs f with be's limits changed by set, then restores them.
func withLimits(be *Backend, set func(*wgpu.Limits), f func()) {
	saved := be.limits
	set(&be.limits)
	defer func() { be.limits = saved }()
	f()
}

// convGraph is one 3x3 conv of c channels at h×w.
func convGraph(t testing.TB, c, h, w int) (*backend.Graph, *backendtest.Weights) {
	tg := backendtest.NewGraph(h, w)
	in := tg.Input(c, make([]float32, c*h*w))
	tg.W.Set("w", backendtest.Randn(rand.New(rand.NewPCG(1, 1)), c*c*9, 0.1), true)
	tg.G.Add(&backend.Conv{Name: "c", A: in, Out: tg.G.NewTensor(c, h, w), Weight: "w", K: 3, Stride: 1, Pad: 1})
	g, _ := tg.Build(t, 0)
	return g, tg.W
}

func TestLimitsRefused(t *testing.T) {
	be := gpuBackend(t)
	g, w := convGraph(t, 16, 64, 64) // 256 KiB per activation
	cases := []struct {
		name string
		set  func(*wgpu.Limits)
	}{
		{"storage binding", func(l *wgpu.Limits) { l.MaxStorageBufferBindingSize = 128 << 10 }},
		{"buffer size", func(l *wgpu.Limits) { l.MaxBufferSize = 128 << 10 }},
		{"workgroups", func(l *wgpu.Limits) { l.MaxComputeWorkgroupsPerDimension = 2 }},
	}
	for _, c := range cases {
		withLimits(be, c.set, func() {
			p, err := be.Compile(g, w, false)
			if !errors.Is(err, ErrLimits) {
				t.Errorf("%s: got %v, want ErrLimits", c.name, err)
			}
			if p != nil {
				t.Errorf("%s: program returned with an error", c.name)
				p.Close()
			}
		})
	}
	// Without a big enough uniform binding, weights fall back to storage.
	withLimits(be, func(l *wgpu.Limits) { l.MaxUniformBufferBindingSize = 16 << 10 }, func() {
		p, err := be.Compile(g, w, false)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		if k := p.(*Program).Kernels()[0]; !strings.HasSuffix(k, " f16 storage") {
			t.Errorf("kernel %q, want the storage variant", k)
		}
	})
}

func TestProgramMisuse(t *testing.T) {
	be := gpuBackend(t)
	g, w := convGraph(t, 3, 5, 7)
	g.Taps["conv"] = g.Output
	p, err := be.Compile(g, w, false)
	if err != nil {
		t.Fatal(err)
	}
	in, out := make([]float32, g.Input.Len()), make([]float32, g.Output.Len())
	if err := p.Run(in[1:], nil, out); err == nil {
		t.Error("Run accepted a short input")
	}
	if err := p.Run(in, []float32{1}, out); err == nil {
		t.Error("Run accepted a time vector the graph has no room for")
	}
	if _, err := p.Tap("conv"); err == nil {
		t.Error("Tap worked on a program compiled without taps")
	}
	if _, err := p.Tap("nope"); err == nil {
		t.Error("Tap of an unknown name worked")
	}
	if p.MemoryBytes() <= 0 {
		t.Error("MemoryBytes not positive")
	}
	p.Close()
	if err := p.Run(in, nil, out); !errors.Is(err, ErrClosed) {
		t.Errorf("Run after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	bad := &backend.Graph{}
	bad.Input = bad.NewTensor(1, 1, 1)
	bad.Output = bad.NewTensor(1, 1, 1)
	if _, err := be.Compile(bad, w, false); err == nil {
		t.Error("Compile accepted an invalid graph")
	}
	if _, err := be.Compile(g, backendtest.NewWeights(), false); err == nil {
		t.Error("Compile accepted missing weights")
	}
}

func TestTaps(t *testing.T) {
	be := gpuBackend(t)
	g, w := convGraph(t, 3, 5, 7)
	mid := g.Output
	w.Set("w2", backendtest.Randn(rand.New(rand.NewPCG(2, 2)), 9*9, 0.1), false)
	g.Add(&backend.Conv{Name: "c2", A: mid, Out: g.NewTensor(3, 5, 7), Weight: "w2", K: 3, Stride: 1, Pad: 1})
	g.Output = g.Ops[1].Output()
	g.Taps["c"] = mid
	p, err := be.Compile(g, w, true)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in := backendtest.Randn(rand.New(rand.NewPCG(3, 3)), g.Input.Len(), 1)
	out := make([]float32, g.Output.Len())
	if err := p.Run(in, nil, out); err != nil {
		t.Fatal(err)
	}
	tap, err := p.Tap("c")
	if err != nil {
		t.Fatal(err)
	}
	// The tapped tensor must equal a one-op run of the first conv.
	g1, _ := convGraph(t, 3, 5, 7)
	backendtest.Compare(t, tap, backendtest.Run(t, be, g1, w, in, nil), 0)
}

// A device that does not answer within Options.Timeout counts as lost, and
// the backend refuses further work with the same error.
func TestTimeoutIsDeviceLost(t *testing.T) {
	gpuBackend(t)
	be, err := New(Options{Timeout: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	g, w := convGraph(t, 8, 32, 32)
	p, err := be.Compile(g, w, false)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	in, out := make([]float32, g.Input.Len()), make([]float32, g.Output.Len())
	if err := p.Run(in, nil, out); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("Run: %v, want ErrDeviceLost", err)
	}
	if err := p.Run(in, nil, out); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("second Run: %v, want ErrDeviceLost", err)
	}
	if _, err := be.Compile(g, w, false); !errors.Is(err, ErrDeviceLost) {
		t.Fatalf("Compile after loss: %v, want ErrDeviceLost", err)
	}
}

func TestBackendName(t *testing.T) {
	be := gpuBackend(t)
	if be.Name() == "" || be.AdapterInfo().Name == "" {
		t.Errorf("empty name: %q", be.Name())
	}
	l := be.Limits()
	t.Logf("%s: maxStorageBufferBindingSize %d MiB, maxBufferSize %d MiB, maxUniformBufferBindingSize %d KiB",
		be.Name(), l.MaxStorageBufferBindingSize>>20, l.MaxBufferSize>>20, l.MaxUniformBufferBindingSize>>10)
	if l.MaxStorageBufferBindingSize < 128<<20 {
		t.Errorf("maxStorageBufferBindingSize %d below WebGPU's default", l.MaxStorageBufferBindingSize)
	}
}
