package gpu

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// Program is a graph compiled for one image size on one device.
type Program struct {
	b      *Backend
	g      *backend.Graph
	plan   *backend.MemoryPlan
	taps   bool
	closed bool

	slots    []*wgpu.Buffer
	arenas   []*wgpu.Buffer
	params   *wgpu.Buffer
	time     *wgpu.Buffer
	scratchA *wgpu.Buffer
	scratchB *wgpu.Buffer
	staging  *wgpu.Buffer // output readback
	tapBuf   *wgpu.Buffer // tap readback, made on first Tap
	groups   []*wgpu.BindGroup
	steps    []step
	sampler  *samplerState // the Stepper state, made at the first Begin

	kernels  []string
	variants map[string]int
	bytes    int64 // all GPU buffers but readback
	actBytes int64 // activation slots
	wBytes   int64 // weight arenas
}

type step struct {
	pipe    *pipeline
	group   *wgpu.BindGroup
	x, y, z uint32
	op      string // the op's name, for Profile
	kernel  string // the kernel's file(s) and entry point, for Profile
}

var _ backend.Program = (*Program)(nil)

// Compile plans memory, uploads the weights, and creates the pipelines and
// bind groups of every op once.
func (b *Backend) Compile(g *backend.Graph, w backend.Weights, taps bool) (prog backend.Program, err error) {
	defer guard(&err, "compile")
	if err := b.usable(); err != nil {
		return nil, fmt.Errorf("gpu: compile: %w", err)
	}
	if err := g.Validate(); err != nil {
		return nil, fmt.Errorf("gpu: compile: %w", err)
	}
	pinned := []backend.Tensor{g.Input, g.Output}
	if taps {
		for _, t := range g.Taps {
			pinned = append(pinned, t)
		}
	}
	maxBind := min(b.limits.MaxStorageBufferBindingSize, b.limits.MaxBufferSize)
	g = lower(g, pinned, int64(maxBind)) // q, k, v in tensors of their own (lower.go)
	plan := g.PlanMemory(pinned)
	for i, s := range plan.Sizes {
		if bytes := uint64(s) * 4; bytes > maxBind {
			return nil, fmt.Errorf("gpu: compile: %w: activation slot %d needs %.1f MiB, the adapter binds at most %.1f MiB (maxStorageBufferBindingSize/maxBufferSize); use smaller tiles",
				ErrLimits, i, float64(bytes)/(1<<20), float64(maxBind)/(1<<20))
		}
	}
	c := newCompiler(b, g, plan)
	for _, op := range g.Ops {
		if err := c.add(op, w); err != nil {
			return nil, fmt.Errorf("gpu: compile %s: %w", op.Label(), err)
		}
	}
	p := &Program{b: b, g: g, plan: plan, taps: taps, kernels: c.kernels, variants: c.variants}
	if err := p.build(c); err != nil {
		_ = p.Close()
		err = classify(fmt.Errorf("gpu: compile: %w", err))
		b.markLost(err)
		return nil, err
	}
	if b.opts.Log != nil {
		b.opts.Log(p.Summary())
	}
	return p, nil
}

func (p *Program) newBuffer(label string, size uint64, usage wgpu.BufferUsage) (*wgpu.Buffer, error) {
	size = max(alignUp(size, 16), 16) // 16: kernels may read activations as vec4
	buf, err := p.b.device.CreateBuffer(&wgpu.BufferDescriptor{Label: label, Size: size, Usage: usage})
	if err != nil {
		return nil, fmt.Errorf("create buffer %s (%d bytes): %w", label, size, err)
	}
	if usage&wgpu.BufferUsageMapRead == 0 {
		p.bytes += int64(size)
	}
	return buf, nil
}

