// Package synth holds the low-level pieces shared by the two degradation
// families (tools/internal/degrade, tools/internal/heldout) and mkshard. It
// holds no recipe: the families keep their own algorithms and generators, so
// the held-out one stays apart from what training sees.
package synth

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// ErrImage is returned by Copy for a nil, empty or inconsistent image.
var ErrImage = errors.New("empty or inconsistent image")

// Copy returns a deep copy of img (alpha included) to degrade in place.
func Copy(img *imageio.Image) (*imageio.Image, error) {
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.RGB) != 3*img.W*img.H {
		return nil, ErrImage
	}
	out := &imageio.Image{W: img.W, H: img.H, Depth: img.Depth, RGB: append([]float32(nil), img.RGB...)}
	if img.Alpha != nil {
		out.Alpha = append([]float32(nil), img.Alpha...)
	}
	return out, nil
}

// Plane returns channel c of the planar RGB of a w×h image.
func Plane(rgb []float32, w, h, c int) []float32 { return rgb[c*w*h : (c+1)*w*h] }

// Clamp01 clamps v to [0, 1], NaN to 0.
func Clamp01(v float32) float32 {
	if v > 1 {
		return 1
	}
	if v >= 0 {
		return v
	}
	return 0 // negative or NaN
}

// Clamp clamps every value of p with Clamp01.
func Clamp(p []float32) {
	for i, v := range p {
		p[i] = Clamp01(v)
	}
}

// Stretch maps p linearly onto [0, 1]; a constant p is left as it is.
func Stretch(p []float32) {
	lo, hi := p[0], p[0]
	for _, v := range p {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi > lo {
		for i, v := range p {
			p[i] = (v - lo) / (hi - lo)
		}
	}
}

// Values lists drawn parameters in name order, each as " name=value".
func Values(v map[string]float64) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(v)) {
		fmt.Fprintf(&b, " %s=%.4g", k, v[k])
	}
	return b.String()
}

// SplitMix64 is a SplitMix64 generator, its value the state: tiny, fast and
// fully specified here, so what it draws never changes with the Go version
// (math/rand makes no such promise for its derived distributions).
type SplitMix64 uint64

// Next returns the next 64 random bits.
func (s *SplitMix64) Next() uint64 {
	*s += 0x9E3779B97F4A7C15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// Float is uniform in [0, 1).
func (s *SplitMix64) Float() float64 { return float64(s.Next()>>11) / (1 << 53) }

// Intn is in [0, n) (modulo-biased by under n/2⁶⁴).
func (s *SplitMix64) Intn(n int) int { return int(s.Next() % uint64(n)) }
