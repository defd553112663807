package metrics

import (
	"math"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// fromU8 builds an image from 8-bit values given per (x, y, c).
func fromU8(w, h int, f func(x, y, c int) int) *imageio.Image {
	img := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	for c := range 3 {
		for y := range h {
			for x := range w {
				img.RGB[c*w*h+y*w+x] = float32(f(x, y, c)) / 255
			}
		}
	}
	return img
}

// crossPair is the image pair of tools/train/metrics_crosscheck.py.
func crossPair() (a, b *imageio.Image) {
	fa := func(x, y, c int) int { return (x*5 + y*3 + c*40 + (x*y)%17) % 256 }
	a = fromU8(48, 32, fa)
	b = fromU8(48, 32, func(x, y, c int) int { return min(max(fa(x, y, c)+(x*7+y*11+c*3)%21-10, 0), 255) })
	return a, b
}

// TestCrossCheckNumpy compares with BasicSR's formulas re-implemented in
// numpy: `/usr/bin/python3 tools/train/metrics_crosscheck.py` (numpy 1.24.2,
// Debian 12, run 2026-11) printed
//
//	pair 48x32: PSNR 36.4087919321  SSIM 0.950160862638
//	gray 100 vs 110: PSNR 29.4527262822  SSIM 0.996734976167
func TestCrossCheckNumpy(t *testing.T) {
	a, b := crossPair()
	p, err := PSNR(a, b)
	if err != nil {
		t.Fatal(err)
	}
	s, err := SSIM(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(p-36.4087919321) > 1e-8 || math.Abs(s-0.950160862638) > 1e-10 {
		t.Errorf("PSNR %.10f SSIM %.12f, numpy 36.4087919321 0.950160862638", p, s)
	}
	g1 := fromU8(16, 16, func(x, y, c int) int { return 100 })
	g2 := fromU8(16, 16, func(x, y, c int) int { return 110 })
	p, _ = PSNR(g1, g2)
	s, _ = SSIM(g1, g2)
	if math.Abs(p-29.4527262822) > 1e-8 || math.Abs(s-0.996734976167) > 1e-10 {
		t.Errorf("gray: PSNR %.10f SSIM %.12f, numpy 29.4527262822 0.996734976167", p, s)
	}
}

func TestIdentical(t *testing.T) {
	a, _ := crossPair()
	p, _ := PSNR(a, a)
	s, _ := SSIM(a, a)
	if !math.IsInf(p, 1) || s != 1 {
		t.Fatalf("identical: PSNR %v SSIM %v, want +Inf and 1", p, s)
	}
	if Capped(p) != PSNRCap || Capped(30) != 30 {
		t.Fatal("Capped")
	}
	// Differences below half an 8-bit level vanish in the quantization.
	b := &imageio.Image{W: a.W, H: a.H, RGB: append([]float32(nil), a.RGB...)}
	for i := range b.RGB {
		b.RGB[i] += 0.4 / 255
	}
	if p, _ := PSNR(a, b); !math.IsInf(p, 1) {
		t.Fatalf("sub-level difference: PSNR %v", p)
	}
}

func TestKnownMSE(t *testing.T) {
	// Grey levels k and k+d differ in Y by d·219/255 everywhere (up to the
	// float32 rounding of Y), so MSE = (d·219/255)².
	for _, d := range []int{1, 5, 40} {
		a := fromU8(20, 13, func(x, y, c int) int { return 90 })
		b := fromU8(20, 13, func(x, y, c int) int { return 90 + d })
		dy := float64(d) * 219 / 255
		want := 10 * math.Log10(255*255/(dy*dy))
		p, _ := PSNR(a, b)
		if math.Abs(p-want) > 5e-4 { // Y is rounded through float32
			t.Errorf("d=%d: PSNR %.7f, want %.7f", d, p, want)
		}
	}
	// PSNRPlanes directly: MSE 4 everywhere -> 10·log10(65025/4).
	x, y := make([]float64, 50), make([]float64, 50)
	for i := range y {
		y[i] = 2
	}
	if p := PSNRPlanes(x, y); math.Abs(p-10*math.Log10(65025.0/4)) > 1e-12 {
		t.Errorf("PSNRPlanes %v", p)
	}
}

func TestQuantize8(t *testing.T) {
	for _, c := range []struct {
		v    float32
		want uint8
	}{{-1, 0}, {0, 0}, {1, 1 * 255}, {2, 255}, {float32(math.NaN()), 0}, {0.5, 128}, {0.5 / 255, 0}, {1.5 / 255, 2}, {2.5 / 255, 2}, {100.0 / 255, 100}} {
		img := &imageio.Image{W: 1, H: 1, RGB: []float32{c.v, c.v, c.v}}
		if Snap8(img); Quantize8(c.v) != c.want || img.RGB[2] != float32(c.want)/255 {
			t.Errorf("Quantize8(%v) = %d, Snap8 %v, want %d", c.v, Quantize8(c.v), img.RGB[2], c.want)
		}
	}
}

func TestYRange(t *testing.T) {
	black := fromU8(11, 11, func(x, y, c int) int { return 0 })
	white := fromU8(11, 11, func(x, y, c int) int { return 255 })
	if y := Y(black)[0]; y != 16 {
		t.Errorf("black Y %v", y)
	}
	if y := Y(white)[0]; math.Abs(y-235) > 1e-4 {
		t.Errorf("white Y %v", y)
	}
}

func TestErrors(t *testing.T) {
	a, _ := crossPair()
	small := fromU8(10, 40, func(x, y, c int) int { return x })
	if _, err := PSNR(a, small); err == nil {
		t.Error("size mismatch accepted")
	}
	if _, err := SSIM(small, small); err == nil {
		t.Error("SSIM on 10 pixels wide accepted")
	}
	if p, err := PSNR(small, small); err != nil || !math.IsInf(p, 1) {
		t.Error("PSNR works on any size")
	}
	if _, err := PSNR(nil, a); err == nil {
		t.Error("nil accepted")
	}
}

func TestSSIMOrdering(t *testing.T) {
	// More distortion, lower SSIM; symmetric in its arguments.
	a, _ := crossPair()
	mk := func(amp int) *imageio.Image {
		return fromU8(48, 32, func(x, y, c int) int {
			v := (x*5 + y*3 + c*40 + (x*y)%17) % 256
			return min(max(v+amp*((x*7+y*13)%5-2), 0), 255)
		})
	}
	s1, _ := SSIM(a, mk(2))
	s2, _ := SSIM(a, mk(8))
	s3, _ := SSIM(mk(8), a)
	if !(1 > s1 && s1 > s2) || s2 != s3 {
		t.Errorf("SSIM %v %v %v", s1, s2, s3)
	}
}
