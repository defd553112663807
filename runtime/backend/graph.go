package backend

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Tensor is an activation of one image: C channels of H×W, planar.
// The zero Tensor (C == 0) means "none" in optional op fields.
type Tensor struct {
	ID      int
	C, H, W int
}

// Len is the number of float32 values in t.
func (t Tensor) Len() int { return t.C * t.H * t.W }

// Valid reports whether t names a tensor (optional fields use the zero value).
func (t Tensor) Valid() bool { return t.C > 0 }

// Op is one node of a Graph.
type Op interface {
	// Label names the layer (the state_dict prefix), for errors, logs and goldens.
	Label() string
	Inputs() []Tensor
	Output() Tensor
}

// Conv is a 2-D convolution with bias, reading the channel concatenation of
// A and B (B optional), optionally nearest-2x upsampling the input on the
// fly, and optionally adding Res to the result.
type Conv struct {
	Name         string
	Out, A, B    Tensor
	Res          Tensor
	Weight, Bias string // pack tensor names; Bias may be ""
	K, Stride    int
	Pad          int
	Upsample     bool
}

// GroupNorm normalises In over Groups channel groups, applies gamma/beta,
// then optionally the time FiLM x·(scale+1)+shift (scale at time-vector
// offset FiLM, shift at FiLM+C; FiLM < 0 means none), then optionally SiLU,
// then optionally adds Res. Eps is the variance epsilon (the pack's
// GroupEps).
type GroupNorm struct {
	Name        string
	Out, In     Tensor
	Res         Tensor
	Gamma, Beta string
	Groups      int
	Eps         float32
	FiLM        int
	SiLU        bool
}

// LayerNorm is the channel LayerNorm (statistics over channels per pixel,
// gain G, no bias, epsilon Eps), optionally adding Res afterwards.
type LayerNorm struct {
	Name    string
	Out, In Tensor
	Res     Tensor
	G       string
	Eps     float32
}

// LinearAttention is the core of DiffUIR's linear attention: from QKV
// (3·Heads·DimHead channels) to Heads·DimHead channels. It may overwrite QKV.
type LinearAttention struct {
	Name           string
	Out, QKV       Tensor
	Heads, DimHead int
}

// Attention is full softmax attention over all pixels, computed without
// materialising the n×n score matrix. It may overwrite QKV.
type Attention struct {
	Name           string
	Out, QKV       Tensor
	Heads, DimHead int
}

func (o *Conv) Label() string { return o.Name }
func (o *Conv) Inputs() []Tensor {
	return validOnly(o.A, o.B, o.Res)
}
func (o *Conv) Output() Tensor { return o.Out }

// Params checks what both backends rely on (channels split evenly into
// groups, a positive epsilon, the FiLM within a time vector of timeLen)
// and reads gamma and beta.
func (o *GroupNorm) Params(w Weights, timeLen int) (gamma, beta []float32, err error) {
	c := o.In.C
	switch {
	case o.Groups <= 0 || c%o.Groups != 0:
		return nil, nil, fmt.Errorf("%d channels in %d groups", c, o.Groups)
	case !(o.Eps > 0):
		return nil, nil, fmt.Errorf("eps %g must be positive", o.Eps)
	case o.FiLM >= 0 && o.FiLM+2*c > timeLen:
		return nil, nil, fmt.Errorf("FiLM offset %d beyond time vector of %d", o.FiLM, timeLen)
	}
	if gamma, err = Vector(w, o.Gamma, c); err != nil {
		return nil, nil, err
	}
	beta, err = Vector(w, o.Beta, c)
	return gamma, beta, err
}

func (o *GroupNorm) Label() string    { return o.Name }
func (o *GroupNorm) Inputs() []Tensor { return validOnly(o.In, o.Res) }
func (o *GroupNorm) Output() Tensor   { return o.Out }

func (o *LayerNorm) Label() string    { return o.Name }
func (o *LayerNorm) Inputs() []Tensor { return validOnly(o.In, o.Res) }
func (o *LayerNorm) Output() Tensor   { return o.Out }

func (o *LinearAttention) Label() string    { return o.Name }
func (o *LinearAttention) Inputs() []Tensor { return []Tensor{o.QKV} }
func (o *LinearAttention) Output() Tensor   { return o.Out }

func (o *Attention) Label() string    { return o.Name }
func (o *Attention) Inputs() []Tensor { return []Tensor{o.QKV} }
func (o *Attention) Output() Tensor   { return o.Out }

func validOnly(ts ...Tensor) []Tensor {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Valid() {
			out = append(out, t)
		}
	}
	return out
}

// Graph is one UNet pass for a fixed padded image size.
type Graph struct {
	Tensors []Tensor // indexed by ID
	Ops     []Op
	Input   Tensor // 6 channels: cat(x_t, x_in), padded
	Output  Tensor // 3 channels: the residual prediction, padded
	TimeLen int    // length of the per-step time vector
	// Taps maps layer names to the tensors holding their outputs, for
	// golden tests and debugging. Programs keep them readable only when
	// compiled with taps enabled.
	Taps map[string]Tensor
}

