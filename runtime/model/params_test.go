package model

import (
	"testing"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// The paper's parameter counts pin down the layer list.
func TestParamCount(t *testing.T) {
	for _, tc := range []struct {
		cfg  weights.Config
		want int
	}{
		{weights.Tiny, 886435},
		{weights.Small, 3268643},
		{weights.Base, 12406851},
		{weights.Large, 36261187},
	} {
		if got := ParamCount(tc.cfg); got != tc.want {
			t.Errorf("%s: %d params, want %d", tc.cfg.Name, got, tc.want)
		}
	}
}
