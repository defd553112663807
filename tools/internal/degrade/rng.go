package degrade

import "math"

// rng is a SplitMix64 generator: tiny, fast, and fully specified here, so
// degradations never change with the Go version (math/rand makes no such
// promise for its derived distributions).
type rng struct {
	s         uint64
	spare     float64
	haveSpare bool
}

func newRNG(seed, stream uint64) *rng {
	r := &rng{s: seed ^ stream*0xD1B54A32D192ED03}
	r.u64() // decorrelate nearby seeds
	return r
}

func (r *rng) u64() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// float is uniform in [0, 1).
func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) uniform(a, b float64) float64 { return a + (b-a)*r.float() }

// logUniform is uniform in log space on [a, b], a > 0.
func (r *rng) logUniform(a, b float64) float64 {
	return math.Exp(r.uniform(math.Log(a), math.Log(b)))
}

func (r *rng) intn(n int) int { return int(r.u64() % uint64(n)) }

// normal is a standard normal value (Box-Muller, both values used).
func (r *rng) normal() float64 {
	if r.haveSpare {
		r.haveSpare = false
		return r.spare
	}
	u1 := (float64(r.u64()>>11) + 0.5) / (1 << 53) // (0,1): log never sees 0
	u2 := r.float()
	m := math.Sqrt(-2 * math.Log(u1))
	s, c := math.Sincos(2 * math.Pi * u2)
	r.spare, r.haveSpare = m*s, true
	return m * c
}
