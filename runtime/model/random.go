package model

import (
	"math"
	"math/rand/v2"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// RandomWeights returns every UNet tensor for cfg filled with seeded random
// values at PyTorch-like initialisation scales (norm gains near 1), in the
// given storage type for matrices. It serves tests and benchmarks that need
// a model of the right shape, not a trained one.
func RandomWeights(cfg weights.Config, seed uint64, dt weights.DType) []weights.Tensor {
	rng := rand.New(rand.NewPCG(seed, 0x5EED))
	var ts []weights.Tensor
	for _, s := range ParamSpecs(cfg) {
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		data := make([]float32, n)
		t := weights.Tensor{Name: s.Name, Shape: s.Shape, DType: weights.F32, Data: data}
		switch {
		case s.Kind != KindVector:
			t.DType = dt
			fanIn := n / s.Shape[0]
			bound := 1 / math.Sqrt(float64(fanIn))
			for i := range data {
				data[i] = float32((rng.Float64()*2 - 1) * bound)
			}
			if s.Standardized { // packs hold standardized weights
				standardize(data, s.Shape[0])
			}
		case isGain(s.Name):
			for i := range data {
				data[i] = float32(1 + (rng.Float64()*2-1)*0.1)
			}
		default:
			for i := range data {
				data[i] = float32((rng.Float64()*2 - 1) * 0.05)
			}
		}
		ts = append(ts, t)
	}
	return ts
}

func isGain(name string) bool {
	n := len(name)
	return (n > 2 && name[n-2:] == ".g") || (n > 12 && name[n-12:] == ".norm.weight")
}

// standardize applies weight standardization per output channel in place.
func standardize(w []float32, out int) {
	per := len(w) / out
	for o := 0; o < out; o++ {
		row := w[o*per : (o+1)*per]
		var mean, sq float64
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(per)
		for _, v := range row {
			sq += (float64(v) - mean) * (float64(v) - mean)
		}
		inv := 1 / math.Sqrt(sq/float64(per)+1e-5)
		for i, v := range row {
			row[i] = float32((float64(v) - mean) * inv)
		}
	}
}
