package tile_test

import (
	"fmt"
	"log"

	"github.com/diffuir-web/diffuir/runtime/tile"
)

func Example() {
	// A 10x6 single-channel image processed in tiles of at most 6x6 that
	// overlap by at least 2 pixels.
	const w, h, channels, size, overlap = 10, 6, 1, 6, 2
	img := make([]float32, channels*w*h)
	for i := range img {
		img[i] = float32(i%w) / 10
	}

	tiles, err := tile.Plan(w, h, size, overlap)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tiles)

	b, err := tile.NewBlender(w, h, channels, tiles, overlap)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range tiles {
		// Cut the tile out (planar C×H×W) and "process" it: double it.
		data := make([]float32, 0, channels*r.W()*r.H())
		for y := r.Y0; y < r.Y1; y++ {
			for _, v := range img[y*w+r.X0 : y*w+r.X1] {
				data = append(data, 2*v)
			}
		}
		if err := b.Add(r, data); err != nil {
			log.Fatal(err)
		}
	}
	out := make([]float32, channels*w*h)
	if err := b.Result(out); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%.1f\n", out[:w])
	// Output:
	// [{0 0 6 6} {4 0 10 6}]
	// [0.0 0.2 0.4 0.6 0.8 1.0 1.2 1.4 1.6 1.8]
}