func (p *Program) build(c *compiler) error {
	dev, q := p.b.device, p.b.queue
	const storage = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst | wgpu.BufferUsageCopySrc
	for i, s := range p.plan.Sizes {
		buf, err := p.newBuffer(fmt.Sprintf("slot%d", i), uint64(s)*4, storage)
		if err != nil {
			return err
		}
		p.slots = append(p.slots, buf)
		p.actBytes += int64(buf.Size())
	}
	for i, size := range c.arenas {
		buf, err := p.newBuffer(fmt.Sprintf("weights%d", i), size, wgpu.BufferUsageStorage|wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst)
		if err != nil {
			return err
		}
		p.arenas = append(p.arenas, buf)
		p.wBytes += int64(buf.Size())
	}
	var err error
	if p.params, err = p.newBuffer("params", uint64(len(c.params)), wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst); err != nil {
		return err
	}
	if p.time, err = p.newBuffer("time", uint64(4*p.g.TimeLen), wgpu.BufferUsageStorage|wgpu.BufferUsageCopyDst); err != nil {
		return err
	}
	if p.scratchA, err = p.newBuffer("scratchA", c.scratchA, wgpu.BufferUsageStorage); err != nil {
		return err
	}
	if p.scratchB, err = p.newBuffer("scratchB", c.scratchB, wgpu.BufferUsageStorage); err != nil {
		return err
	}
	if p.staging, err = p.newBuffer("readback", uint64(4*p.g.Output.Len()), wgpu.BufferUsageMapRead|wgpu.BufferUsageCopyDst); err != nil {
		return err
	}
	for _, wr := range c.writes {
		if err := q.WriteBuffer(p.arenas[wr.arena], wr.off, wr.data); err != nil {
			return fmt.Errorf("upload weights: %w", err)
		}
	}
	if len(c.params) > 0 {
		if err := q.WriteBuffer(p.params, 0, c.params); err != nil {
			return fmt.Errorf("upload params: %w", err)
		}
	}
	for i, bp := range c.binds {
		l, err := p.layout(bp.layout)
		if err != nil {
			return err
		}
		entries := make([]wgpu.BindGroupEntry, len(bp.refs))
		for j, r := range bp.refs {
			entries[j] = wgpu.BindGroupEntry{Binding: uint32(j), Buffer: p.resolve(r), Offset: r.off, Size: r.size}
			if entries[j].Size == 0 {
				entries[j].Size = entries[j].Buffer.Size()
			}
		}
		bg, err := dev.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: fmt.Sprintf("op%d", i), Layout: l.bgl, Entries: entries})
		if err != nil {
			return fmt.Errorf("bind group %d: %w", i, err)
		}
		p.groups = append(p.groups, bg)
	}
	for _, d := range c.steps {
		pipe, err := p.b.pipeline(d.k)
		if err != nil {
			return fmt.Errorf("%s: %w", d.label, err)
		}
		p.steps = append(p.steps, step{pipe: pipe, group: p.groups[d.bind], x: d.x, y: d.y, z: d.z, op: d.label, kernel: d.k.key()})
	}
	return p.flush()
}

// flush submits the queued buffer writes. gogpu/wgpu v0.31.5 keeps
// WriteBuffer data pending until the next Submit without holding the
// destination alive: releasing a buffer with a write still pending made
// the next Submit crash (SIGSEGV in the driver). Compile and Close flush.
// An empty Submit() crashed in turn at device release, so flush submits an
// empty command buffer.
func (p *Program) flush() error {
	enc, err := p.b.device.CreateCommandEncoder(nil)
	if err != nil {
		return fmt.Errorf("flush uploads: %w", err)
	}
	cmd, err := enc.Finish()
	if err != nil {
		return fmt.Errorf("flush uploads: %w", err)
	}
	if _, err := p.b.queue.Submit(cmd); err != nil {
		return fmt.Errorf("flush uploads: %w", err)
	}
	return nil
}

func (p *Program) layout(kinds []bindKind) (*layout, error) {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if p.b.closed {
		return nil, ErrClosed
	}
	return p.b.layoutFor(kinds)
}

