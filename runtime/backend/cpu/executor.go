package cpu

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// Backend is the CPU backend. The zero value uses every core.
type Backend struct {
	Threads int // goroutines per op; 0 means runtime.GOMAXPROCS(0)
}

func (b *Backend) threads() int {
	if b.Threads > 0 {
		return b.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// Name describes the backend, including the convolution kernel in use.
func (b *Backend) Name() string {
	return fmt.Sprintf("cpu (%d threads, %s kernels)", b.threads(), KernelName())
}

// Device is the host: no buffer limit beyond memory.
func (b *Backend) Device() backend.Device { return backend.Device{PlannedBytes: plannedBytes} }

// plannedBytes is the activation memory Compile plans for g (without taps).
func plannedBytes(g *backend.Graph) int64 {
	_, plan, headBuf := planMemory(g, []backend.Tensor{g.Input, g.Output}, true)
	return 4 * int64(plan.Total()+headBuf)
}

// planMemory plans g's tensors, with the headwise attentions when fuse is
// set: the graph the program runs, its plan and the headwise buffer's size.
func planMemory(g *backend.Graph, pinned []backend.Tensor, fuse bool) (*backend.Graph, *backend.MemoryPlan, int) {
	headBuf := 0
	if fuse {
		g, headBuf = fuseHeads(g, pinned)
	}
	return g, g.PlanMemory(pinned), headBuf
}

// Close does nothing: programs own all the memory.
func (b *Backend) Close() error { return nil }

// phase is one parallel loop of an op.
type phase struct {
	t        task
	n, grain int
}

type program struct {
	g      *backend.Graph
	plan   *backend.MemoryPlan
	slots  [][]float32
	bufs   [][]float32 // tensor ID -> view into its slot
	phases []phase
	time   []float32
	pool   *pool
	taps   bool
	bytes  int64
	// headQKV is the one q, k and v buffer of the headwise attentions.
	headQKV []float32

	backend.HostStepper // the sampler loop around Run
}

// Compile plans memory, packs weights and binds every op to its buffers.
func (b *Backend) Compile(g *backend.Graph, w backend.Weights, taps bool) (backend.Program, error) {
	if err := g.Validate(); err != nil {
		return nil, err
	}
	pinned := []backend.Tensor{g.Input, g.Output}
	if taps {
		for _, t := range g.Taps {
			pinned = append(pinned, t)
		}
	}
	// Taps keep every layer's output readable, so a program with taps runs
	// the graph as it is.
	run, plan, headBuf := planMemory(g, pinned, !taps)
	p := &program{g: g, plan: plan, time: make([]float32, g.TimeLen), taps: taps}
	for _, size := range p.plan.Sizes {
		p.slots = append(p.slots, commit(make([]float32, size)))
		p.bytes += int64(size) * 4
	}
	p.bufs = make([][]float32, len(g.Tensors))
	for _, t := range g.Tensors {
		if s := p.plan.Slot[t.ID]; s >= 0 {
			p.bufs[t.ID] = p.slots[s][:t.Len()]
		}
	}
	p.headQKV = commit(p.scratch(headBuf))
	for _, op := range run.Ops {
		if err := p.add(op, w); err != nil {
			return nil, fmt.Errorf("cpu: compile %s: %w", op.Label(), err)
		}
	}
	p.pool = newPool(b.threads())
	p.HostStepper = backend.NewHostStepper(g, p.Run)
	return p, nil
}

// commit writes one float per 4 KiB page of fresh memory, so the system
// maps it now, at plan time, not during the first step: in a sandboxed
// browser tab a page fault can cost 10 µs or more (the 413 MB of a 384x368
// Tiny program took 1.1-1.8 s here), and a caller that plans ahead
// (restore.Prepare) takes that time off the restore.
func commit(x []float32) []float32 {
	for i := 0; i < len(x); i += 1024 {
		x[i] = 0
	}
	return x
}

func (p *program) buf(t backend.Tensor) []float32 {
	if !t.Valid() {
		return nil
	}
	return p.bufs[t.ID]
}

func (p *program) scratch(n int) []float32 {
	p.bytes += int64(n) * 4
	return make([]float32, n)
}

// convParams reads a convolution's weights (Cout, Cin, K, K) and its bias
// (nil without one).
func convParams(o *backend.Conv, w backend.Weights) (wt, bias []float32, err error) {
	if wt, err = backend.Vector(w, o.Weight, o.Out.C*(o.A.C+o.B.C)*o.K*o.K); err != nil {
		return nil, nil, err
	}
	if o.Bias != "" {
		if bias, err = backend.Vector(w, o.Bias, o.Out.C); err != nil {
			return nil, nil, err
		}
	}
	return wt, bias, nil
}

func (p *program) add(op backend.Op, w backend.Weights) error {
	switch o := op.(type) {
	case *headwiseAttention:
		return p.addHeadwise(o, w)
	case *backend.Conv:
		cin := o.A.C + o.B.C
		wt, bias, err := convParams(o, w)
		if err != nil {
			return err
		}
		pc, err := PackConv(ConvSpec{Cin: cin, Cout: o.Out.C, K: o.K, Stride: o.Stride, Pad: o.Pad, Upsample: o.Upsample}, wt, bias)
		if err != nil {
			return err
		}
		if ho, wo := pc.OutSize(o.A.H, o.A.W); ho != o.Out.H || wo != o.Out.W {
			return fmt.Errorf("output %dx%d, graph says %dx%d", wo, ho, o.Out.W, o.Out.H)
		}
		t := &convTask{pc: pc, out: p.buf(o.Out), a: p.buf(o.A), b: p.buf(o.B), res: p.buf(o.Res), ca: o.A.C, h: o.A.H, w: o.A.W}
		p.phases = append(p.phases, phase{t, o.Out.H, 1})
	case *backend.GroupNorm:
		c, n := o.In.C, o.In.H*o.In.W
		gamma, beta, err := o.Params(w, len(p.time))
		if err != nil {
			return err
		}
		g := &groupNorm{out: p.buf(o.Out), in: p.buf(o.In), res: p.buf(o.Res), gamma: gamma, beta: beta,
			c: c, n: n, groups: o.Groups, eps: decimal64(o.Eps), film: o.FiLM, time: &p.time, silu: o.SiLU,
			mean: p.scratch(o.Groups), inv: p.scratch(o.Groups)}
		g.stats.g = g
		p.phases = append(p.phases, phase{&g.stats, o.Groups, 1}, phase{g, c, 1})
	case *backend.LayerNorm:
		c, n := o.In.C, o.In.H*o.In.W
		g, err := backend.Vector(w, o.G, c)
		if err != nil {
			return err
		}
		if !(o.Eps > 0) {
			return fmt.Errorf("eps %g must be positive", o.Eps)
		}
		l := &layerNorm{out: p.buf(o.Out), in: p.buf(o.In), res: p.buf(o.Res), g: g, c: c, n: n, eps: float64(o.Eps),
			mean: p.scratch(n), inv: p.scratch(n)}
		p.phases = append(p.phases, phase{l, n, 1024})
	case *backend.LinearAttention:
		n := o.QKV.H * o.QKV.W
		hid := o.Heads * o.DimHead
		if o.QKV.C != 3*hid || o.Out.C != hid {
			return fmt.Errorf("qkv has %d channels, out %d, want %d and %d", o.QKV.C, o.Out.C, 3*hid, hid)
		}
		a := &linearAttention{out: p.buf(o.Out), qkv: p.buf(o.QKV), heads: o.Heads, dh: o.DimHead, n: n,
			ctx: p.scratch(hid * o.DimHead)}
		a.qSoft.a, a.kSoft.a, a.context.a = a, a, a
		p.phases = append(p.phases, phase{&a.qSoft, n, 256}, phase{&a.kSoft, hid, 1},
			phase{&a.context, hid, 1}, phase{a, hid, 1})
	case *backend.Attention:
		n := o.QKV.H * o.QKV.W
		hid := o.Heads * o.DimHead
		if o.QKV.C != 3*hid || o.Out.C != hid {
			return fmt.Errorf("qkv has %d channels, out %d, want %d and %d", o.QKV.C, o.Out.C, 3*hid, hid)
		}
		if o.DimHead > 64 {
			return fmt.Errorf("dim_head %d above 64", o.DimHead)
		}
		a := &attention{out: p.buf(o.Out), qkv: p.buf(o.QKV), heads: o.Heads, dh: o.DimHead, n: n,
			qt: p.scratch(hid * n), kt: p.scratch(hid * n), vt: p.scratch(hid * n)}
		a.transpose.a = a
		p.phases = append(p.phases, phase{&a.transpose, hid, 1}, phase{a, o.Heads * n, 16})
	default:
		return fmt.Errorf("unsupported op %T", op)
	}
	return nil
}

type convTask struct {
	pc             *PackedConv
	out, a, b, res []float32
	ca, h, w       int
}

func (t *convTask) run(lo, hi int) { t.pc.Run(t.out, t.a, t.b, t.res, t.ca, t.h, t.w, lo, hi) }

// Run executes one pass.
func (p *program) Run(input, time, out []float32) error {
	if p.pool == nil {
		return errors.New("cpu: program is closed")
	}
	if len(input) != p.g.Input.Len() || len(time) != len(p.time) || len(out) != p.g.Output.Len() {
		return fmt.Errorf("cpu: run with input %d, time %d, output %d values; want %d, %d, %d",
			len(input), len(time), len(out), p.g.Input.Len(), len(p.time), p.g.Output.Len())
	}
	copy(p.buf(p.g.Input), input)
	copy(p.time, time)
	for _, ph := range p.phases {
		p.pool.parallel(ph.n, ph.grain, ph.t)
	}
	copy(out, p.buf(p.g.Output))
	return nil
}

// Tap returns a copy of a named activation from the last run.
func (p *program) Tap(name string) ([]float32, error) {
	t, ok := p.g.Taps[name]
	if !ok {
		return nil, fmt.Errorf("cpu: no tap %q", name)
	}
	if !p.taps {
		return nil, fmt.Errorf("cpu: tap %q: program compiled without taps", name)
	}
	return append([]float32(nil), p.buf(t)...), nil
}

func (p *program) MemoryBytes() int64 { return p.bytes }

func (p *program) Close() error {
	if p.pool != nil {
		p.pool.close()
		p.pool = nil
	}
	return nil
}

// decimal64 widens a float32 epsilon through its shortest decimal form, so
// 1e-5 stays 1e-5 in float64 (float64(float32(1e-5)) is 9.99999974e-06):
// the statistics, computed in float64, are then bit for bit those of the
// kernel before packs carried the epsilon.
func decimal64(v float32) float64 {
	f, _ := strconv.ParseFloat(strconv.FormatFloat(float64(v), 'g', -1, 32), 64)
	return f
}
