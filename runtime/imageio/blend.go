package imageio

import (
	"errors"
	"fmt"
)

// ErrMismatch reports two images that cannot be combined (different sizes).
var ErrMismatch = errors.New("images differ in size")

// Blend returns (1-strength)·original + strength·restored per channel, the
// "strength" of a restoration: 1 gives restored's values exactly and 0
// original's exactly (the formula has no rounding at either end, unlike
// original + s·(restored-original)). The result has restored's depth and
// alpha (a restore keeps the original's alpha). strength must be in [0,1].
func Blend(original, restored *Image, strength float64) (*Image, error) {
	if !(strength >= 0 && strength <= 1) {
		return nil, fmt.Errorf("blend: strength %v: want 0 to 1", strength)
	}
	if original == nil || restored == nil {
		return nil, fmt.Errorf("blend: %w", ErrEmpty)
	}
	if original.W != restored.W || original.H != restored.H || len(original.RGB) != len(restored.RGB) {
		return nil, fmt.Errorf("blend: %dx%d and %dx%d: %w", original.W, original.H, restored.W, restored.H, ErrMismatch)
	}
	s := float32(strength)
	out := &Image{W: restored.W, H: restored.H, Depth: restored.Depth, RGB: make([]float32, len(restored.RGB))}
	for i, r := range restored.RGB {
		out.RGB[i] = (1-s)*original.RGB[i] + s*r
	}
	if restored.Alpha != nil {
		out.Alpha = append([]float32(nil), restored.Alpha...)
	}
	return out, nil
}
