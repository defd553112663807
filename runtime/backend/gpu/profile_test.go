package gpu

import (
	"reflect"
	"testing"
)

func TestByKernel(t *testing.T) {
	times := []DispatchTime{
		{Op: "a", Kernel: "conv.wgsl:main3", Seconds: 0.002},
		{Op: "b", Kernel: "groupnorm.wgsl:stats", Seconds: 0.001},
		{Op: "c", Kernel: "conv.wgsl:main3", Seconds: 0.003},
		{Op: "d", Kernel: "layernorm.wgsl:main", Seconds: 0.001},
		{Op: "e", Kernel: "conv.wgsl:main1", Seconds: 0.004},
	}
	kernels, total := ByKernel(times)
	want := []KernelTime{
		{Kernel: "conv.wgsl:main3", Seconds: 0.005, Count: 2},
		{Kernel: "conv.wgsl:main1", Seconds: 0.004, Count: 1},
		{Kernel: "groupnorm.wgsl:stats", Seconds: 0.001, Count: 1}, // ties: by name
		{Kernel: "layernorm.wgsl:main", Seconds: 0.001, Count: 1},
	}
	if !reflect.DeepEqual(kernels, want) {
		t.Errorf("ByKernel = %+v, want %+v", kernels, want)
	}
	if total != 0.011 {
		t.Errorf("total = %v, want 0.011", total)
	}
	if k, total := ByKernel(nil); k != nil || total != 0 {
		t.Errorf("ByKernel(nil) = %v, %v; want nil, 0", k, total)
	}
}
