package degrade

import (
	"math"

	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

// rng is SplitMix64 (see synth) with degrade's distributions on top.
type rng struct {
	synth.SplitMix64
	spare     float64
	haveSpare bool
}

func newRNG(seed, stream uint64) *rng {
	r := &rng{SplitMix64: synth.SplitMix64(seed ^ stream*0xD1B54A32D192ED03)}
	r.Next() // decorrelate nearby seeds
	return r
}

func (r *rng) uniform(a, b float64) float64 { return a + (b-a)*r.Float() }

// logUniform is uniform in log space on [a, b], a > 0.
func (r *rng) logUniform(a, b float64) float64 {
	return math.Exp(r.uniform(math.Log(a), math.Log(b)))
}

// normal is a standard normal value (Box-Muller, both values used).
func (r *rng) normal() float64 {
	if r.haveSpare {
		r.haveSpare = false
		return r.spare
	}
	u1 := (float64(r.Next()>>11) + 0.5) / (1 << 53) // (0,1): log never sees 0
	u2 := r.Float()
	m := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	r.spare, r.haveSpare = m*s, true
	return m * c
}
