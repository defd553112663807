package restore

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
)

// Backend choices a caller may ask OpenBackend for.
const (
	BackendAuto = "auto" // a hardware GPU when one opens, else the CPU
	BackendCPU  = "cpu"
	BackendGPU  = "gpu" // the GPU even when it is software; the CPU only when none opens
)

// Backend choice failures.
var (
	// ErrBackendName: the caller asked for a backend that is not auto, cpu or gpu.
	ErrBackendName = errors.New("unknown backend")
	// ErrNoGPU: no GPU backend opened (none linked in, no adapter, or it
	// failed), reported when the caller requires one (BackendOptions.Require).
	ErrNoGPU = errors.New("no GPU backend")
)

// BackendOptions say which backend OpenBackend should open.
type BackendOptions struct {
	Want string // BackendAuto (""), BackendCPU or BackendGPU
	// OpenGPU opens the GPU backend; nil when the program has none
	// linked in. Its error may wrap a reason the caller classified.
	OpenGPU func() (backend.Backend, error)
	// Require makes a failed BackendGPU an error (ErrNoGPU) instead of
	// the CPU with a reason.
	Require bool
	// Reason, with BackendCPU, is why the caller wants the CPU (default
	// "requested").
	Reason string
}

// BackendInfo says which backend runs and why (js tags as Report's).
type BackendInfo struct {
	Kind   string `js:"kind"`   // "gpu" or "cpu"
	Name   string `js:"name"`   // the backend's Name
	Reason string `js:"reason"` // why the CPU runs it, when it does; why the work moved, after a fallback
}

// Describe reports be with a reason.
func Describe(be backend.Backend, reason string) BackendInfo {
	kind := "cpu"
	if be.Device().GPU {
		kind = "gpu"
	}
	return BackendInfo{Kind: kind, Name: be.Name(), Reason: reason}
}

// OpenBackend is the one backend choice of the CLI and the browser.
// "auto" takes a hardware GPU and the CPU otherwise, as a software GPU
// (lavapipe, SwiftShader) is several times slower than the CPU backend
// (docs/BENCHMARKS.md); "gpu" takes any GPU; "cpu" the CPU. When the GPU
// does not open, the CPU runs with the reason in BackendInfo (or, with
// Require, ErrNoGPU). The caller closes the backend.
func OpenBackend(o BackendOptions) (backend.Backend, BackendInfo, error) {
	useCPU := func(reason string) (backend.Backend, BackendInfo, error) {
		be := &cpu.Backend{}
		return be, Describe(be, reason), nil
	}
	switch o.Want {
	case BackendCPU:
		return useCPU(cmp.Or(o.Reason, "requested"))
	case "", BackendAuto, BackendGPU:
	default:
		return nil, BackendInfo{}, fmt.Errorf("%w %q: want auto, cpu or gpu", ErrBackendName, o.Want)
	}
	var why error
	if o.OpenGPU == nil {
		why = errors.New("this build has no GPU backend")
	} else {
		be, err := o.OpenGPU()
		switch {
		case err != nil:
			why = err
		case o.Want != BackendGPU && be.Device().Software:
			d := be.Device()
			be.Close()
			return useCPU(fmt.Sprintf("%s adapter is software: %s, slower here", d.API, d.Adapter))
		default:
			return be, Describe(be, ""), nil
		}
	}
	if o.Want == BackendGPU && o.Require {
		return nil, BackendInfo{}, fmt.Errorf("%w: %w", ErrNoGPU, why)
	}
	return useCPU(fmt.Sprintf("no GPU: %v", why))
}
