package convert_test

import (
	"fmt"
	"os"

	"github.com/diffuir-web/diffuir/runtime/convert"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Reading every float tensor of a torch.save checkpoint, from bytes.
func ExampleReadCheckpoint() {
	data, err := os.ReadFile("testdata/edge_trainer.pt")
	if err != nil {
		panic(err)
	}
	tensors, format, err := convert.ReadCheckpoint(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(format, len(tensors), "float tensors")
	for _, t := range tensors {
		if t.Name == "ema.ema_model.model.unet0.e.transposed" {
			fmt.Println(t.Name, t.Shape, t.Data)
		}
	}
	// Output:
	// torch-zip 29 float tensors
	// ema.ema_model.model.unet0.e.transposed [4 3] [0 2 4 0.5 2.5 4.5 1 3 5 1.5 3.5 5.5]
}

// Converting decoded tensors (here: a constant Tiny UNet under the
// state_dict prefix "model.unet0.") into a pack. Convert does the same
// from checkpoint bytes.
func ExampleConvertTensors() {
	var tensors []weights.Tensor
	for _, s := range model.ParamSpecs(weights.Tiny) {
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = 0.01 * float32(i%7)
		}
		tensors = append(tensors, weights.Tensor{Name: "model.unet0." + s.Name, Shape: s.Shape, Data: data})
	}
	pack, rep, err := convert.ConvertTensors(tensors, convert.DefaultOptions())
	if err != nil {
		panic(err)
	}
	fmt.Println(rep.Size, rep.Params, rep.Source, len(pack) == int(rep.Bytes))
	p, err := weights.Open(pack)
	if err != nil {
		panic(err)
	}
	info, _ := p.Info("downs.0.0.block1.proj.weight")
	fmt.Println(info.DType, info.Shape, p.Header.Flags&weights.FlagStandardized != 0)
	// Output:
	// T 886435 model.unet0. true
	// f16 [32 32 3 3] true
}
