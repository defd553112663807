//go:build js && wasm && !nogpu

package main

// The WebGPU backend. This file is the one place that links it in; build
// with -tags nogpu to leave it out (build.sh does so, with a warning, when
// runtime/backend/gpu does not compile).

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/gpu"
)

func init() {
	newGPU = func() (backend.Backend, func() error, error) {
		b, err := gpu.New(gpu.Options{})
		if err != nil {
			return nil, nil, err
		}
		return b, b.Close, nil
	}
	profileGPU = func(p backend.Program, reps int, out *profileResult) error {
		gp, ok := p.(*gpu.Program)
		if !ok {
			return fmt.Errorf("a %T is no GPU program", p)
		}
		times, err := gp.Profile(reps)
		if err != nil {
			return err
		}
		kernels, total := gpu.ByKernel(times)
		out.Dispatches, out.SummedMs, out.Summary = len(times), total*1e3, gp.Summary()
		out.Kernels = make([]kernelTime, len(kernels))
		for i, k := range kernels {
			out.Kernels[i] = kernelTime{Kernel: k.Kernel, Millis: k.Seconds * 1e3, Count: k.Count, Share: k.Seconds / total}
		}
		return nil
	}
}
