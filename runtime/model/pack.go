package model

import (
	"errors"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// FromPack builds the model described by a pack's header from its tensors.
func FromPack(p *weights.Pack) (*Model, error) {
	if p.Header.Flags&weights.FlagStandardized == 0 {
		return nil, errors.New("model: pack stores raw weight-standardized convs; re-convert it with this version's converter")
	}
	return New(p.Header.Config, p)
}

// FromTensors packs tensors for cfg and opens the result, exactly as a pack
// read from disk would be; tests and benchmarks use it with RandomWeights.
func FromTensors(cfg weights.Config, tensors []weights.Tensor) (*Model, error) {
	b, err := weights.Marshal(cfg, tensors)
	if err != nil {
		return nil, err
	}
	p, err := weights.Open(b)
	if err != nil {
		return nil, err
	}
	return FromPack(p)
}
