package degrade_test

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/degrade"
)

// Degrade a photo with every task; the seed makes each result repeatable.
func ExampleApply() {
	const w, h = 64, 48
	img := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	for i := range img.RGB {
		img.RGB[i] = float32(i%w) / w // a horizontal ramp
	}
	for i, task := range degrade.Tasks {
		out, p, err := degrade.Apply(img, task, uint64(100+i))
		if err != nil {
			panic(err)
		}
		fmt.Printf("%-8s %dx%d, %d parameters drawn\n", p.Task, out.W, out.H, len(p.Values))
	}
	// Output:
	// haze     64x48, 14 parameters drawn
	// lowlight 64x48, 13 parameters drawn
	// rain     64x48, 16 parameters drawn
	// snow     64x48, 15 parameters drawn
	// blur     64x48, 10 parameters drawn
}
