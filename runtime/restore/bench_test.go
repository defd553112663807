package restore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/backend/gpu"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// BenchmarkRestoreTinyCPU times a whole 3-step restore of a square image with
// the Tiny model on the CPU backend, whole image in one tile (compiled once,
// outside the timer, as a real session reuses its program).
//
//	go test -run - -bench RestoreTinyCPU -benchtime 3x ./runtime/restore/
func BenchmarkRestoreTinyCPU(b *testing.B) {
	benchRestore(b, &cpu.Backend{})
}

// BenchmarkRestoreTinyGPU is the same on the GPU backend (lavapipe where no
// GPU exists). Tiles are sized from the device's buffer limits, so on
// lavapipe's 128 MiB bindings a 512x512 image runs as several tiles.
//
//	go test -run - -bench RestoreTinyGPU -benchtime 3x ./runtime/restore/
func BenchmarkRestoreTinyGPU(b *testing.B) {
	be, err := gpu.New(gpu.Options{})
	if err != nil {
		b.Skip(err)
	}
	defer be.Close()
	b.Log(be.Name())
	benchRestore(b, be)
}

func benchRestore(b *testing.B, be backend.Backend) {
	m := tinyModel(b)
	for _, size := range []int{256, 512} {
		b.Run(fmt.Sprintf("%dx%d", size, size), func(b *testing.B) {
			r := restore.New(m, be)
			defer r.Close()
			img := gradient(size, size, false)
			opt := restore.Options{Steps: 3, Tile: -1, Equalize: restore.EqualizeOff}
			if _, err := r.Restore(context.Background(), img, opt); err != nil { // compile + warm up
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := r.Restore(context.Background(), img, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
			b.ReportMetric(float64(r.MemoryBytes())/(1<<20), "MiB-activations")
		})
	}
}