func (p *Program) resolve(r bufRef) *wgpu.Buffer {
	switch r.kind {
	case refSlot:
		return p.slots[r.idx]
	case refArena:
		return p.arenas[r.idx]
	case refParams:
		return p.params
	case refTime:
		return p.time
	case refScratchA:
		return p.scratchA
	default:
		return p.scratchB
	}
}

// f32bytes views v as its little-endian bytes without copying (every Go
// port WebGPU runs on is little-endian, like GPU buffers).
func f32bytes(v []float32) []byte {
	if len(v) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&v[0])), 4*len(v))
}

// Run executes one pass: uploads input and time, encodes every dispatch and
// the output copy into one command buffer, submits it and reads back.
func (p *Program) Run(input, time, out []float32) (err error) {
	defer guard(&err, "run")
	if p.closed {
		return fmt.Errorf("gpu: run: %w", ErrClosed)
	}
	if err := p.b.usable(); err != nil {
		return fmt.Errorf("gpu: run: %w", err)
	}
	if len(input) != p.g.Input.Len() || len(time) != p.g.TimeLen || len(out) != p.g.Output.Len() {
		return fmt.Errorf("gpu: run with input %d, time %d, output %d values; want %d, %d, %d",
			len(input), len(time), len(out), p.g.Input.Len(), p.g.TimeLen, p.g.Output.Len())
	}
	if err := p.run(input, time, out); err != nil {
		err = classify(fmt.Errorf("gpu: run: %w", err))
		p.b.markLost(err)
		return err
	}
	return nil
}

func (p *Program) run(input, time, out []float32) error {
	q := p.b.queue
	if err := q.WriteBuffer(p.slots[p.plan.Slot[p.g.Input.ID]], 0, f32bytes(input)); err != nil {
		return fmt.Errorf("write input: %w", err)
	}
	if len(time) > 0 {
		if err := q.WriteBuffer(p.time, 0, f32bytes(time)); err != nil {
			return fmt.Errorf("write time vector: %w", err)
		}
	}
	size := uint64(4 * len(out))
	err := p.submit(p.encodeUNet, func(enc *wgpu.CommandEncoder) {
		enc.CopyBufferToBuffer(p.slots[p.plan.Slot[p.g.Output.ID]], 0, p.staging, 0, size)
	})
	if err != nil {
		return err
	}
	return p.readback(p.staging, size, f32bytes(out))
}

// encodeUNet records every dispatch of one UNet pass.
func (p *Program) encodeUNet(pass *wgpu.ComputePassEncoder) {
	for _, s := range p.steps {
		pass.SetPipeline(s.pipe.pipe)
		pass.SetBindGroup(0, s.group, nil)
		pass.Dispatch(s.x, s.y, s.z)
	}
}

// submit records one compute pass with record, then any copies with after
// (nil for none), and submits them as one command buffer.
func (p *Program) submit(record func(*wgpu.ComputePassEncoder), after func(*wgpu.CommandEncoder)) error {
	enc, err := p.b.device.CreateCommandEncoder(nil)
	if err != nil {
		return err
	}
	pass, err := enc.BeginComputePass(nil)
	if err != nil {
		return err
	}
	record(pass)
	if err := pass.End(); err != nil {
		return err
	}
	if after != nil {
		after(enc)
	}
	cmd, err := enc.Finish()
	if err != nil {
		return err
	}
	_, err = p.b.queue.Submit(cmd)
	return err
}

// readback maps buf and copies its first size bytes into dst, waiting at
// most the backend's timeout (a device that never answers counts as lost).
func (p *Program) readback(buf *wgpu.Buffer, size uint64, dst []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.b.opts.Timeout)
	defer cancel()
	if err := buf.Map(ctx, wgpu.MapModeRead, 0, size); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	rng, err := buf.MappedRange(0, size)
	if err != nil {
		_ = buf.Unmap()
		return fmt.Errorf("read back: %w", err)
	}
	src := rng.Bytes()
	n := copy(dst, src)
	rng.Release()
	if err := buf.Unmap(); err != nil {
		return fmt.Errorf("read back: %w", err)
	}
	if uint64(n) != size {
		return fmt.Errorf("read back: got %d of %d bytes", n, size)
	}
	return nil
}

