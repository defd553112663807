package restore_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

func tinyModel(t testing.TB) *model.Model {
	t.Helper()
	m, err := model.FromTensors(weights.Tiny, model.RandomWeights(weights.Tiny, 1, weights.F16))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func gradient(w, h int, alpha bool) *imageio.Image {
	img := &imageio.Image{W: w, H: h, RGB: make([]float32, 3*w*h), Depth: 8}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			img.RGB[i] = float32(x) / float32(w)
			img.RGB[w*h+i] = float32(y) / float32(h)
			img.RGB[2*w*h+i] = 0.5
		}
	}
	if alpha {
		img.Alpha = make([]float32, w*h)
		for i := range img.Alpha {
			img.Alpha[i] = float32(i%7) / 6
		}
	}
	return img
}

func TestRestoreKeepsAlphaAndRange(t *testing.T) {
	r := restore.New(tinyModel(t), &cpu.Backend{})
	defer r.Close()
	img := gradient(21, 13, true)
	out, _, err := r.Restore(context.Background(), img, restore.Options{Steps: 2, Equalize: restore.EqualizeOff})
	if err != nil {
		t.Fatal(err)
	}
	if out.W != 21 || out.H != 13 || len(out.RGB) != 3*21*13 {
		t.Fatalf("got %dx%d with %d values", out.W, out.H, len(out.RGB))
	}
	for i, v := range out.Alpha {
		if v != img.Alpha[i] {
			t.Fatalf("alpha[%d] changed: %v -> %v", i, img.Alpha[i], v)
		}
	}
	for _, v := range out.RGB {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("output value %v outside [0,1]", v)
		}
	}
}

func TestTilesReportProgressAndMatchSeeds(t *testing.T) {
	r := restore.New(tinyModel(t), &cpu.Backend{})
	defer r.Close()
	img := gradient(40, 24, false)
	var events []restore.Progress
	opt := restore.Options{Steps: 2, Tile: 24, Overlap: 8, NoiseScale: 1, Seed: 7, Equalize: restore.EqualizeOff,
		Progress: func(p restore.Progress) { events = append(events, p) }}
	a, _, err := r.Restore(context.Background(), img, opt)
	if err != nil {
		t.Fatal(err)
	}
	tiles := events[len(events)-1].Tiles
	if tiles < 2 || len(events) != tiles*2 {
		t.Fatalf("%d progress events for %d tiles of 2 steps", len(events), tiles)
	}
	for i, p := range events {
		if done, total := p.Done(); done != i+1 || total != len(events) {
			t.Fatalf("event %d (%+v) says %d of %d steps done", i, p, done, total)
		}
	}
	opt.Progress = nil
	b, _, err := r.Restore(context.Background(), img, opt)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.RGB {
		if a.RGB[i] != b.RGB[i] {
			t.Fatal("same seed gave different results")
		}
	}
	opt.Seed = 8
	c, _, err := r.Restore(context.Background(), img, opt)
	if err != nil {
		t.Fatal(err)
	}
	same := true
	for i := range a.RGB {
		same = same && a.RGB[i] == c.RGB[i]
	}
	if same {
		t.Fatal("different seeds gave identical results")
	}
}

