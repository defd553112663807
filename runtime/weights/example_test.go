package weights_test

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

func Example() {
	tensors := []weights.Tensor{
		{Name: "final_conv.weight", Shape: []int{3, 2, 1, 1}, DType: weights.F16, Data: []float32{0.1, -0.2, 0.3, -0.4, 0.5, 65519}},
		{Name: "final_conv.bias", Shape: []int{3}, DType: weights.F32, Data: []float32{0.1, 0.2, 0.3}},
	}
	b, err := weights.Marshal(weights.Tiny, tensors)
	if err != nil {
		panic(err)
	}
	p, err := weights.Open(b)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.Header.Config.Name, len(b), "bytes, data at", p.Header.DataOffset)
	for _, name := range p.Names() {
		info, _ := p.Info(name)
		v, _ := p.Float32(name)
		fmt.Println(name, info.DType, info.Shape, "offset", info.Offset, v)
	}
	// Output:
	// diffuir-tiny 524 bytes, data at 256
	// final_conv.weight f16 [3 2 1 1] offset 0 [0.099975586 -0.19995117 0.30004883 -0.39990234 0.5 65504]
	// final_conv.bias f32 [3] offset 256 [0.1 0.2 0.3]
}