// NewTensor adds a tensor to g.
func (g *Graph) NewTensor(c, h, w int) Tensor {
	t := Tensor{ID: len(g.Tensors), C: c, H: h, W: w}
	g.Tensors = append(g.Tensors, t)
	return t
}

// Add appends op to g.
func (g *Graph) Add(op Op) { g.Ops = append(g.Ops, op) }

// Validate checks that every op reads tensors already written and that
// shapes agree, so a backend can trust the graph.
func (g *Graph) Validate() error {
	written := make([]bool, len(g.Tensors))
	written[g.Input.ID] = true
	for i, op := range g.Ops {
		for _, t := range op.Inputs() {
			if t.ID < 0 || t.ID >= len(g.Tensors) || g.Tensors[t.ID] != t {
				return fmt.Errorf("graph: op %d (%s) reads unknown tensor %+v", i, op.Label(), t)
			}
			if !written[t.ID] {
				return fmt.Errorf("graph: op %d (%s) reads tensor %d before it is written", i, op.Label(), t.ID)
			}
		}
		out := op.Output()
		if out.ID < 0 || out.ID >= len(g.Tensors) || g.Tensors[out.ID] != out {
			return fmt.Errorf("graph: op %d (%s) writes unknown tensor %+v", i, op.Label(), out)
		}
		written[out.ID] = true
	}
	if !written[g.Output.ID] {
		return fmt.Errorf("graph: output tensor %d never written", g.Output.ID)
	}
	return nil
}

// Weights is the source of parameters for a backend: a weight pack (which
// implements it), or anything that can describe and hand out named tensors.
// Info and Raw give the stored dtype, shape and bytes, so a backend can keep
// f16 weights as they are instead of a round trip through float32.
type Weights interface {
	Float32(name string) ([]float32, error)
	Info(name string) (weights.TensorInfo, bool)
	Raw(name string) ([]byte, error)
}

// Vector reads a weight tensor that must hold exactly want values (a bias,
// a norm's gain), so a shape mismatch names the tensor instead of reading
// out of range.
func Vector(w Weights, name string, want int) ([]float32, error) {
	v, err := w.Float32(name)
	if err != nil {
		return nil, err
	}
	if len(v) != want {
		return nil, fmt.Errorf("%s: %d values, want %d", name, len(v), want)
	}
	return v, nil
}

// Backend executes graphs.
type Backend interface {
	// Name says what runs the graph, e.g. "cpu (2 threads, avx2)" or an adapter name.
	Name() string
	// Device describes what runs the graph, for the automatic backend
	// choice, tile sizing and reports.
	Device() Device
	// Compile prepares g for repeated runs: plans memory and prepares
	// weights and kernels once. With taps set, tapped tensors stay readable.
	Compile(g *Graph, w Weights, taps bool) (Program, error)
	// Close releases the device; programs compiled by the backend must be
	// closed first. Closing twice is harmless.
	Close() error
}

// Device describes a backend's hardware.
type Device struct {
	GPU bool // false: the host's CPU
	// Software marks a GPU API implemented on the CPU (lavapipe,
	// SwiftShader): the CPU backend is faster there.
	Software bool
	// API and Adapter name the GPU's API ("vulkan", "webgpu") and adapter,
	// for reports.
	API, Adapter string
	// MaxTensorBytes is the largest tensor a program may hold (one device
	// buffer binding); 0 means no limit. Restore sizes its tiles from it.
	MaxTensorBytes int64
	// LargestBuffer, when set, is the largest buffer a program of g binds,
	// for a backend that lays tensors out otherwise than the graph (the GPU
	// splits the attention layers' qkv); nil: the graph's largest tensor.
	LargestBuffer func(g *Graph) int64
	// PlannedBytes, when set, is the activation memory a program of g
	// plans, for a backend that plans otherwise than g.PlanMemory (the CPU
	// runs linear attention head by head); nil: 4 bytes per planned float.
	PlannedBytes func(g *Graph) int64
}

// Program is a graph compiled for one image size. Its Stepper methods run
// the residual sampler around the UNet: on the device for the GPU, on the
// host (HostStepper) for the CPU, so restore has one sampler loop.
type Program interface {
	// Run executes one UNet pass: input holds g.Input (6×H×W), time the
	// per-step time vector (g.TimeLen values); the result is written to out
	// (3×H×W). Run must not allocate.
	Run(input, time, out []float32) error
	Stepper
	// Tap copies the named activation of the last run into a new slice.
	Tap(name string) ([]float32, error)
	// MemoryBytes is the activation memory the program holds.
	MemoryBytes() int64
	Close() error
}

// Stepper runs the sampler loop of one tile, keeping the sampler state
// where the program's memory is, so a step passes only the time vector and
// three scalars.
type Stepper interface {
	// Begin takes x_in and the starting x (both 3×h×w, unpadded, h×w ≤
	// the graph's padded size) and pads x_in into the input's channels 3..5.
	Begin(xin, x []float32, h, w int) error
	// Step pads x into the input's channels 0..2, runs the UNet, and
	// updates x in place: alpha/delta as sampler.Step, last selects the
	// final form.
	Step(time []float32, alpha, delta float32, last bool) error
	// Result reads x (3×h×w) back.
	Result(x []float32) error
}
