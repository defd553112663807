package imageio

import (
	"slices"
	"testing"
)

func TestEqualizeHist(t *testing.T) {
	// Expected values are worked out by hand from OpenCV's algorithm.
	tests := []struct {
		name string
		in   []uint8
		want []uint8
	}{
		{"constant", []uint8{7, 7, 7, 7}, []uint8{7, 7, 7, 7}},
		{"two values", []uint8{10, 10, 10, 200}, []uint8{0, 0, 0, 255}},
		{"ramp", []uint8{0, 1, 2, 3}, []uint8{0, 85, 170, 255}},
		// scale = 255/6 = 42.5: sums 1, 3, 5 give 42.5, 127.5, 212.5, which
		// round half to even (42, 128, 212), not half up (43, 128, 213).
		{"ties to even", []uint8{0, 1, 2, 2, 3, 3, 4}, []uint8{0, 42, 128, 128, 212, 212, 255}},
		// hist 0:1 50:2 100:1 255:1, scale 63.75: 127.5->128, 191.25->191
		{"gaps", []uint8{50, 0, 50, 255, 100}, []uint8{128, 0, 128, 255, 191}},
		{"minimum repeated", []uint8{5, 5, 6}, []uint8{0, 0, 255}},
		{"single pixel", []uint8{42}, []uint8{42}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := len(tc.in)
			// R holds the input, G the input reversed, B is constant 0.5
			// (quantized to 128); each channel is equalized on its own.
			m := &Image{W: n, H: 1, RGB: make([]float32, 3*n), Alpha: make([]float32, n), Depth: 8}
			for i, v := range tc.in {
				m.RGB[i] = float32(v) / 255
				m.RGB[n+n-1-i] = float32(v) / 255
				m.RGB[2*n+i] = 0.5
				m.Alpha[i] = 0.25
			}
			EqualizeHist(m)
			got := func(plane []float32) []uint8 {
				out := make([]uint8, len(plane))
				for i, v := range plane {
					out[i] = quant8(v)
					if v != float32(out[i])/255 {
						t.Errorf("value %v is not on the 8-bit grid", v)
					}
				}
				return out
			}
			rev := slices.Clone(tc.want)
			slices.Reverse(rev)
			if r := got(m.RGB[:n]); !slices.Equal(r, tc.want) {
				t.Errorf("R = %v, want %v", r, tc.want)
			}
			if g := got(m.RGB[n : 2*n]); !slices.Equal(g, rev) {
				t.Errorf("G = %v, want %v", g, rev)
			}
			if b := got(m.RGB[2*n:]); !slices.Equal(b, slices.Repeat([]uint8{128}, n)) {
				t.Errorf("constant B = %v, want all 128", b)
			}
			for _, a := range m.Alpha {
				if a != 0.25 {
					t.Fatalf("alpha changed to %v", a)
				}
			}
		})
	}
}

func TestEqualizeHistDegenerate(t *testing.T) {
	for _, m := range []*Image{nil, {}, {W: 5, H: 5, RGB: []float32{0.1, 0.2}}} {
		EqualizeHist(m) // must not panic on empty or inconsistent images
	}
}
