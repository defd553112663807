package gpu

import (
	"encoding/binary"
	"fmt"

	"github.com/gogpu/wgpu"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/shaders"
)

// Sampler kernels (shaders/sampler.wgsl): bindings are the params uniform,
// x, x_in, the UNet input and the UNet output.
var (
	samplerLayout = []bindKind{bUniform, bWrite, bRead, bWrite, bRead}
	kSamplerPad   = kernel{[]string{"sampler.wgsl"}, "pad", samplerLayout}
	kSamplerUpd   = kernel{[]string{"sampler.wgsl"}, "update", samplerLayout}
)

// samplerState is what the Stepper path keeps on the device, made at the
// first Begin for the graph's padded size and reused by later tiles.
type samplerState struct {
	x, xin, params *wgpu.Buffer
	group          *wgpu.BindGroup
	pad, upd       *pipeline
	h, w           int
	started        bool
	uni            [32]byte
}

var _ backend.Stepper = (*Program)(nil)

// Begin uploads x_in and x (3×h×w each) and pads x_in into the input's
// channels 3..5.
func (p *Program) Begin(xin, x []float32, h, w int) (err error) {
	defer guard(&err, "begin")
	if p.closed {
		return fmt.Errorf("gpu: begin: %w", ErrClosed)
	}
	if err := p.b.usable(); err != nil {
		return fmt.Errorf("gpu: begin: %w", err)
	}
	in := p.g.Input
	if in.C != 6 || p.g.Output.C != 3 || h <= 0 || w <= 0 || h > in.H || w > in.W || len(xin) != 3*h*w || len(x) != 3*h*w {
		return fmt.Errorf("gpu: begin: %dx%d with x_in %d, x %d values on a %dx%d graph", w, h, len(xin), len(x), in.W, in.H)
	}
	if err := p.begin(xin, x, h, w); err != nil {
		err = classify(fmt.Errorf("gpu: begin: %w", err))
		p.b.markLost(err)
		return err
	}
	return nil
}

// newSampler makes the Stepper buffers (sized for the padded graph) and
// their bind group; on error the caller releases what was made.
func (p *Program) newSampler() (*samplerState, error) {
	s := &samplerState{}
	n := uint64(4 * 3 * p.g.Input.H * p.g.Input.W)
	const storage = wgpu.BufferUsageStorage | wgpu.BufferUsageCopyDst | wgpu.BufferUsageCopySrc
	var err error
	if s.x, err = p.newBuffer("sampler x", n, storage); err != nil {
		return s, err
	}
	if s.xin, err = p.newBuffer("sampler x_in", n, storage); err != nil {
		return s, err
	}
	if s.params, err = p.newBuffer("sampler params", uint64(len(s.uni)), wgpu.BufferUsageUniform|wgpu.BufferUsageCopyDst); err != nil {
		return s, err
	}
	if s.pad, err = p.b.pipeline(kSamplerPad); err != nil {
		return s, err
	}
	if s.upd, err = p.b.pipeline(kSamplerUpd); err != nil {
		return s, err
	}
	bufs := []*wgpu.Buffer{s.params, s.x, s.xin, p.slots[p.plan.Slot[p.g.Input.ID]], p.slots[p.plan.Slot[p.g.Output.ID]]}
	entries := make([]wgpu.BindGroupEntry, len(bufs))
	for i, b := range bufs {
		entries[i] = wgpu.BindGroupEntry{Binding: uint32(i), Buffer: b, Size: b.Size()}
	}
	if s.group, err = p.b.device.CreateBindGroup(&wgpu.BindGroupDescriptor{Label: "sampler", Layout: s.pad.layout.bgl, Entries: entries}); err != nil {
		return s, fmt.Errorf("sampler bind group: %w", err)
	}
	return s, nil
}

func (p *Program) begin(xin, x []float32, h, w int) error {
	if p.sampler == nil {
		s, err := p.newSampler()
		if err != nil {
			_ = p.flush() // no write may be pending on a released buffer
			s.release()
			return err
		}
		p.sampler = s
	}
	s := p.sampler
	s.h, s.w, s.started = h, w, false
	q := p.b.queue
	if err := q.WriteBuffer(s.xin, 0, f32bytes(xin)); err != nil {
		return fmt.Errorf("write x_in: %w", err)
	}
	if err := q.WriteBuffer(s.x, 0, f32bytes(x)); err != nil {
		return fmt.Errorf("write x: %w", err)
	}
	if err := p.writeSamplerParams(0, 0, false, true); err != nil {
		return err
	}
	err := p.submit(func(pass *wgpu.ComputePassEncoder) {
		p.samplerDispatch(pass, s.pad, 3*p.g.Input.H*p.g.Input.W)
	}, nil)
	if err != nil {
		return err
	}
	s.started = true
	return nil
}