func TestCancel(t *testing.T) {
	r := restore.New(tinyModel(t), &cpu.Backend{})
	defer r.Close()
	ctx, cancel := context.WithCancel(context.Background())
	opt := restore.Options{Steps: 3, Progress: func(p restore.Progress) {
		if p.Step == 1 {
			cancel()
		}
	}}
	_, _, err := r.Restore(ctx, gradient(16, 16, false), opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

func TestBadOptions(t *testing.T) {
	r := restore.New(tinyModel(t), &cpu.Backend{})
	defer r.Close()
	for _, opt := range []restore.Options{
		{Steps: -1}, {Steps: 21}, {NoiseScale: -0.5}, {NoiseScale: float32(math.NaN())}, {NoiseScale: 11},
		{Equalize: 7}, {Tile: 7}, {Overlap: -1}, {MemoryBudget: -1},
	} {
		if err := opt.Check(); !errors.Is(err, restore.ErrOption) {
			t.Errorf("Check(%+v): %v, want ErrOption", opt, err)
		}
		if _, _, err := r.Restore(context.Background(), gradient(8, 8, false), opt); !errors.Is(err, restore.ErrOption) {
			t.Errorf("Restore with %+v: %v, want ErrOption", opt, err)
		}
	}
	for _, opt := range []restore.Options{{}, {Steps: 20, NoiseScale: 10, Equalize: restore.EqualizeOn, Tile: restore.MinTile}, {Tile: -1}} {
		if err := opt.Check(); err != nil {
			t.Errorf("Check(%+v): %v", opt, err)
		}
	}
	if _, _, err := r.Restore(context.Background(), &imageio.Image{}, restore.Options{}); err == nil {
		t.Error("empty image accepted")
	}
}

// A long-lived Restorer starts without a model and swaps model and backend.
func TestSetModelAndUse(t *testing.T) {
	r := restore.New(nil, &cpu.Backend{})
	defer r.Close()
	if _, _, err := r.Restore(context.Background(), gradient(16, 16, false), restore.Options{}); !errors.Is(err, restore.ErrNoModel) {
		t.Fatalf("restore without a model: %v, want ErrNoModel", err)
	}
	r.SetModel(tinyModel(t))
	want, _, err := r.Restore(context.Background(), gradient(16, 16, false), restore.Options{Steps: 1})
	if err != nil {
		t.Fatal(err)
	}
	old := &flaky{}
	r.Use(old, "first")
	r.Use(old, "again") // the same backend stays open
	r.Use(&cpu.Backend{}, "second")
	if old.closes != 1 {
		t.Errorf("the replaced backend was closed %d times, want 1", old.closes)
	}
	got, rep, err := r.Restore(context.Background(), gradient(16, 16, false), restore.Options{Steps: 1})
	if err != nil || rep.Backend.Reason != "second" || !slices.Equal(got.RGB, want.RGB) {
		t.Errorf("after Use: err %v, reason %q, same pixels %v", err, rep.Backend.Reason, err == nil && slices.Equal(got.RGB, want.RGB))
	}
}

func TestNoiseIsStandardNormal(t *testing.T) {
	var sum, sq float64
	n := 0
	for c := 0; c < 3; c++ {
		for y := 0; y < 100; y++ {
			for x := 0; x < 100; x++ {
				v := float64(restore.Noise(42, c, y, x))
				sum += v
				sq += v * v
				n++
			}
		}
	}
	mean := sum / float64(n)
	std := math.Sqrt(sq/float64(n) - mean*mean)
	if math.Abs(mean) > 0.02 || math.Abs(std-1) > 0.02 {
		t.Fatalf("noise mean %.4f std %.4f", mean, std)
	}
	if restore.Noise(1, 0, 5, 5) == restore.Noise(2, 0, 5, 5) {
		t.Fatal("seed does not change the noise")
	}
}

func TestShouldEqualize(t *testing.T) {
	scaled := func(k float32) *imageio.Image {
		img := gradient(100, 100, false)
		for i := range img.RGB {
			img.RGB[i] *= k
		}
		return img
	}
	lamp := scaled(0.1)
	n := lamp.W * lamp.H
	for i := range 10 { // 0.1% of the pixels white
		lamp.RGB[i], lamp.RGB[n+i], lamp.RGB[2*n+i] = 1, 1, 1
	}
	speck := scaled(0.1)
	speck.RGB[0], speck.RGB[n], speck.RGB[2*n] = 1, 1, 1 // one hot pixel is not a highlight
	for _, tc := range []struct {
		name string
		img  *imageio.Image
		want bool
	}{
		{"underexposed", scaled(0.1), true},
		{"one hot pixel", speck, true},
		{"well exposed", scaled(1), false},
		{"dark with a lamp", lamp, false},
		{"empty", &imageio.Image{}, false},
	} {
		if got := restore.ShouldEqualize(tc.img); got != tc.want {
			t.Errorf("%s: ShouldEqualize = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Prepare compiles the program of the first tile, so the restore of that
// size that follows compiles nothing; a bad size or option is an error.
func TestPrepare(t *testing.T) {
	for _, tc := range []struct {
		name        string
		w, h        int
		opt         restore.Options
		wantCompile []int // pixels of the programs Prepare compiles (Restore then compiles none)
	}{
		{"whole", 40, 30, restore.Options{Steps: 1, Tile: -1}, []int{48 * 32}},
		{"tiles", 70, 50, restore.Options{Steps: 1, Tile: 32, Overlap: 8}, []int{32 * 32}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			be := &flaky{}
			r := restore.New(tinyModel(t), be)
			defer r.Close()
			if err := r.Prepare(tc.w, tc.h, tc.opt); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(be.compiled, tc.wantCompile) {
				t.Fatalf("Prepare compiled %v, want %v", be.compiled, tc.wantCompile)
			}
			if _, _, err := r.Restore(context.Background(), gradient(tc.w, tc.h, false), tc.opt); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(be.compiled, tc.wantCompile) {
				t.Fatalf("after Restore: compiled %v, want %v", be.compiled, tc.wantCompile)
			}
		})
	}
	r := restore.New(tinyModel(t), &flaky{})
	defer r.Close()
	for _, bad := range []struct {
		w, h int
		opt  restore.Options
	}{{0, 10, restore.Options{}}, {10, 10, restore.Options{Steps: -1}}} {
		if err := r.Prepare(bad.w, bad.h, bad.opt); !errors.Is(err, restore.ErrOption) {
			t.Errorf("Prepare(%d, %d, %+v): %v, want ErrOption", bad.w, bad.h, bad.opt, err)
		}
	}
}
