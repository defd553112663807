package imageio_test

import (
	"bytes"
	"fmt"
	"log"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

func Example() {
	// A 2x1 image: an opaque red pixel and a half-transparent grey one.
	in := &imageio.Image{
		W: 2, H: 1, Depth: 16,
		RGB:   []float32{1, 0.5, 0, 0.5, 0, 0.5}, // R plane, G plane, B plane
		Alpha: []float32{1, 0.5},
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, in, "png", in.Depth, 0); err != nil {
		log.Fatal(err)
	}

	out, format, err := imageio.DecodeBytes(buf.Bytes())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s %dx%d depth %d, alpha %.2f\n", format, out.W, out.H, out.Depth, out.Alpha)
	fmt.Printf("R %.2f G %.2f B %.2f\n", out.RGB[0:2], out.RGB[2:4], out.RGB[4:6])
	// Output:
	// png 2x1 depth 16, alpha [1.00 0.50]
	// R [1.00 0.50] G [0.00 0.50] B [0.00 0.50]
}

func ExampleEqualizeHist() {
	// Four grey levels crowded into the dark end get spread over 0..255.
	levels := []float32{10, 10, 20, 30, 40}
	m := &imageio.Image{W: len(levels), H: 1, RGB: make([]float32, 3*len(levels)), Depth: 8}
	for c := range 3 {
		for i, v := range levels {
			m.RGB[c*len(levels)+i] = v / 255
		}
	}
	imageio.EqualizeHist(m)
	for _, v := range m.RGB[:len(levels)] {
		fmt.Print(v*255, " ")
	}
	fmt.Println()
	// Output: 0 0 85 170 255
}
