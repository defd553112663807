package gpu

import (
	"fmt"
	"strings"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/shaders"
)

// bindKind is how a kernel binds one buffer.
type bindKind uint8

const (
	bUniform bindKind = iota
	bRead             // read-only storage
	bWrite            // read-write storage
)

// kernel is one compute entry point of a composed WGSL module, with the
// bind group layout its bindings need (binding i has kind layout[i]).
type kernel struct {
	files  []string
	entry  string
	layout []bindKind
}

func (k kernel) key() string { return strings.Join(k.files, "+") + ":" + k.entry }

// Kernels. A new variant is one more kernel and a rule in the op's
// lowering (compiler.conv picks blocked or tiled convs per backend).
var (
	convLayout = func(w bindKind) []bindKind {
		return []bindKind{bUniform, bRead, bRead, bRead, w, bRead, bWrite}
	}
	gnLayout = []bindKind{bUniform, bRead, bRead, bRead, bRead, bWrite, bWrite}
	kGNStats = kernel{[]string{"groupnorm.wgsl", "reduce.wgsl"}, "stats", gnLayout}
	kGNFinal = kernel{[]string{"groupnorm.wgsl", "reduce.wgsl"}, "finalize", gnLayout}
	kGNApply = kernel{[]string{"groupnorm.wgsl", "reduce.wgsl"}, "apply", gnLayout}

	kLayerNorm = kernel{[]string{"layernorm.wgsl"}, "main", []bindKind{bUniform, bRead, bRead, bRead, bWrite}}

	// q, k, v all read-write: unsplit they are one buffer bound three
	// times, and WebGPU allows aliasing only among writable storage bindings.
	laLayout      = []bindKind{bUniform, bWrite, bWrite, bWrite, bWrite, bWrite, bWrite}
	laFiles       = []string{"linear_attention.wgsl", "qkv_ld4.wgsl"}
	kLAQSoftmax   = kernel{laFiles, "q_softmax", laLayout}
	kLAContext    = kernel{laFiles, "context", laLayout}
	kLAContextRed = kernel{laFiles, "context_reduce", laLayout}
	kLAOutput     = kernel{laFiles, "output", laLayout}
	attnLayout    = []bindKind{bUniform, bRead, bRead, bRead, bWrite}
	kAttention    = kernel{[]string{"attention.wgsl", "qkv_ld4.wgsl"}, "main", attnLayout}
	kAttnTiled    = kernel{[]string{"attention.wgsl", "qkv_ld4.wgsl"}, "tiled", attnLayout}
	uniformWindow = uint64(64 << 10) // bytes of the conv weight uniform arrays
)

// layout is a bind group layout and the pipeline layout around it, shared
// by every kernel with the same bindings, so that one bind group serves all
// the entry points of an op (groupnorm's stats and apply, say).
type layout struct {
	bgl *wgpu.BindGroupLayout
	pl  *wgpu.PipelineLayout
}

func (l *layout) release() {
	if l.pl != nil {
		l.pl.Release()
	}
	if l.bgl != nil {
		l.bgl.Release()
	}
}

func layoutKey(kinds []bindKind) string {
	b := make([]byte, len(kinds))
	for i, k := range kinds {
		b[i] = "urw"[k]
	}
	return string(b)
}

// convKernel is the register-blocked conv entry point for a kernel shape
// ("main3" for 3x3 stride 1, "main1" for 1x1 stride 1, "main" for the rest)
// reading weights as f16 or f32 from a uniform or storage binding.
func convKernel(entry string, f16, uniform bool) kernel {
	snip, w := convWeights(f16, uniform)
	return kernel{[]string{"conv_params.wgsl", "conv.wgsl", snip}, entry, convLayout(w)}
}

// convTiledKernel is the implicit-GEMM conv (one entry point for every
// shape) with the same weight readers and bindings as convKernel.
func convTiledKernel(f16, uniform bool) kernel {
	snip, w := convWeights(f16, uniform)
	return kernel{[]string{"conv_params.wgsl", "conv_tiled.wgsl", snip}, "main", convLayout(w)}
}

// convWeights is the weight-reader snippet and its binding kind.
func convWeights(f16, uniform bool) (string, bindKind) {
	switch {
	case f16 && uniform:
		return "conv_w_f16_uniform.wgsl", bUniform
	case f16:
		return "conv_w_f16_storage.wgsl", bRead
	case uniform:
		return "conv_w_f32_uniform.wgsl", bUniform
	}
	return "conv_w_f32_storage.wgsl", bRead
}

type pipeline struct {
	layout *layout
	pipe   *wgpu.ComputePipeline
}

// layoutFor returns the shared layout for kinds; b.mu must be held.
func (b *Backend) layoutFor(kinds []bindKind) (*layout, error) {
	key := layoutKey(kinds)
	if l, ok := b.layouts[key]; ok {
		return l, nil
	}
	entries := make([]wgpu.BindGroupLayoutEntry, len(kinds))
	for i, kind := range kinds {
		t := gputypes.BufferBindingTypeUniform
		switch kind {
		case bRead:
			t = gputypes.BufferBindingTypeReadOnlyStorage
		case bWrite:
			t = gputypes.BufferBindingTypeStorage
		}
		entries[i] = wgpu.BindGroupLayoutEntry{Binding: uint32(i), Visibility: wgpu.ShaderStageCompute,
			Buffer: &gputypes.BufferBindingLayout{Type: t}}
	}
	l := &layout{}
	var err error
	if l.bgl, err = b.device.CreateBindGroupLayout(&wgpu.BindGroupLayoutDescriptor{Label: key, Entries: entries}); err != nil {
		return nil, fmt.Errorf("bind group layout %s: %w", key, err)
	}
	if l.pl, err = b.device.CreatePipelineLayout(&wgpu.PipelineLayoutDescriptor{Label: key, BindGroupLayouts: []*wgpu.BindGroupLayout{l.bgl}}); err != nil {
		l.release()
		return nil, fmt.Errorf("pipeline layout %s: %w", key, err)
	}
	b.layouts[key] = l
	return l, nil
}

// pipeline returns the cached pipeline of k, creating it on first use.
func (b *Backend) pipeline(k kernel) (*pipeline, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, ErrClosed
	}
	if p, ok := b.pipes[k.key()]; ok {
		return p, nil
	}
	modKey := strings.Join(k.files, "+")
	mod, ok := b.modules[modKey]
	if !ok {
		src, err := shaders.Compose(k.files...)
		if err != nil {
			return nil, err
		}
		mod, err = b.device.CreateShaderModule(&wgpu.ShaderModuleDescriptor{Label: modKey, WGSL: src})
		if err != nil {
			return nil, fmt.Errorf("shader %s: %w", modKey, err)
		}
		b.modules[modKey] = mod
	}
	l, err := b.layoutFor(k.layout)
	if err != nil {
		return nil, err
	}
	pipe, err := b.device.CreateComputePipeline(&wgpu.ComputePipelineDescriptor{Label: k.key(), Layout: l.pl, Module: mod, EntryPoint: k.entry})
	if err != nil {
		return nil, fmt.Errorf("pipeline %s: %w", k.key(), err)
	}
	p := &pipeline{layout: l, pipe: pipe}
	b.pipes[k.key()] = p
	return p, nil
}
