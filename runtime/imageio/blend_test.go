package imageio

import (
	"errors"
	"math"
	"testing"
)

// blendRef is the plain reference: the blend in float64, per channel.
func blendRef(a, b float32, s float64) float64 { return (1-s)*float64(a) + s*float64(b) }

func TestBlend(t *testing.T) {
	for _, tc := range []struct {
		w, h     int
		strength float64
		alpha    bool
	}{
		{1, 1, 0, false}, {3, 5, 1, false}, {7, 3, 0.5, true}, {13, 9, 0.25, false}, {5, 11, 0.9, true},
	} {
		orig := &Image{W: tc.w, H: tc.h, Depth: 8, RGB: make([]float32, 3*tc.w*tc.h)}
		res := &Image{W: tc.w, H: tc.h, Depth: 16, RGB: make([]float32, 3*tc.w*tc.h)}
		for i := range orig.RGB {
			orig.RGB[i] = float32((i*37)%256) / 255
			res.RGB[i] = float32((i*91+13)%65536) / 65535
		}
		if tc.alpha {
			res.Alpha = make([]float32, tc.w*tc.h)
			for i := range res.Alpha {
				res.Alpha[i] = float32(i%3) / 2
			}
		}
		out, err := Blend(orig, res, tc.strength)
		if err != nil {
			t.Fatalf("%dx%d s=%v: %v", tc.w, tc.h, tc.strength, err)
		}
		if out.Depth != 16 || (out.Alpha != nil) != tc.alpha {
			t.Errorf("%dx%d: depth %d, alpha %v: want the restored image's", tc.w, tc.h, out.Depth, out.Alpha != nil)
		}
		for i, v := range out.RGB {
			want := blendRef(orig.RGB[i], res.RGB[i], tc.strength)
			switch tc.strength {
			case 0:
				if v != orig.RGB[i] {
					t.Fatalf("s=0, value %d: %v, want the original's %v exactly", i, v, orig.RGB[i])
				}
			case 1:
				if v != res.RGB[i] {
					t.Fatalf("s=1, value %d: %v, want the restored %v exactly", i, v, res.RGB[i])
				}
			}
			if math.Abs(float64(v)-want) > 1e-6 {
				t.Fatalf("%dx%d s=%v, value %d: %v, want %v", tc.w, tc.h, tc.strength, i, v, want)
			}
		}
	}
}

func TestBlendErrors(t *testing.T) {
	a := &Image{W: 2, H: 2, Depth: 8, RGB: make([]float32, 12)}
	b := &Image{W: 3, H: 2, Depth: 8, RGB: make([]float32, 18)}
	if _, err := Blend(a, b, 0.5); !errors.Is(err, ErrMismatch) {
		t.Errorf("sizes 2x2 and 3x2: %v, want ErrMismatch", err)
	}
	for _, s := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := Blend(a, a, s); err == nil {
			t.Errorf("strength %v accepted", s)
		}
	}
	if _, err := Blend(nil, a, 0.5); !errors.Is(err, ErrEmpty) {
		t.Errorf("nil image: %v, want ErrEmpty", err)
	}
}
