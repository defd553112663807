package restore_test

import (
	"context"
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// A restore: open a pack, bind the model to a backend, restore an image.
func Example() {
	// A real program reads the bytes of a pack (or a checkpoint) from a file.
	packBytes, _ := weights.Marshal(weights.Tiny, model.RandomWeights(weights.Tiny, 1, weights.F16))
	m, _, err := restore.Load(packBytes, restore.LoadOptions{})
	if err != nil {
		fmt.Println(err)
		return
	}
	be, _, err := restore.OpenBackend(restore.BackendOptions{Want: restore.BackendCPU})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer be.Close()
	r := restore.New(m, be)
	defer r.Close()

	img := &imageio.Image{W: 20, H: 12, RGB: make([]float32, 3*20*12), Depth: 8}
	out, _, err := r.Restore(context.Background(), img, restore.Options{Steps: 3, Equalize: restore.EqualizeOff,
		Progress: func(p restore.Progress) { fmt.Printf("tile %d/%d step %d/%d\n", p.Tile, p.Tiles, p.Step, p.Steps) }})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.W, out.H)
	// Output:
	// tile 1/1 step 1/3
	// tile 1/1 step 2/3
	// tile 1/1 step 3/3
	// 20 12
}