// Tap copies the named activation of the last run from the GPU.
func (p *Program) Tap(name string) (v []float32, err error) {
	defer guard(&err, "tap")
	t, ok := p.g.Taps[name]
	if !ok {
		return nil, fmt.Errorf("gpu: no tap %q", name)
	}
	if !p.taps {
		return nil, fmt.Errorf("gpu: tap %q: program compiled without taps", name)
	}
	if p.closed {
		return nil, fmt.Errorf("gpu: tap: %w", ErrClosed)
	}
	size := uint64(4 * t.Len())
	if p.tapBuf == nil || p.tapBuf.Size() < size {
		if p.tapBuf != nil {
			p.tapBuf.Release()
		}
		maxTap := 0
		for _, t := range p.g.Taps {
			maxTap = max(maxTap, t.Len())
		}
		if p.tapBuf, err = p.newBuffer("tap", uint64(4*maxTap), wgpu.BufferUsageMapRead|wgpu.BufferUsageCopyDst); err != nil {
			return nil, classify(fmt.Errorf("gpu: tap: %w", err))
		}
	}
	enc, err := p.b.device.CreateCommandEncoder(nil)
	if err != nil {
		return nil, classify(fmt.Errorf("gpu: tap: %w", err))
	}
	enc.CopyBufferToBuffer(p.slots[p.plan.Slot[t.ID]], 0, p.tapBuf, 0, size)
	cmd, err := enc.Finish()
	if err == nil {
		_, err = p.b.queue.Submit(cmd)
	}
	v = make([]float32, t.Len())
	if err == nil {
		err = p.readback(p.tapBuf, size, f32bytes(v))
	}
	if err != nil {
		err = classify(fmt.Errorf("gpu: tap %q: %w", name, err))
		p.b.markLost(err)
		return nil, err
	}
	return v, nil
}

// MemoryBytes is the GPU memory the program holds: activation slots,
// weights, parameters and scratch (readback buffers are host memory).
func (p *Program) MemoryBytes() int64 { return p.bytes }

// Kernels lists "layer: variant" for every op, in order.
func (p *Program) Kernels() []string { return p.kernels }

// Summary is one line naming the adapter, the conv kernel (blocked, tiled or
// mixed), the kernel variants and memory.
func (p *Program) Summary() string {
	var vs []string
	for v, n := range p.variants {
		vs = append(vs, fmt.Sprintf("%s x%d", v, n))
	}
	sort.Strings(vs)
	const mib = 1 << 20
	return fmt.Sprintf("%s, %s convs: %dx%d graph, %d ops in %d dispatches [%s], GPU memory %.1f MiB (activations %.1f MiB in %d buffers, weights %.1f MiB)",
		p.b.Name(), p.b.conv, p.g.Input.W, p.g.Input.H, len(p.g.Ops), len(p.steps), strings.Join(vs, ", "),
		float64(p.bytes)/mib, float64(p.actBytes)/mib, len(p.slots), float64(p.wBytes)/mib)
}

// Close releases the program's buffers and bind groups.
func (p *Program) Close() (err error) {
	defer guard(&err, "close")
	if p.closed {
		return nil
	}
	p.closed = true
	if p.b.isClosed() {
		// The device is gone and took the buffers with it.
		p.groups, p.slots, p.arenas, p.steps, p.sampler = nil, nil, nil, nil, nil
		return nil
	}
	_ = p.flush()
	p.sampler.release()
	p.sampler = nil
	for _, g := range p.groups {
		g.Release()
	}
	for _, bufs := range [][]*wgpu.Buffer{p.slots, p.arenas, {p.params, p.time, p.scratchA, p.scratchB, p.staging, p.tapBuf}} {
		for _, b := range bufs {
			if b != nil {
				b.Release()
			}
		}
	}
	p.groups, p.slots, p.arenas, p.steps = nil, nil, nil, nil
	return nil
}

