package restore

import "math"

// Noise is the sampler's starting noise: a standard normal value per
// (channel, y, x) of the whole image, computed from a counter-based hash of
// the seed and the pixel's position. Tiles therefore see the same noise as
// a whole-image run, nothing of image size is ever allocated for it, and the
// same function is easy to write in WGSL (32-bit integer ops only).
func Noise(seed uint64, c, y, x int) float32 {
	s0, s1 := uint32(seed), uint32(seed>>32)
	k := pcg(pcg(pcg(uint32(x)^s0)+uint32(y)) ^ s1 + uint32(c)*0x9E3779B9)
	u1 := (float64(pcg(k)>>8) + 0.5) / (1 << 24) // (0, 1): log never sees 0
	u2 := float64(pcg(k^0x68E31DA4)>>8) / (1 << 24)
	return float32(math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2))
}

// pcg is the PCG-RXS-M-XS 32-bit output permutation used as a hash.
func pcg(v uint32) uint32 {
	s := v*747796405 + 2891336453
	w := ((s >> ((s >> 28) + 4)) ^ s) * 277803737
	return (w >> 22) ^ w
}
