package restore_test

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func TestLoad(t *testing.T) {
	pack, err := weights.Marshal(weights.Tiny, model.RandomWeights(weights.Tiny, 1, weights.F16))
	if err != nil {
		t.Fatal(err)
	}
	damaged := slices.Clone(pack)
	damaged[len(damaged)-1] ^= 1
	for _, tc := range []struct {
		name    string
		data    []byte
		want    error // nil: loads
		message string
	}{
		{"pack", pack, nil, ""},
		{"empty", nil, restore.ErrModelCorrupt, "empty or truncated"},
		{"truncated pack", pack[:len(pack)/2], restore.ErrModelCorrupt, "truncated"},
		{"damaged pack", damaged, restore.ErrModelCorrupt, "SHA-256"},
		{"neither pack nor checkpoint", []byte("GIF89a, not a model"), restore.ErrModelInvalid, "checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, info, err := restore.Load(tc.data, restore.LoadOptions{})
			if tc.want == nil {
				if err != nil || m == nil || info.Name != "diffuir-tiny" || info.Params != model.ParamCount(weights.Tiny) ||
					info.FileSize != int64(len(pack)) || len(info.SHA256) != 64 || info.Converted {
					t.Fatalf("%v, info %+v", err, info)
				}
				return
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("got %v, want %v saying %q", err, tc.want, tc.message)
			}
		})
	}
}

func TestOpenBackend(t *testing.T) {
	hw, sw := &flaky{gpu: true}, &flaky{gpu: true, software: true}
	open := func(g *flaky) func() (backend.Backend, error) {
		return func() (backend.Backend, error) { g.closes = 0; return g, nil }
	}
	noAdapter := func() (backend.Backend, error) { return nil, errors.New("no adapter") }
	for _, tc := range []struct {
		name     string
		o        restore.BackendOptions
		kind     string
		reason   string // a part of it
		err      error
		swClosed bool
	}{
		{"cpu", restore.BackendOptions{Want: "cpu", OpenGPU: open(hw)}, "cpu", "requested", nil, false},
		{"cpu with the caller's reason", restore.BackendOptions{Want: "cpu", Reason: "told so"}, "cpu", "told so", nil, false},
		{"auto, hardware", restore.BackendOptions{OpenGPU: open(hw)}, "gpu", "", nil, false},
		{"auto, software", restore.BackendOptions{Want: "auto", OpenGPU: open(sw)}, "cpu", "vulkan adapter is software: llvmpipe, slower here", nil, true},
		{"gpu, software", restore.BackendOptions{Want: "gpu", OpenGPU: open(sw)}, "gpu", "", nil, false},
		{"auto, no adapter", restore.BackendOptions{OpenGPU: noAdapter}, "cpu", "no GPU: no adapter", nil, false},
		{"gpu, not built in", restore.BackendOptions{Want: "gpu"}, "cpu", "no GPU backend", nil, false},
		{"gpu required, no adapter", restore.BackendOptions{Want: "gpu", OpenGPU: noAdapter, Require: true}, "", "", restore.ErrNoGPU, false},
		{"a misspelt name", restore.BackendOptions{Want: "gpus"}, "", "", restore.ErrBackendName, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be, info, err := restore.OpenBackend(tc.o)
			if tc.err != nil {
				if !errors.Is(err, tc.err) || be != nil {
					t.Fatalf("got %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil || info.Kind != tc.kind || !strings.Contains(info.Reason, tc.reason) || (tc.reason == "") != (info.Reason == "") {
				t.Fatalf("got %+v, %v; want %s (%q)", info, err, tc.kind, tc.reason)
			}
			if (sw.closes == 1) != tc.swClosed {
				t.Fatalf("software GPU closed %d times", sw.closes)
			}
			sw.closes = 0
		})
	}
}

// TestTilesSpreadOverRestorers restores a tiled image's tiles on two
// Restorers, as the browser's workers do, and blends them in one place: the
// result is Restore's, bit for bit.
func TestTilesSpreadOverRestorers(t *testing.T) {
	m := tinyModel(t)
	img := gradient(90, 70, true)
	opt := restore.Options{Steps: 2, Seed: 3, NoiseScale: 1, Tile: 48, Overlap: 12}
	whole := restore.New(m, &flaky{})
	want, rep, err := whole.Restore(context.Background(), img, opt)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Tiles < 4 || rep.Steps != 2 || rep.TileSize != 48 || rep.Backend.Kind != "cpu" {
		t.Fatalf("report %+v", rep)
	}
	var results []restore.TileResult
	for k, share := range [][]int{{3, 1}, {0, 2}} {
		r := restore.New(m, &flaky{})
		p, err := r.Plan(img, opt)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			share = append(share, len(p.Tiles)-1)
			for i := 4; i < len(p.Tiles)-1; i++ {
				share = append(share, i)
			}
		}
		var tiles []int // Plan.Progress, swapped in after Plan, numbers the tiles as in the plan
		p.Progress = func(pr restore.Progress) { tiles = append(tiles, pr.Tile-1) }
		got, err := r.RestoreTiles(context.Background(), p, share)
		if err != nil || len(tiles) != 2*len(share) || tiles[0] != share[0] || tiles[len(tiles)-1] != share[len(share)-1] {
			t.Fatalf("%v; progress of tiles %v for %v", err, tiles, share)
		}
		results = append(results, got...)
	}
	p, err := whole.Plan(img, opt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Blend(results[1:]); err == nil {
		t.Fatal("a blend with a tile missing succeeded")
	}
	got, err := p.Blend(results)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.RGB, want.RGB) || !slices.Equal(got.Alpha, want.Alpha) {
		t.Fatal("tiles restored apart and blended differ from one Restore")
	}
	if got := whole.Report(p); !reflect.DeepEqual(got, rep) {
		t.Fatalf("the blending Restorer reports %+v, Restore reported %+v", got, rep)
	}
}
