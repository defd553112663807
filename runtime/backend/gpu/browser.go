//go:build js && wasm

package gpu

import "github.com/gogpu/wgpu"

// In the browser, gogpu/wgpu surfaces failures as JS errors in rejected
// promises; classify matches their messages.
const platformAPI = "WebGPU"

var (
	platformLost []error
	platformOOM  []error
)

// isSoftware: a browser's adapter is whatever the browser offers (its own
// software fallback, SwiftShader, is a real implementation).
func isSoftware(wgpu.AdapterInfo) bool { return false }

// requestLimits: the browser reports its real limits (maxBufferSize
// included) and refuses requests above them, so ask for exactly those.
func requestLimits(l wgpu.Limits) wgpu.Limits { return l }
