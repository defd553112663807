// Package metrics computes PSNR and SSIM between a restored (or degraded)
// image and its clean reference exactly as BasicSR does for its reported
// numbers (calculate_psnr / calculate_ssim with test_y_channel=True,
// crop_border=0), the protocol the DiffUIR paper follows:
//
//   - both images are first quantized to 8 bits, v ↦ round(v·255) with the
//     product in float32 and rounding half to even (numpy's round, as in
//     BasicSR's tensor2img), after clamping to [0, 1];
//   - the comparison uses the BT.601 luma of the quantized images,
//     Y = 16 + 65.481·R + 128.553·G + 24.966·B with R, G, B = value/255
//     (BasicSR's rgb2ycbcr y_only; range [16, 235]), kept as a float and,
//     as BasicSR's to_y_channel does, rounded through float32;
//   - PSNR = 10·log10(255² / MSE(Y₁, Y₂)); identical images give +Inf;
//   - SSIM uses an 11×11 Gaussian window (σ = 1.5, normalised as OpenCV's
//     getGaussianKernel), C1 = (0.01·255)², C2 = (0.03·255)², 'valid'
//     filtering (the map loses 5 pixels on each side) and the mean of the
//     map; identical images give exactly 1.
//
// The arithmetic follows BasicSR's precision step by step (value/255 in
// float32, the weighted sum in float64, Y stored as float32, PSNR and SSIM in
// float64); only the order of the SSIM window sums differs (separable here,
// a 2-D filter in OpenCV), which moves SSIM by about 1e-15.
//
// Reporting +Inf: JSON has no infinity, so averages that callers publish use
// [Capped], which clips PSNR at [PSNRCap] (100 dB) per image; 'diffuir eval'
// does that and says so.
package metrics

import (
	"errors"
	"fmt"
	"math"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// PSNRCap is the value Capped gives for identical images (PSNR = +Inf).
const PSNRCap = 100.0

// Capped clips a PSNR at PSNRCap so it can be averaged and written as JSON.
func Capped(psnr float64) float64 { return math.Min(psnr, PSNRCap) }

// Quantize8 maps v in [0,1] to the 8-bit level BasicSR's tensor2img gives:
// clamp, multiply by 255 in float32, round half to even.
func Quantize8(v float32) uint8 {
	if !(v > 0) { // also NaN
		return 0
	}
	if v > 1 {
		return 255
	}
	return uint8(math.RoundToEven(float64(v * 255)))
}

// Snap8 moves img's colour onto the Quantize8 grid, as a photo file stores
// it (mkshard and 'diffuir eval' score and train on such pixels).
func Snap8(img *imageio.Image) {
	for i, v := range img.RGB {
		img.RGB[i] = float32(Quantize8(v)) / 255
	}
}

// Y returns the BT.601 luma plane (BasicSR's rgb2ycbcr y_only, scaled to
// [16, 235]) of the 8-bit quantization of img.
func Y(img *imageio.Image) []float64 {
	n := img.W * img.H
	out := make([]float64, n)
	r, g, b := img.RGB[:n], img.RGB[n:2*n], img.RGB[2*n:3*n]
	for i := range out {
		// BasicSR: img.astype(float32)/255, np.dot(bgr, [24.966, 128.553,
		// 65.481]) + 16 in float64, /255, astype(float32), *255 in float32.
		// The float64() conversions keep the compiler from fusing into FMAs.
		rf := float64(float32(Quantize8(r[i])) / 255)
		gf := float64(float32(Quantize8(g[i])) / 255)
		bf := float64(float32(Quantize8(b[i])) / 255)
		dot := float64(bf*24.966) + float64(gf*128.553)
		dot = float64(dot + float64(rf*65.481))
		out[i] = float64(float32(float32((dot+16)/255) * 255))
	}
	return out
}

func check(a, b *imageio.Image) error {
	if a == nil || b == nil || a.W <= 0 || a.H <= 0 {
		return errors.New("metrics: empty image")
	}
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("metrics: sizes differ: %dx%d vs %dx%d", a.W, a.H, b.W, b.H)
	}
	if len(a.RGB) != 3*a.W*a.H || len(b.RGB) != 3*b.W*b.H {
		return errors.New("metrics: inconsistent image")
	}
	return nil
}

// PSNR is the Y-channel PSNR in dB between a and b (+Inf when identical
// after quantization).
func PSNR(a, b *imageio.Image) (float64, error) {
	if err := check(a, b); err != nil {
		return 0, err
	}
	return PSNRPlanes(Y(a), Y(b)), nil
}

// SSIM is the Y-channel SSIM between a and b. Both sides must be at least
// 11 pixels (the window).
func SSIM(a, b *imageio.Image) (float64, error) {
	if err := check(a, b); err != nil {
		return 0, err
	}
	if a.W < window || a.H < window {
		return 0, fmt.Errorf("metrics: SSIM needs at least %dx%d pixels, got %dx%d", window, window, a.W, a.H)
	}
	return SSIMPlanes(Y(a), Y(b), a.W, a.H), nil
}

// PSNRPlanes is the PSNR of two planes on the 0-255 scale.
func PSNRPlanes(x, y []float64) float64 {
	var s float64
	for i := range x {
		d := x[i] - y[i]
		s += d * d
	}
	mse := s / float64(len(x))
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

const window = 11

// gauss is OpenCV's getGaussianKernel(11, 1.5).
var gauss = func() [window]float64 {
	var k [window]float64
	var s float64
	for i := range k {
		d := float64(i - window/2)
		k[i] = math.Exp(-d * d / (2 * 1.5 * 1.5))
		s += k[i]
	}
	for i := range k {
		k[i] /= s
	}
	return k
}()

// filterValid applies the separable 11×11 Gaussian with 'valid' extent:
// the result is (w−10)×(h−10).
func filterValid(p []float64, w, h int) []float64 {
	ow, oh := w-window+1, h-window+1
	tmp := make([]float64, ow*h)
	for y := range h {
		row := p[y*w:]
		for x := range ow {
			var s float64
			for k, g := range gauss {
				s += g * row[x+k]
			}
			tmp[y*ow+x] = s
		}
	}
	out := make([]float64, ow*oh)
	for y := range oh {
		for x := range ow {
			var s float64
			for k, g := range gauss {
				s += g * tmp[(y+k)*ow+x]
			}
			out[y*ow+x] = s
		}
	}
	return out
}

// SSIMPlanes is the SSIM of two w×h planes on the 0-255 scale (w, h ≥ 11).
func SSIMPlanes(x, y []float64, w, h int) float64 {
	const c1, c2 = (0.01 * 255) * (0.01 * 255), (0.03 * 255) * (0.03 * 255)
	n := w * h
	xx, yy, xy := make([]float64, n), make([]float64, n), make([]float64, n)
	for i := range n {
		xx[i], yy[i], xy[i] = x[i]*x[i], y[i]*y[i], x[i]*y[i]
	}
	mx, my := filterValid(x, w, h), filterValid(y, w, h)
	sxx, syy, sxy := filterValid(xx, w, h), filterValid(yy, w, h), filterValid(xy, w, h)
	var sum float64
	for i := range mx {
		m1, m2 := mx[i], my[i]
		m11, m22, m12 := m1*m1, m2*m2, m1*m2
		s1, s2, s12 := sxx[i]-m11, syy[i]-m22, sxy[i]-m12
		sum += ((2*m12 + c1) * (2*s12 + c2)) / ((m11 + m22 + c1) * (s1 + s2 + c2))
	}
	return sum / float64(len(mx))
}
