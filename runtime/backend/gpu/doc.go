// Package gpu runs backend graphs on a GPU through WebGPU: gogpu/wgpu's one
// Go API reaches the browser's navigator.gpu under GOOS=js GOARCH=wasm and
// Vulkan (Metal, DX12, GLES) natively; on machines without a GPU, Mesa's
// lavapipe is a Vulkan driver on the CPU.
//
// New picks a high-performance adapter and requests its limits (WebGPU's
// defaults cap storage bindings at 128 MiB); natively it also raises
// maxBufferSize, which gogpu's Vulkan adapter leaves at WebGPU's 256 MiB
// default, to the storage binding range (native.go). Compile plans activation memory
// with Graph.PlanMemory (one GPU buffer per slot), uploads the weights once,
// and builds pipelines (cached per Backend) and bind groups once; Run writes
// the input and the time vector, encodes every dispatch into one command
// buffer, submits it and reads the output back.
//
// Each op is one WGSL kernel from the shaders package. Convolutions use one
// of two kernels per Backend (Options.ConvKernel): register-blocked, which
// picks an entry point by shape (3x3 stride 1, 1x1 stride 1, generic) and
// suits CPU-emulated adapters, or an implicit GEMM with workgroup-shared
// tiles. The default follows the measurements in docs/BENCHMARKS.md: where
// the adapter reports a discrete or integrated GPU, the tiled kernel for
// strided convs and the blocked one for the rest (an H100 ran 3x3 convs
// faster blocked, 4x4 stride-2 faster tiled); elsewhere blocked only. Either reads a weight
// variant per layer: f16 packs keep their f16 bytes (read with
// unpack2x16float, no shader-f16 needed), f32 packs stay f32; layers whose
// packed weights fit 64 KiB read them from a uniform buffer, larger ones from
// a storage buffer. Program.Kernels, Program.Summary and Options.Log show
// the choices.
//
// Before planning memory, Compile rewrites the graph (lower.go) so that no
// tensor is larger than it must be: each attention layer's qkv conv becomes
// three convs over slices of its weights writing q, k and v into buffers of
// their own (the largest tensor of Tiny drops from 384 to 128 channels), and
// where even that exceeds the binding limit the heads run in two groups
// whose outputs the next conv reads as its concat (64 channels).
// LargestTensorBytes reports the result for a graph, so callers can size
// tiles by it. Full attention has two kernels (Options.AttnKernel): one
// query per invocation streaming keys from storage (CPU adapters), or
// tiled, with keys and values in workgroup memory shared by 64 queries
// (hardware GPUs). Kernels over pixels fold their workgroups into two grid
// dimensions, so no size hits maxComputeWorkgroupsPerDimension.
//
// Errors: a missing adapter is ErrNoAdapter; graphs beyond the adapter's
// limits are ErrLimits (lavapipe binds at most 128 MiB: 128-channel q, k, v
// fit 512x512, head groups 720x720; before the split the 384-channel qkv
// tensor stopped at about 87k pixels);
// failures the driver reports as device loss or out-of-memory wrap
// ErrDeviceLost and ErrOutOfMemory (errors.go says what gogpu/wgpu lets us
// detect).
package gpu
