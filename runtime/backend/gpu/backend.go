package gpu

import (
	"cmp"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/gogpu/gputypes"
	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// Options tune New. The zero value picks the high-performance adapter and
// the fastest kernel variants.
type Options struct {
	// LowPower asks for the low-power adapter (an integrated GPU) instead.
	LowPower bool
	// F32Weights uploads f16 conv weights converted to f32 (the f32 kernel
	// variants), for comparisons; f32 packs always use f32.
	F32Weights bool
	// StorageWeights never reads conv weights from a uniform buffer.
	StorageWeights bool
	// ConvKernel picks the convolution kernel: ConvBlocked (register-blocked,
	// no workgroup memory), ConvTiled (implicit GEMM with workgroup-shared
	// tiles), ConvMixed (tiled for strided convs only) or ConvAuto. Empty
	// means the environment variable DIFFUIR_CONV_KERNEL, so benchmarks and
	// tools can switch without a flag, else ConvAuto.
	ConvKernel string
	// AttnKernel picks the full-attention kernel: AttnStream (one query per
	// invocation, keys read from storage), AttnTiled (keys and values in
	// workgroup tiles, many queries per workgroup) or AttnAuto. Empty means
	// the environment variable DIFFUIR_ATTN_KERNEL, else AttnAuto.
	AttnKernel string
	// Timeout bounds the wait for one Run's (or Tap's) results; past it the
	// device counts as lost. Zero means 5 minutes.
	Timeout time.Duration
	// Log, if set, receives one line per compiled program naming the kernel
	// variants and memory it uses.
	Log func(string)
	// AllowSoftware accepts gogpu/wgpu's own software renderer, a SPIR-V
	// interpreter that registers itself when no real driver exists. It is
	// refused by default (New returns ErrNoAdapter): it is about 100x slower
	// than the CPU backend and its results were wrong for kernels with
	// several entry points or workgroup barriers (v0.31.5). Mesa's lavapipe
	// is a real Vulkan driver and is always accepted.
	AllowSoftware bool
	// Adapter and Software describe the adapter where gogpu cannot: in the
	// browser it names every adapter "WebGPU Adapter" and reports no type,
	// while the page's navigator.gpu knows the name and whether it is a
	// CPU implementation (SwiftShader).
	Adapter  string
	Software bool
}

// Values of Options.ConvKernel.
const (
	ConvAuto    = "auto"    // mixed on hardware GPUs, blocked elsewhere
	ConvBlocked = "blocked" // conv.wgsl
	ConvTiled   = "tiled"   // conv_tiled.wgsl
	ConvMixed   = "mixed"   // conv_tiled.wgsl for strided convs, conv.wgsl for the rest
)

// Values of Options.AttnKernel.
const (
	AttnAuto   = "auto"   // tiled on hardware GPUs, stream elsewhere
	AttnStream = "stream" // attention.wgsl:main
	AttnTiled  = "tiled"  // attention.wgsl:tiled
)

// attnKernelEnv names the environment variable read when
// Options.AttnKernel is empty.
const attnKernelEnv = "DIFFUIR_ATTN_KERNEL"

// resolveAttnKernel turns AttnAuto (or "") into a kernel for the adapter.
// On lavapipe the streaming kernel measured faster (docs/BENCHMARKS.md:
// workgroup memory and barriers cost more than they save on CPU-emulated
// adapters); hardware GPUs get the tiled one, whose loads are shared by 64
// queries. The browser reports no device type, so an unknown adapter,
// which may be SwiftShader, streams.
func resolveAttnKernel(v string, info wgpu.AdapterInfo) (string, error) {
	switch v {
	case AttnStream, AttnTiled:
		return v, nil
	case "", AttnAuto:
		switch info.DeviceType {
		case gputypes.DeviceTypeDiscreteGPU, gputypes.DeviceTypeIntegratedGPU:
			return AttnTiled, nil
		}
		return AttnStream, nil
	}
	return "", fmt.Errorf("attention kernel %q (Options.AttnKernel or %s): want %s, %s or %s", v, attnKernelEnv,
		AttnAuto, AttnStream, AttnTiled)
}

// convKernelEnv names the environment variable read when
// Options.ConvKernel is empty.
const convKernelEnv = "DIFFUIR_CONV_KERNEL"

// checkConvKernel refuses a misspelt kernel name, which would otherwise
// silently time the automatic choice.
func checkConvKernel(v string) error {
	switch v {
	case "", ConvAuto, ConvBlocked, ConvTiled, ConvMixed:
		return nil
	}
	return fmt.Errorf("conv kernel %q (Options.ConvKernel or %s): want %s, %s, %s or %s", v, convKernelEnv,
		ConvAuto, ConvBlocked, ConvTiled, ConvMixed)
}

// resolveConvKernel turns ConvAuto (or "") into a kernel for the adapter,
// as measured (docs/BENCHMARKS.md): CPU implementations (lavapipe,
// SwiftShader) run the register-blocked kernel 3-7x faster than the tiled
// one; on an H100 the blocked kernel won the 3x3 convs (up to 1.9x) and the
// whole restore at every size, the tiled one the strided 4x4 convs (1.8x).
// So hardware GPUs get ConvMixed. The browser reports no device type at
// all, so an unknown adapter, which may be SwiftShader, stays blocked.
func resolveConvKernel(v string, info wgpu.AdapterInfo) string {
	if v != "" && v != ConvAuto {
		return v
	}
	switch info.DeviceType {
	case gputypes.DeviceTypeDiscreteGPU, gputypes.DeviceTypeIntegratedGPU:
		return ConvMixed
	}
	return ConvBlocked
}

// Backend runs graphs on one WebGPU device. Pipelines are shared by every
// Program it compiles. A Backend and its Programs are not safe for
// concurrent use.
type Backend struct {
	opts     Options
	instance *wgpu.Instance
	adapter  *wgpu.Adapter
	device   *wgpu.Device
	queue    *wgpu.Queue
	info     wgpu.AdapterInfo
	limits   wgpu.Limits
	reduced  bool   // the device got default limits, not the adapter's
	conv     string // ConvBlocked, ConvTiled or ConvMixed, resolved from Options.ConvKernel
	attn     string // AttnStream or AttnTiled, resolved from Options.AttnKernel

	mu      sync.Mutex
	modules map[string]*wgpu.ShaderModule
	pipes   map[string]*pipeline
	layouts map[string]*layout
	lost    error // set once a run reports device loss
	closed  bool
}

var _ backend.Backend = (*Backend)(nil)

// New opens the adapter's device with the adapter's limits (falling back to
// WebGPU's defaults if the browser refuses them). Without any adapter it
// returns an error wrapping ErrNoAdapter.
func New(opts Options) (b *Backend, err error) {
	defer guard(&err, "new")
	if opts.Timeout <= 0 {
		opts.Timeout = 5 * time.Minute
	}
	if opts.ConvKernel == "" {
		opts.ConvKernel = os.Getenv(convKernelEnv)
	}
	if err := checkConvKernel(opts.ConvKernel); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	if opts.AttnKernel == "" {
		opts.AttnKernel = os.Getenv(attnKernelEnv)
	}
	if _, err := resolveAttnKernel(opts.AttnKernel, wgpu.AdapterInfo{}); err != nil {
		return nil, fmt.Errorf("gpu: %w", err)
	}
	inst, err := wgpu.CreateInstance(nil)
	if err != nil {
		return nil, fmt.Errorf("gpu: %w: %w", ErrNoAdapter, err)
	}
	pref := gputypes.PowerPreferenceHighPerformance
	if opts.LowPower {
		pref = gputypes.PowerPreferenceLowPower
	}
	ad, err := inst.RequestAdapter(&wgpu.RequestAdapterOptions{PowerPreference: pref})
	if err != nil || ad == nil {
		inst.Release()
		if err == nil {
			err = wgpu.ErrNoAdapters
		}
		return nil, fmt.Errorf("gpu: %w: %w", ErrNoAdapter, err)
	}
	info := ad.Info()
	if isSoftware(info) && !opts.AllowSoftware {
		ad.Release()
		inst.Release()
		return nil, fmt.Errorf("gpu: %w: only gogpu's software renderer (%q) is available; use the CPU backend", ErrNoAdapter, info.Name)
	}
	info.Name = cmp.Or(opts.Adapter, info.Name)
	if opts.Software {
		info.DeviceType = gputypes.DeviceTypeCPU
	}
	attn, _ := resolveAttnKernel(opts.AttnKernel, info)
	b = &Backend{opts: opts, instance: inst, adapter: ad, info: info, conv: resolveConvKernel(opts.ConvKernel, info),
		attn: attn, modules: map[string]*wgpu.ShaderModule{}, pipes: map[string]*pipeline{}, layouts: map[string]*layout{}}
	// WebGPU's default limits cap a storage binding at 128 MiB and a buffer
	// at 256 MiB, too little for large tiles: ask for all the adapter has
	// (requestLimits adds what gogpu's native adapters leave out).
	dev, err := ad.RequestDevice(&wgpu.DeviceDescriptor{Label: "diffuir", RequiredLimits: requestLimits(ad.Limits())})
	if err != nil {
		dev, err = ad.RequestDevice(nil)
		b.reduced = true
	}
	if err != nil {
		ad.Release()
		inst.Release()
		return nil, classify(fmt.Errorf("gpu: request device on %s: %w", b.info.Name, err))
	}
	b.device, b.queue = dev, dev.Queue()
	b.limits = sanitize(dev.Limits())
	return b, nil
}

// sanitize fills the limits this package relies on with WebGPU's defaults
// where a backend reports none (zero).
func sanitize(l wgpu.Limits) wgpu.Limits {
	d := gputypes.DefaultLimits()
	fill64 := func(v *uint64, def uint64) {
		if *v == 0 {
			*v = def
		}
	}
	fill32 := func(v *uint32, def uint32) {
		if *v == 0 {
			*v = def
		}
	}
	fill64(&l.MaxStorageBufferBindingSize, d.MaxStorageBufferBindingSize)
	fill64(&l.MaxBufferSize, d.MaxBufferSize)
	fill64(&l.MaxUniformBufferBindingSize, d.MaxUniformBufferBindingSize)
	fill32(&l.MinStorageBufferOffsetAlignment, d.MinStorageBufferOffsetAlignment)
	fill32(&l.MinUniformBufferOffsetAlignment, d.MinUniformBufferOffsetAlignment)
	fill32(&l.MaxComputeWorkgroupsPerDimension, d.MaxComputeWorkgroupsPerDimension)
	return l
}

// Name names the adapter and the API behind it, e.g.
// "gpu: llvmpipe (LLVM 15.0.6, 256 bits) (vulkan, cpu)".
func (b *Backend) Name() string {
	var extra []string
	switch {
	case b.info.Backend != gputypes.BackendEmpty:
		extra = append(extra, strings.ToLower(b.info.Backend.String()))
	case platformAPI != "":
		extra = append(extra, platformAPI)
	}
	if b.info.DeviceType != gputypes.DeviceTypeOther {
		extra = append(extra, strings.ToLower(b.info.DeviceType.String()))
	}
	if b.reduced {
		extra = append(extra, "default limits")
	}
	name := b.info.Name
	if name == "" {
		name = "unnamed adapter"
	}
	if len(extra) == 0 {
		return "gpu: " + name
	}
	return fmt.Sprintf("gpu: %s (%s)", name, strings.Join(extra, ", "))
}

// Software reports whether the adapter is a CPU implementation (lavapipe,
// SwiftShader): there the CPU backend is usually faster, so "auto" callers
// may prefer it.
func (b *Backend) Software() bool { return b.info.DeviceType == gputypes.DeviceTypeCPU }

// AttnKernel is the full-attention kernel the backend's programs use:
// AttnStream or AttnTiled.
func (b *Backend) AttnKernel() string { return b.attn }

// ConvKernel is the convolution kernel the backend's programs use:
// ConvBlocked, ConvTiled or ConvMixed.
func (b *Backend) ConvKernel() string { return b.conv }

// AdapterInfo describes the adapter in use.
func (b *Backend) AdapterInfo() wgpu.AdapterInfo { return b.info }

// Limits are the device's limits (the adapter's, as requested by New).
func (b *Backend) Limits() wgpu.Limits { return b.limits }

// MaxTensorBytes is the largest activation tensor a program can hold: one
// storage binding of one buffer.
func (b *Backend) MaxTensorBytes() int64 {
	return int64(min(b.limits.MaxStorageBufferBindingSize, b.limits.MaxBufferSize))
}

// Device describes the adapter; restore sizes its tiles from MaxTensorBytes.
func (b *Backend) Device() backend.Device {
	api := platformAPI
	if b.info.Backend != gputypes.BackendEmpty {
		api = strings.ToLower(b.info.Backend.String())
	}
	return backend.Device{GPU: true, Software: b.Software(), API: api, Adapter: b.info.Name, MaxTensorBytes: b.MaxTensorBytes(),
		LargestBuffer: b.LargestTensorBytes}
}

// LargestTensorBytes is the largest buffer a program of g would bind for
// one activation, after this backend's rewrites (lower.go: q, k and v split
// from the attention layers' qkv tensors, heads in two groups where one
// would exceed MaxTensorBytes). Restore should size its tiles by it against
// MaxTensorBytes rather than by g's largest tensor.
func (b *Backend) LargestTensorBytes(g *backend.Graph) int64 {
	lg := lower(g, []backend.Tensor{g.Input, g.Output}, b.MaxTensorBytes())
	largest := 0
	for _, op := range lg.Ops {
		largest = max(largest, op.Output().Len())
	}
	largest = max(largest, g.Input.Len())
	return 4 * int64(largest)
}

// Close releases the pipelines and the device. Programs compiled by b must
// be closed first.
func (b *Backend) Close() (err error) {
	defer guard(&err, "close")
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for _, p := range b.pipes {
		p.pipe.Release()
	}
	for _, l := range b.layouts {
		l.release()
	}
	for _, m := range b.modules {
		m.Release()
	}
	b.pipes, b.modules, b.layouts = nil, nil, nil
	if b.device != nil {
		b.device.Release()
	}
	if b.adapter != nil {
		b.adapter.Release()
	}
	if b.instance != nil {
		b.instance.Release()
	}
	return nil
}

// usable reports why b cannot take work, if it cannot.
func (b *Backend) usable() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	return b.lost
}

func (b *Backend) isClosed() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.closed
}

// markLost records err if it denotes device loss, so later calls fail fast.
func (b *Backend) markLost(err error) {
	if err == nil || !errors.Is(err, ErrDeviceLost) {
		return
	}
	b.mu.Lock()
	if b.lost == nil {
		b.lost = err
	}
	b.mu.Unlock()
}
