package restore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// flaky wraps the CPU backend: it fails compiles of graphs larger than
// maxPixels with failErr, can claim to be a GPU (lavapipe's, when software)
// and a buffer limit, and counts its closes.
type flaky struct {
	cpu.Backend
	failErr   error
	maxPixels int
	gpu       bool
	software  bool
	limit     int64
	largest   func(*backend.Graph) int64 // Device.LargestBuffer
	compiled  []int                      // pixels of each successful compile
	closes    int                        // calls of Close
}

func (f *flaky) Name() string { return "flaky" }

func (f *flaky) Device() backend.Device {
	return backend.Device{GPU: f.gpu, Software: f.software, API: "vulkan", Adapter: "llvmpipe", MaxTensorBytes: f.limit, LargestBuffer: f.largest}
}

func (f *flaky) Close() error { f.closes++; return nil }

func (f *flaky) Compile(g *backend.Graph, w backend.Weights, taps bool) (backend.Program, error) {
	px := g.Input.H * g.Input.W
	if f.failErr != nil && px > f.maxPixels {
		return nil, fmt.Errorf("flaky: %w", f.failErr)
	}
	f.compiled = append(f.compiled, px)
	return f.Backend.Compile(g, w, taps)
}

func TestRetriesWithSmallerTilesOnOutOfMemory(t *testing.T) {
	be := &flaky{failErr: backend.ErrOutOfMemory, maxPixels: 64 * 64, gpu: true}
	r := restore.New(tinyModel(t), be)
	defer r.Close()
	_, rep, err := r.Restore(context.Background(), gradient(80, 70, false), restore.Options{Steps: 1, Tile: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "retrying with") || rep.Fallback != "" || rep.Tiles < 2 {
		t.Fatalf("report %+v", rep)
	}
}

func TestFallsBackToTheCPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"device lost", backend.ErrDeviceLost},
		{"out of memory even in small tiles", backend.ErrOutOfMemory},
		{"any other GPU failure", errors.New("shader rejected")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := &flaky{failErr: tc.err, gpu: true}
			r := restore.New(tinyModel(t), be)
			defer r.Close()
			out, rep, err := r.Restore(context.Background(), gradient(20, 20, false), restore.Options{Steps: 1})
			if err != nil || out == nil {
				t.Fatalf("restore: %v", err)
			}
			if !strings.Contains(rep.Fallback, "finished on the CPU") || rep.Backend.Kind != "cpu" || be.closes != 1 {
				t.Fatalf("report %+v, GPU closed %d times", rep, be.closes)
			}
			// The CPU keeps the job; the next report has no fallback of its own.
			if _, rep, err = r.Restore(context.Background(), gradient(20, 20, false), restore.Options{Steps: 1}); err != nil || rep.Fallback != "" || rep.Backend.Kind != "cpu" {
				t.Fatalf("second restore: %v, report %+v", err, rep)
			}
		})
	}
	// The CPU has nothing to fall back to: the error reaches the caller, classified.
	r := restore.New(tinyModel(t), &flaky{failErr: backend.ErrDeviceLost})
	defer r.Close()
	if _, _, err := r.Restore(context.Background(), gradient(20, 20, false), restore.Options{Steps: 1}); !errors.Is(err, backend.ErrDeviceLost) {
		t.Fatalf("got %v, want ErrDeviceLost", err)
	}
}

func TestTilesFitTheBufferLimit(t *testing.T) {
	// The largest Tiny tensor is the 384-channel qkv: 1536 bytes a pixel.
	be := &flaky{limit: 1536 * 64 * 64}
	r := restore.New(tinyModel(t), be)
	defer r.Close()
	if _, _, err := r.Restore(context.Background(), gradient(150, 90, false), restore.Options{Steps: 1, Tile: -1}); err != nil {
		t.Fatal(err)
	}
	for _, px := range be.compiled {
		if px*1536 > int(be.limit) {
			t.Fatalf("compiled a %d-pixel graph beyond the limit", px)
		}
	}
	// A backend whose largest buffer is a third of the graph's largest
	// tensor (the GPU's split qkv) gets tiles beyond the plain rule.
	third := &flaky{limit: 1536 * 64 * 64, largest: func(g *backend.Graph) int64 { return 1536 / 3 * int64(g.Input.H*g.Input.W) }}
	r3 := restore.New(tinyModel(t), third)
	defer r3.Close()
	if _, _, err := r3.Restore(context.Background(), gradient(150, 90, false), restore.Options{Steps: 1, Tile: -1}); err != nil {
		t.Fatal(err)
	}
	if px := slices.Max(third.compiled); px <= 64*64 || px*512 > int(third.limit) {
		t.Fatalf("largest compiled graph %d pixels: want above %d and within the split buffer's limit", px, 64*64)
	}
	tiny := &flaky{limit: 1000}
	r2 := restore.New(tinyModel(t), tiny)
	defer r2.Close()
	if _, _, err := r2.Restore(context.Background(), gradient(40, 40, false), restore.Options{Steps: 1}); !errors.Is(err, backend.ErrLimits) {
		t.Fatalf("got %v, want ErrLimits", err)
	}
}

func TestTilesFitTheMemoryBudget(t *testing.T) {
	m := tinyModel(t)
	const budget = 24 << 20
	r := restore.New(m, &cpu.Backend{})
	defer r.Close()
	img := gradient(200, 150, false)
	if _, _, err := r.Restore(context.Background(), img, restore.Options{Steps: 1, Tile: -1, MemoryBudget: budget}); err != nil {
		t.Fatal(err)
	}
	if got := r.MemoryBytes(); got > budget || got == 0 {
		t.Errorf("activation memory %d bytes, budget %d", got, budget)
	}
	// Without the budget the whole image is one plan, well over it.
	whole := restore.New(m, &cpu.Backend{})
	defer whole.Close()
	if _, _, err := whole.Restore(context.Background(), img, restore.Options{Steps: 1, Tile: -1}); err != nil {
		t.Fatal(err)
	}
	if whole.MemoryBytes() <= budget {
		t.Fatalf("the whole image plans %d bytes: the budget tests nothing", whole.MemoryBytes())
	}
	_, _, err := r.Restore(context.Background(), img, restore.Options{Steps: 1, MemoryBudget: 1 << 10})
	if !errors.Is(err, restore.ErrBudget) {
		t.Fatalf("a 1 KiB budget: got %v, want ErrBudget", err)
	}
}
