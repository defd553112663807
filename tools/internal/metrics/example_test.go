package metrics_test

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
)

// Score a restoration against its clean reference, as 'diffuir eval' does.
func ExamplePSNR() {
	const w, h = 16, 16
	clean := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	restored := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	for i := range clean.RGB {
		clean.RGB[i] = 100.0 / 255
		restored.RGB[i] = 110.0 / 255 // every channel 10 levels too bright
	}
	p, _ := metrics.PSNR(restored, clean)
	s, _ := metrics.SSIM(restored, clean)
	same, _ := metrics.PSNR(clean, clean)
	fmt.Printf("PSNR %.2f dB, SSIM %.4f; identical: %v (reported as %g)\n", p, s, same, metrics.Capped(same))
	// Output:
	// PSNR 29.45 dB, SSIM 0.9967; identical: +Inf (reported as 100)
}
