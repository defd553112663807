package weights

import (
	"math"
	"math/rand/v2"
	"testing"
)

// f16Value is the exact value of an f16 bit pattern, computed independently.
func f16Value(h uint16) float64 {
	exp := int(h>>10) & 0x1f
	mant := float64(h & 0x3ff)
	var v float64
	switch exp {
	case 0x1f:
		if mant != 0 {
			return math.NaN()
		}
		v = math.Inf(1)
	case 0:
		v = mant * math.Pow(2, -24)
	default:
		v = (1 + mant/1024) * math.Pow(2, float64(exp-15))
	}
	if h&0x8000 != 0 {
		v = -v
	}
	return v
}

func TestF16ExhaustiveRoundTrip(t *testing.T) {
	for i := 0; i < 1<<16; i++ {
		h := uint16(i)
		f := F16ToF32(h)
		want := f16Value(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(f)) {
				t.Fatalf("F16ToF32(%#04x) = %v, want NaN", h, f)
			}
			// NaNs come back quiet with the payload kept.
			if got := F32ToF16(f); got != h|0x200 {
				t.Fatalf("NaN %#04x round-trips to %#04x, want %#04x", h, got, h|0x200)
			}
			continue
		}
		if float64(f) != want || math.Signbit(float64(f)) != (h&0x8000 != 0) {
			t.Fatalf("F16ToF32(%#04x) = %v, want %v", h, f, want)
		}
		if got := F32ToF16(f); got != h {
			t.Fatalf("F32ToF16(F16ToF32(%#04x)) = %#04x", h, got)
		}
	}
}

// Every rounding boundary: the exact midpoint between two neighbouring f16
// values ties to even, one f32 ulp either side goes to the nearer one.
func TestF16RoundingBoundaries(t *testing.T) {
	for _, sign := range []uint16{0, 0x8000} {
		for h := uint16(0); h < 0x7c00; h++ {
			lo, hi := f16Value(h), f16Value(h+1)
			if h+1 == 0x7c00 {
				hi = 65536 // where the next binade would start: the overflow threshold is its midpoint
			}
			mid := float32((lo + hi) / 2) // exact: 12 significant bits
			if float64(mid) != (lo+hi)/2 {
				t.Fatalf("midpoint not exact at %#04x", h)
			}
			even := h
			if h&1 == 1 {
				even = h + 1
			}
			s := float32(1)
			if sign != 0 {
				s = -1
			}
			cases := []struct {
				x    float32
				want uint16
			}{
				{s * mid, even | sign},
				{s * math.Nextafter32(mid, 0), h | sign},
				{s * math.Nextafter32(mid, float32(math.Inf(1))), (h + 1) | sign},
			}
			for _, c := range cases {
				if got := F32ToF16(c.x); got != c.want {
					t.Fatalf("F32ToF16(%g [%#08x]) = %#04x, want %#04x", c.x, math.Float32bits(c.x), got, c.want)
				}
			}
		}
	}
}

func TestF16Known(t *testing.T) {
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{0.5, 0x3800},
		{0.1, 0x2e66},
		{1.0 / 3, 0x3555},
		{65504, 0x7bff},
		{65519.996, 0x7bff},
		{65520, 0x7c00}, // tie between 65504 (odd) and overflow: rounds to Inf
		{1e6, 0x7c00},
		{-1e6, 0xfc00},
		{float32(math.Inf(1)), 0x7c00},
		{float32(math.Inf(-1)), 0xfc00},
		{6.103515625e-05, 0x0400},        // smallest normal
		{6.097555160522461e-05, 0x03ff},  // largest subnormal
		{5.960464477539063e-08, 0x0001},  // smallest subnormal 2^-24
		{2.9802322387695312e-08, 0x0000}, // 2^-25: tie to even (0)
		{2.9802326e-08, 0x0001},          // just above 2^-25
		{8.940696716308594e-08, 0x0002},  // 1.5 * 2^-24: tie to even (2)
		{1e-10, 0x0000},
		{math.SmallestNonzeroFloat32, 0x0000},
		{-math.SmallestNonzeroFloat32, 0x8000},
		{math.MaxFloat32, 0x7c00},
	} {
		if got := F32ToF16(c.f); got != c.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, not a NaN", h)
	}
	// A NaN whose payload is only in the low bits must not become Inf.
	if h := F32ToF16(math.Float32frombits(0x7f800001)); h != 0x7e00 {
		t.Errorf("F32ToF16(signalling NaN 0x7f800001) = %#04x, want 0x7e00", h)
	}
}

// Random f32 values round to the nearest f16 (checked against both neighbours).
func TestF16RandomNearest(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 1_000_000; i++ {
		x := math.Float32frombits(r.Uint32())
		if i%2 == 0 { // half the draws in the f16 range, where rounding matters
			x = float32(r.NormFloat64() * math.Ldexp(1, r.IntN(44)-28))
		}
		if x != x || math.Abs(float64(x)) >= 65520 {
			continue
		}
		h := F32ToF16(x)
		d := math.Abs(f16Value(h) - float64(x))
		for _, n := range []uint16{h - 1, h + 1} {
			if n&0x7fff >= 0x7c00 || (n^h)&0x8000 != 0 {
				continue
			}
			if dn := math.Abs(f16Value(n) - float64(x)); dn < d {
				t.Fatalf("F32ToF16(%g) = %#04x (off by %g), %#04x is nearer (%g)", x, h, d, n, dn)
			}
		}
	}
}

func BenchmarkF32ToF16(b *testing.B) {
	src := make([]float32, 4096)
	for i := range src {
		src[i] = float32(i)*0.001 - 2
	}
	dst := make([]byte, 2*len(src))
	b.SetBytes(int64(len(dst)))
	for b.Loop() {
		encodeF16(dst, src)
	}
}

func BenchmarkF16ToF32(b *testing.B) {
	src := make([]byte, 8192)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]float32, len(src)/2)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		decodeF16(dst, src)
	}
}
