//go:build goexperiment.simd && amd64

package cpu

import (
	"fmt"
	"testing"
)

// TestVecLevels runs the helper and op tests on the AVX2 and
// portable paths too, whatever this CPU has.
func TestVecLevels(t *testing.T) {
	saved := vecLevel
	defer func() { vecLevel = saved }()
	for level := range saved {
		vecLevel = level
		t.Run(fmt.Sprint("level", level), func(t *testing.T) {
			t.Run("helpers", TestVecHelpers)
			t.Run("elementwise", TestVecElementwise)
			t.Run("ops", TestOps)
		})
	}
}
