//go:build !(wasm && simd128)

package cpu

// Without the SIMD128 module the Winograd transforms are the portable ones.
func (s *winoStrip) inSIMD() bool { return false }
func (s *winoStrip) outSIMD() int { return 0 }
