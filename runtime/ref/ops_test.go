package ref

import (
	"math"
	"slices"
	"testing"
)

// Hand-computed cases pin the reference itself; everything else is tested
// against it.
func TestConv2DKnown(t *testing.T) {
	in := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9} // 1×3×3
	w := []float32{0, 1, 0, 1, 1, 1, 0, 1, 0}  // a plus sign
	out := make([]float32, 9)
	Conv2D(out, in, w, []float32{10}, 1, 3, 3, 1, 3, 1, 1)
	want := []float32{17, 21, 21, 27, 35, 33, 29, 39, 33}
	if !slices.Equal(out, want) {
		t.Fatalf("got %v, want %v", out, want)
	}
	out2 := make([]float32, 4) // 4x4 kernel, stride 2, pad 1 on 3x3 -> 1x1
	Conv2D(out2[:1], in, []float32{0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}, nil, 1, 3, 3, 1, 4, 2, 1)
	if out2[0] != 1+2+4+5 {
		t.Fatalf("strided conv: got %v, want 12", out2[0])
	}
}

func TestReflect(t *testing.T) {
	for _, tc := range []struct{ n, want []int }{
		{[]int{3}, []int{0, 1, 2, 1, 0, 1, 2, 1}},
		{[]int{1}, []int{0, 0, 0}},
		{[]int{2}, []int{0, 1, 0, 1}},
	} {
		for i, w := range tc.want {
			if got := Reflect(i, tc.n[0]); got != w {
				t.Errorf("Reflect(%d, %d) = %d, want %d", i, tc.n[0], got, w)
			}
		}
	}
	in := []float32{1, 2, 3, 4, 5, 6} // 1×2×3
	out := make([]float32, 4*5)
	ReflectPad(out, in, 1, 2, 3, 2, 2)
	want := []float32{1, 2, 3, 2, 1, 4, 5, 6, 5, 4, 1, 2, 3, 2, 1, 4, 5, 6, 5, 4}
	if !slices.Equal(out, want) {
		t.Fatalf("ReflectPad = %v, want %v", out, want)
	}
	back := make([]float32, 6)
	Crop(back, out, 1, 4, 5, 2, 3)
	if !slices.Equal(back, in) {
		t.Fatalf("Crop = %v", back)
	}
}

func TestNorms(t *testing.T) {
	in := []float32{1, 3, 5, 7} // 2 channels × 2 pixels
	out := make([]float32, 4)
	GroupNorm(out, in, []float32{1, 1}, []float32{0, 0}, 2, 2, 1, 0)
	s := float32(1 / math.Sqrt(5))
	want := []float32{-3 * s, -s, s, 3 * s}
	for i := range want {
		if math.Abs(float64(out[i]-want[i])) > 1e-6 {
			t.Fatalf("GroupNorm = %v, want %v", out, want)
		}
	}
	ChannelLayerNorm(out, in, []float32{1, 2}, 2, 2, 0) // per pixel: (1,5) and (3,7)
	if want := []float32{-1, -1, 2, 2}; !slices.Equal(out, want) {
		t.Fatalf("ChannelLayerNorm = %v, want %v", out, want)
	}
}

func TestAttentionUniform(t *testing.T) {
	// Equal keys give uniform attention: every output is the mean of v.
	n, dh := 4, 2
	qkv := make([]float32, 3*dh*n)
	for i := 0; i < n; i++ {
		qkv[0*n+i], qkv[1*n+i] = float32(i), -float32(i) // q varies
		qkv[(2*dh+0)*n+i] = float32(i)                   // v channel 0 = 0,1,2,3
		qkv[(2*dh+1)*n+i] = 1
	}
	out := make([]float32, dh*n)
	Attention(out, qkv, 1, dh, n)
	for i := 0; i < n; i++ {
		if math.Abs(float64(out[i]-1.5)) > 1e-6 || math.Abs(float64(out[n+i]-1)) > 1e-6 {
			t.Fatalf("Attention = %v", out)
		}
	}
}

func TestSinusoidalEmbedding(t *testing.T) {
	out := make([]float32, 4)
	SinusoidalEmbedding(out, 2, 4) // f = 1, 1e-4
	want := []float64{math.Sin(2), math.Sin(2e-4), math.Cos(2), math.Cos(2e-4)}
	for i := range want {
		if math.Abs(float64(out[i])-want[i]) > 1e-6 {
			t.Fatalf("embedding = %v, want %v", out, want)
		}
	}
}
