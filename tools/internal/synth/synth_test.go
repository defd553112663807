package synth

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// The generator is the reference SplitMix64 (Vigna's splitmix64.c): every
// degradation drawn with it, and so every training shard, depends on that.
func TestSplitMix64Reference(t *testing.T) {
	s := SplitMix64(0)
	for i, want := range []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f} {
		if got := s.Next(); got != want {
			t.Fatalf("output %d: %#x, want %#x", i, got, want)
		}
	}
	for range 1000 {
		if f, k := s.Float(), s.Intn(7); f < 0 || f >= 1 || k < 0 || k >= 7 {
			t.Fatalf("Float %v, Intn(7) %d", f, k)
		}
	}
}

func TestClampAndStretch(t *testing.T) {
	nan := float32(math.NaN())
	p := []float32{-0.5, 0, 0.25, 1, 1.5, nan, float32(math.Inf(-1))}
	Clamp(p)
	if want := []float32{0, 0, 0.25, 1, 1, 0, 0}; !slices.Equal(p, want) {
		t.Errorf("Clamp: %v, want %v", p, want)
	}
	for _, c := range []struct{ in, want []float32 }{
		{[]float32{2, 4, 3}, []float32{0, 1, 0.5}},
		{[]float32{0.3, 0.3}, []float32{0.3, 0.3}}, // constant: unchanged
	} {
		if Stretch(c.in); !slices.Equal(c.in, c.want) {
			t.Errorf("Stretch: %v, want %v", c.in, c.want)
		}
	}
}

func TestCopyAndValues(t *testing.T) {
	img := &imageio.Image{W: 2, H: 1, Depth: 8, RGB: []float32{1, 2, 3, 4, 5, 6}, Alpha: []float32{1, 0}}
	c, err := Copy(img)
	if err != nil || c.W != 2 || c.H != 1 || c.Depth != 8 || !slices.Equal(c.RGB, img.RGB) || !slices.Equal(c.Alpha, img.Alpha) || &c.RGB[0] == &img.RGB[0] || &c.Alpha[0] == &img.Alpha[0] {
		t.Fatalf("Copy: %+v, %v: want an equal image in new memory", c, err)
	}
	for _, bad := range []*imageio.Image{nil, {}, {W: 2, H: 1, RGB: make([]float32, 5)}} {
		if _, err := Copy(bad); !errors.Is(err, ErrImage) {
			t.Errorf("Copy(%+v): %v, want ErrImage", bad, err)
		}
	}
	if got := Values(map[string]float64{"b": 1.23456, "a": 2}); got != " a=2 b=1.235" {
		t.Errorf("Values: %q", got)
	}
}