// DispatchTime is one dispatch's share of a UNet pass, from Profile.
type DispatchTime struct {
	Op      string    // the graph op it belongs to
	Kernel  string    // shader file(s) and entry point, e.g. "groupnorm.wgsl:stats"
	Seconds float64   // wall time per dispatch, submit and wait included
	Groups  [3]uint32 // workgroups dispatched
}

// Profile times every dispatch of a UNet pass on its own: reps copies of it
// in one command buffer, submitted and waited for, so each figure includes
// one submit and wait shared by the reps. The buffers keep whatever the last
// Run left in them. It answers where a pass spends its time; the sum
// overstates a real pass by the per-submit cost times the dispatch count.
func (p *Program) Profile(reps int) (out []DispatchTime, err error) {
	defer guard(&err, "profile")
	if p.closed {
		return nil, fmt.Errorf("gpu: profile: %w", ErrClosed)
	}
	if err := p.b.usable(); err != nil {
		return nil, fmt.Errorf("gpu: profile: %w", err)
	}
	reps = max(reps, 1)
	for _, s := range p.steps {
		start := time.Now()
		err := p.submitAndWait(func(pass *wgpu.ComputePassEncoder) {
			pass.SetPipeline(s.pipe.pipe)
			pass.SetBindGroup(0, s.group, nil)
			for range reps {
				pass.Dispatch(s.x, s.y, s.z)
			}
		})
		if err != nil {
			err = classify(fmt.Errorf("gpu: profile %s: %w", s.op, err))
			p.b.markLost(err)
			return nil, err
		}
		out = append(out, DispatchTime{Op: s.op, Kernel: s.kernel, Seconds: time.Since(start).Seconds() / float64(reps),
			Groups: [3]uint32{s.x, s.y, s.z}})
	}
	return out, nil
}

// KernelTime is one kernel's part of a profiled UNet pass: the dispatches
// that ran it, summed.
type KernelTime struct {
	Kernel  string  // as DispatchTime.Kernel
	Seconds float64 // summed over the pass's dispatches of this kernel
	Count   int     // dispatches of this kernel in one pass
}

// ByKernel sums a Profile by kernel, largest first (equal times by name, so
// the order is stable), and returns the sum over all dispatches with it. The
// benchmark and the browser's profile request share it, so their tables
// aggregate alike.
func ByKernel(times []DispatchTime) (kernels []KernelTime, total float64) {
	at := map[string]int{}
	for _, d := range times {
		total += d.Seconds
		i, ok := at[d.Kernel]
		if !ok {
			i = len(kernels)
			at[d.Kernel] = i
			kernels = append(kernels, KernelTime{Kernel: d.Kernel})
		}
		kernels[i].Seconds += d.Seconds
		kernels[i].Count++
	}
	sort.Slice(kernels, func(i, j int) bool {
		if kernels[i].Seconds != kernels[j].Seconds {
			return kernels[i].Seconds > kernels[j].Seconds
		}
		return kernels[i].Kernel < kernels[j].Kernel
	})
	return kernels, total
}

// submitAndWait submits one compute pass and waits for the GPU to finish it
// through a 16-byte readback of the output (gogpu's WaitIdle does nothing in
// the browser, a mapped read does wait).
func (p *Program) submitAndWait(record func(*wgpu.ComputePassEncoder)) error {
	err := p.submit(record, func(enc *wgpu.CommandEncoder) {
		enc.CopyBufferToBuffer(p.slots[p.plan.Slot[p.g.Output.ID]], 0, p.staging, 0, 16)
	})
	if err != nil {
		return err
	}
	var sink [16]byte
	return p.readback(p.staging, 16, sink[:])
}
