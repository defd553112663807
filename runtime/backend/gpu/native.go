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

// isSoftware reports gogpu/wgpu's built-in software renderer: natively every
// real driver names its API, the interpreter does not.
func isSoftware(info wgpu.AdapterInfo) bool { return info.Backend == gputypes.BackendEmpty }
