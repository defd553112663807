//go:build js && wasm && !nogpu

package main

// The WebGPU backend. This file is the one place that links it in; build
// with -tags nogpu to leave it out (build.sh does so, with a warning, when
// runtime/backend/gpu does not compile).

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/gpu"
	"github.com/diffuir-web/diffuir/runtime/model"
)

func init() {
	openGPU = func(software bool, adapter string) (backend.Backend, error) {
		// gogpu cannot tell a software adapter (SwiftShader) in the
		// browser, nor name it; the worker's navigator.gpu can.
		b, err := gpu.New(gpu.Options{Software: software, Adapter: adapter})
		if err != nil {
			return nil, err // not a nil *gpu.Backend in a non-nil interface
		}
		return b, nil
	}
	profileGPU = func(be backend.Backend, m *model.Model, w, h, reps int) (any, error) {
		b, ok := be.(*gpu.Backend)
		if !ok {
			return nil, fmt.Errorf("%s is no WebGPU backend", be.Name())
		}
		return b.ProfileModel(m, w, h, reps, yield)
	}
}
