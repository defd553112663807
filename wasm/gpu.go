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

// browserGPU is the WebGPU backend as the worker saw its adapter: gogpu
// cannot tell a software adapter (SwiftShader) in the browser, the
// worker's navigator.gpu can.
type browserGPU struct {
	*gpu.Backend
	software bool
	adapter  string
}

func (b browserGPU) Device() backend.Device {
	d := b.Backend.Device()
	d.API, d.Software = "WebGPU", b.software
	if b.adapter != "" {
		d.Adapter = b.adapter
	}
	return d
}

func init() {
	openGPU = func(software bool, adapter string) (backend.Backend, error) {
		b, err := gpu.New(gpu.Options{})
		if err != nil {
			return nil, err
		}
		return browserGPU{b, software, adapter}, nil
	}
	profileGPU = func(be backend.Backend, m *model.Model, w, h, reps int) (any, error) {
		bg, ok := be.(browserGPU)
		if !ok {
			return nil, fmt.Errorf("%s is no WebGPU backend", be.Name())
		}
		return bg.ProfileModel(m, w, h, reps, yield)
	}
}