func (p *Program) writeSamplerParams(alpha, delta float32, last, fromIn bool) error {
	s := p.sampler
	u := s.uni[:]
	for i, v := range []uint32{uint32(s.h), uint32(s.w), uint32(p.g.Input.H), uint32(p.g.Input.W),
		f32w(alpha), f32w(delta), b2u(last), b2u(fromIn)} {
		binary.LittleEndian.PutUint32(u[4*i:], v)
	}
	if err := p.b.queue.WriteBuffer(s.params, 0, u); err != nil {
		return fmt.Errorf("write sampler params: %w", err)
	}
	return nil
}

// samplerDispatch dispatches one invocation per value of n, in rows of at
// most SamplerRowGroups workgroups (the shader flattens the 2-D grid).
func (p *Program) samplerDispatch(pass *wgpu.ComputePassEncoder, pipe *pipeline, n int) {
	groups := ceilDiv(n, shaders.SamplerWG)
	gx := min(groups, shaders.SamplerRowGroups)
	gy := ceilDiv(groups, gx)
	pass.SetPipeline(pipe.pipe)
	pass.SetBindGroup(0, p.sampler.group, nil)
	pass.Dispatch(uint32(gx), uint32(gy), 1)
}

// Step pads x into the input, runs the UNet and updates x, all in one
// command buffer; it uploads only the time vector and the sampler uniform
// and does not wait for the GPU.
func (p *Program) Step(time []float32, alpha, delta float32, last bool) (err error) {
	defer guard(&err, "step")
	if p.closed {
		return fmt.Errorf("gpu: step: %w", ErrClosed)
	}
	if err := p.b.usable(); err != nil {
		return fmt.Errorf("gpu: step: %w", err)
	}
	if p.sampler == nil || !p.sampler.started {
		return fmt.Errorf("gpu: step before begin")
	}
	if len(time) != p.g.TimeLen {
		return fmt.Errorf("gpu: step with time %d values; want %d", len(time), p.g.TimeLen)
	}
	if err := p.step(time, alpha, delta, last); err != nil {
		err = classify(fmt.Errorf("gpu: step: %w", err))
		p.b.markLost(err)
		return err
	}
	return nil
}

func (p *Program) step(time []float32, alpha, delta float32, last bool) error {
	s, q := p.sampler, p.b.queue
	if len(time) > 0 {
		if err := q.WriteBuffer(p.time, 0, f32bytes(time)); err != nil {
			return fmt.Errorf("write time vector: %w", err)
		}
	}
	if err := p.writeSamplerParams(alpha, delta, last, false); err != nil {
		return err
	}
	return p.submit(func(pass *wgpu.ComputePassEncoder) {
		p.samplerDispatch(pass, s.pad, 3*p.g.Input.H*p.g.Input.W)
		p.encodeUNet(pass)
		p.samplerDispatch(pass, s.upd, 3*s.h*s.w)
	}, nil)
}

// Result reads x (3×h×w) back, waiting for the submitted steps.
func (p *Program) Result(x []float32) (err error) {
	defer guard(&err, "result")
	if p.closed {
		return fmt.Errorf("gpu: result: %w", ErrClosed)
	}
	if err := p.b.usable(); err != nil {
		return fmt.Errorf("gpu: result: %w", err)
	}
	s := p.sampler
	if s == nil || !s.started {
		return fmt.Errorf("gpu: result before begin")
	}
	if len(x) != 3*s.h*s.w {
		return fmt.Errorf("gpu: result into %d values; want %d", len(x), 3*s.h*s.w)
	}
	size := uint64(4 * len(x))
	enc, err := p.b.device.CreateCommandEncoder(nil)
	if err == nil {
		// The output readback buffer holds 3×H×W ≥ 3×h×w values.
		enc.CopyBufferToBuffer(s.x, 0, p.staging, 0, size)
		var cmd *wgpu.CommandBuffer
		if cmd, err = enc.Finish(); err == nil {
			if _, err = p.b.queue.Submit(cmd); err == nil {
				err = p.readback(p.staging, size, f32bytes(x))
			}
		}
	}
	if err != nil {
		err = classify(fmt.Errorf("gpu: result: %w", err))
		p.b.markLost(err)
		return err
	}
	return nil
}

// release frees the Stepper buffers and bind group (nil-safe).
func (s *samplerState) release() {
	if s == nil {
		return
	}
	if s.group != nil {
		s.group.Release()
	}
	for _, b := range []*wgpu.Buffer{s.x, s.xin, s.params} {
		if b != nil {
			b.Release()
		}
	}
}
