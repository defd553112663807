package gpu

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// Errors callers can match with errors.Is.
var (
	// ErrNoAdapter: no WebGPU adapter exists (no navigator.gpu, no Vulkan or
	// GL driver). Callers fall back to the CPU backend.
	ErrNoAdapter = errors.New("no GPU adapter")
	// ErrDeviceLost: the device was lost (driver reset, GPU removed, a hung
	// submission) or its results did not arrive within Options.Timeout. The
	// Backend is unusable afterwards; create a new one. It is
	// backend.ErrDeviceLost, so callers need not import this package.
	ErrDeviceLost = backend.ErrDeviceLost
	// ErrOutOfMemory: the driver could not allocate a buffer.
	ErrOutOfMemory = backend.ErrOutOfMemory
	// ErrLimits: the graph needs more than the adapter allows (a buffer
	// larger than maxStorageBufferBindingSize, a grid beyond
	// maxComputeWorkgroupsPerDimension, ...). Smaller tiles fit.
	ErrLimits = backend.ErrLimits
	// ErrClosed: the Backend or Program was closed.
	ErrClosed = errors.New("GPU backend or program closed")
)

// What gogpu/wgpu v0.31.5 lets us detect:
//
//   - Native (Vulkan): errors are Go return values. VK_ERROR_DEVICE_LOST from
//     fences/waits arrives as wgpu.ErrDeviceLost (hal.ErrDeviceLost), a map
//     cut short by loss as wgpu.ErrMapDeviceLost, a destroyed device as
//     core.ErrDeviceDestroyed; a failed vkAllocateMemory as a
//     CreateBufferError wrapping the allocator's sentinels (matched in
//     native.go), reported as ErrOutOfMemory. Error scopes exist but nothing
//     reports into them in this version, and there is no device-lost
//     callback: a GPU that hangs without reporting loss is caught by the
//     readback timeout (Options.Timeout), which counts as loss.
//   - Browser: createBuffer never fails synchronously (WebGPU reports OOM
//     asynchronously through error scopes, which gogpu/wgpu does not
//     implement for the browser yet: PushErrorScope panics) and
//     GPUDevice.lost is not exposed. What we see is a rejected mapAsync
//     ("device lost" messages) or a readback that never finishes (timeout).
//     Both become ErrDeviceLost; browser OOM is not detectable.
//   - Panics inside gogpu/wgpu (it panics on some misuse and unimplemented
//     paths) are recovered into errors by guard. A crash inside the native
//     driver (SIGSEGV) cannot be recovered; the one we met (releasing a
//     buffer with a queued write, then submitting) is avoided by flush.
//
// classify wraps err with the sentinel it denotes, if any.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, ErrDeviceLost) || errors.Is(err, ErrOutOfMemory) || errors.Is(err, ErrLimits) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w (%w)", err, ErrDeviceLost)
	}
	if isLost(err) {
		return fmt.Errorf("%w (%w)", err, ErrDeviceLost)
	}
	if isOOM(err) {
		return fmt.Errorf("%w (%w)", err, ErrOutOfMemory)
	}
	return err
}

func isLost(err error) bool {
	return matches(err, append([]error{wgpu.ErrDeviceLost, wgpu.ErrMapDeviceLost}, platformLost...),
		"device lost", "device is lost", "device was lost", "device destroyed")
}

func isOOM(err error) bool {
	return matches(err, append([]error{wgpu.ErrOutOfMemory}, platformOOM...),
		"out of memory", "outofmemory", "out_of_memory", "out_of_device_memory", "out_of_host_memory")
}

// matches reports whether err is one of sentinels or its message, lower
// case, contains one of phrases (the browser's errors are only text).
func matches(err error, sentinels []error, phrases ...string) bool {
	for _, e := range sentinels {
		if errors.Is(err, e) {
			return true
		}
	}
	m := strings.ToLower(err.Error())
	for _, ph := range phrases {
		if strings.Contains(m, ph) {
			return true
		}
	}
	return false
}

// guard turns a panic inside a driver call into an error, so that no panic
// crosses the package boundary (gogpu/wgpu panics on some misuse and on
// unimplemented browser paths). Use as: defer guard(&err, "run").
func guard(err *error, what string) {
	if r := recover(); r != nil {
		*err = classify(fmt.Errorf("gpu: %s: panic in GPU driver: %v\n%s", what, r, debug.Stack()))
	}
}
