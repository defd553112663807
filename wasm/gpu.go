//go:build js && wasm && !nogpu

package main

// The WebGPU backend. This file is the one place that links it in; build
// with -tags nogpu to leave it out (build.sh does so, with a warning, when
// runtime/backend/gpu does not compile).

import (
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
}
