//go:build !(js && wasm)

package gpu

import (
	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"
	"github.com/gogpu/wgpu/core"
	"github.com/gogpu/wgpu/hal/vulkan/memory"

	// Registers Vulkan (and GLES, Metal, DX12 where they exist) with wgpu.
	// It cannot be imported from a js/wasm build.
	_ "github.com/gogpu/wgpu/hal/allbackends"
)

// platformAPI names the API when the adapter does not (the browser's).
const platformAPI = ""

var (
	platformLost = []error{core.ErrDeviceDestroyed}
	platformOOM  = []error{memory.ErrAllocationFailed, memory.ErrAllocationTooLarge, memory.ErrOutOfMemory}
)

// requestLimits is what New asks the device for: the adapter's limits, and
// a maxBufferSize raised to its storage binding range. gogpu/wgpu v0.31.5's
// Vulkan adapter reports maxStorageBufferBindingSize from the driver
// (maxStorageBufferRange: 128 MiB on lavapipe, 4 GiB on NVIDIA) but leaves
// maxBufferSize at WebGPU's 256 MiB default (Vulkan 1.0 has no such limit;
// the driver's maxMemoryAllocationSize, which gogpu does not report, is the
// real bound). Natively gogpu passes the requested limits to the device
// without checking them against the adapter's, so asking for more works;
// a buffer past the allocation limit then fails as out of memory, which
// restore answers with smaller tiles.
func requestLimits(l wgpu.Limits) wgpu.Limits {
	l.MaxBufferSize = max(l.MaxBufferSize, l.MaxStorageBufferBindingSize)
	return l
}

// isSoftware reports gogpu/wgpu's built-in software renderer: natively every
// real driver names its API, the interpreter does not.
func isSoftware(info wgpu.AdapterInfo) bool { return info.Backend == gputypes.BackendEmpty }
