package restore_test

import (
	"context"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/backend/gpu"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// benchSizes lists the image sizes the restore benchmarks run, as S (square)
// or WxH: a real GPU is timed at photo sizes too, e.g.
// -restore.sizes=256,512,2048,4000x3000.
var benchSizes = flag.String("restore.sizes", "256,512", "comma-separated image sizes, S or WxH")

// benchModel picks the random-weight model the restore benchmarks run:
// tiny (the names say so) or small, whose sub-benchmarks are named small-SIZE.
var benchModel = flag.String("restore.model", "tiny", "tiny or small")

func parseSizes(b *testing.B) [][2]int {
	var out [][2]int
	for _, f := range strings.Split(*benchSizes, ",") {
		ws, hs, ok := strings.Cut(strings.TrimSpace(f), "x")
		if !ok {
			hs = ws
		}
		w, errW := strconv.Atoi(ws)
		h, errH := strconv.Atoi(hs)
		if errW != nil || errH != nil || w <= 0 || h <= 0 {
			b.Fatalf("-restore.sizes: bad size %q", f)
		}
		out = append(out, [2]int{w, h})
	}
	return out
}

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
	b.Logf("%s; largest tensor the device holds: %d MiB", be.Name(), be.MaxTensorBytes()>>20)
	benchRestore(b, be)
}

func benchRestore(b *testing.B, be backend.Backend) {
	cfg, prefix := weights.Tiny, ""
	switch *benchModel {
	case "tiny":
	case "small":
		cfg, prefix = weights.Small, "small-"
	default:
		b.Fatalf("-restore.model %q: want tiny or small", *benchModel)
	}
	m, err := model.FromTensors(cfg, model.RandomWeights(cfg, 1, weights.F16))
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range parseSizes(b) {
		b.Run(fmt.Sprintf("%s%dx%d", prefix, size[0], size[1]), func(b *testing.B) {
			r := restore.New(m, be)
			defer r.Close()
			img := gradient(size[0], size[1], false)
			opt := restore.Options{Steps: 3, Tile: -1, Equalize: restore.EqualizeOff}
			if _, _, err := r.Restore(context.Background(), img, opt); err != nil { // compile + warm up
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, _, err := r.Restore(context.Background(), img, opt); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/restore")
			b.ReportMetric(float64(r.MemoryBytes())/(1<<20), "MiB-activations")
		})
	}
}
