package restore

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/ref"
	"github.com/diffuir-web/diffuir/runtime/sampler"
	"github.com/diffuir-web/diffuir/runtime/tile"
)

// EqualizeMode chooses the low-light histogram equalization.
type EqualizeMode int

const (
	EqualizeAuto EqualizeMode = iota // equalize when the photo looks underexposed
	EqualizeOff
	EqualizeOn
)

// ErrBudget: Options.MemoryBudget is below what even the smallest tile needs.
var ErrBudget = errors.New("memory budget too small")

// Defaults for tiling: whole images up to DefaultTile on each side, tiles
// of that size overlapping by DefaultOverlap beyond.
const (
	DefaultTile    = 512
	DefaultOverlap = 32
)

// Options tune one restore. The zero value is a valid, fully deterministic
// restore with the model's default step count (noise scale 0).
type Options struct {
	Steps      int     // sampler steps, 1..20; 0 means the model's default
	Seed       uint64  // seed of the starting noise
	NoiseScale float32 // multiplies the starting noise; 0 makes the result deterministic, 1 is the authors' sampler
	Equalize   EqualizeMode
	Tile       int // tile side; 0 means DefaultTile, negative means the whole image in one pass
	Overlap    int // overlap between tiles; 0 means DefaultOverlap
	// MemoryBudget caps the activation memory of one tile's plan, in bytes
	// (0: no cap): tiles shrink until the plan fits, on any backend.
	MemoryBudget int64
	Progress     func(Progress)
	// Fallback, if set, takes over when the backend fails for good (a lost
	// GPU, or out of memory even with smaller tiles); Notice hears why.
	Fallback backend.Backend
	Notice   func(string)
}

func (o *Options) notice(format string, args ...any) {
	if o.Notice != nil {
		o.Notice(fmt.Sprintf(format, args...))
	}
}

// Progress reports a finished sampler step of a tile.
type Progress struct {
	Tile, Tiles int // 1-based tile index and count
	Step, Steps int // 1-based step index and count
}

// Restorer restores images with one model on one backend. It is not safe for
// concurrent use.
type Restorer struct {
	Model   *model.Model
	Backend backend.Backend
	sched   *sampler.Schedule
	time    *model.TimeEncoder
	prog    backend.Program // the last compiled program, reused while the padded size matches
	progH   int
	progW   int
}

// New binds m to be.
func New(m *model.Model, be backend.Backend) *Restorer {
	return &Restorer{Model: m, Backend: be, sched: sampler.NewSchedule(m.Cfg.Timesteps, m.Cfg.DeltaEnd), time: m.NewTimeEncoder()}
}

// Close releases the compiled program.
func (r *Restorer) Close() error {
	if r.prog == nil {
		return nil
	}
	err := r.prog.Close()
	r.prog = nil
	return err
}

// MemoryBytes is the activation memory of the program compiled last.
func (r *Restorer) MemoryBytes() int64 {
	if r.prog == nil {
		return 0
	}
	return r.prog.MemoryBytes()
}

// program returns a compiled program for the padded size h×w.
func (r *Restorer) program(h, w int) (backend.Program, error) {
	if r.prog != nil && r.progH == h && r.progW == w {
		return r.prog, nil
	}
	if err := r.Close(); err != nil {
		return nil, err
	}
	g, err := r.Model.Graph(h, w)
	if err != nil {
		return nil, err
	}
	p, err := r.Backend.Compile(g, r.Model.Params, false)
	if err != nil {
		return nil, err
	}
	r.prog, r.progH, r.progW = p, h, w
	return p, nil
}

// Thresholds of the automatic low-light decision (luma in [0, 1]).
const (
	underexposedMean = 0.2   // mean luma below this looks underexposed...
	highlightLuma    = 0.75  // ...unless this bright a level is reached
	highlightShare   = 0.001 // by at least this share of the pixels
)

// ShouldEqualize is the automatic low-light decision: the authors
// equalized their low-light inputs; we do so when the photo is dark on
// average (mean luma below 0.2) and has no highlights (fewer than 0.1% of
// its pixels reach luma 0.75). An underexposed frame is compressed as a
// whole, its brightest parts included (the synthetic recipe's brightest
// exposure, 0.4 in linear light, tops out at 0.66); a night sky, a lamp-lit
// street or a dark room with a window is dark by design and exposed for its
// highlights, and equalizing it would ruin it.
func ShouldEqualize(img *imageio.Image) bool {
	n := img.W * img.H
	if n == 0 {
		return false
	}
	var sum float64
	bright := 0
	R, G, B := img.RGB[:n], img.RGB[n:2*n], img.RGB[2*n:]
	for i := 0; i < n; i++ {
		y := 0.299*float64(R[i]) + 0.587*float64(G[i]) + 0.114*float64(B[i])
		sum += y
		if y >= highlightLuma {
			bright++
		}
	}
	return sum/float64(n) < underexposedMean && float64(bright) < highlightShare*float64(n)
}

// Restore restores img and returns a new image of the same size (alpha and
// bit depth kept). It honours ctx between sampler steps.
func (r *Restorer) Restore(ctx context.Context, img *imageio.Image, opt Options) (*imageio.Image, error) {
	if img == nil || img.W <= 0 || img.H <= 0 {
		return nil, errors.New("restore: empty image")
	}
	steps, err := r.steps(opt)
	if err != nil {
		return nil, err
	}
	src := img
	if opt.Equalize == EqualizeOn || (opt.Equalize == EqualizeAuto && ShouldEqualize(img)) {
		src = &imageio.Image{W: img.W, H: img.H, RGB: append([]float32(nil), img.RGB...), Depth: img.Depth}
		imageio.EqualizeHist(src)
	}
	size, overlap := opt.Tile, opt.Overlap
	if size == 0 {
		size = DefaultTile
	}
	if size < 0 {
		size = 0 // whole image
	}
	if overlap == 0 {
		overlap = DefaultOverlap
	}
	size, err = r.fitTile(img.W, img.H, size, opt.MemoryBudget)
	if err != nil {
		return nil, err
	}
	retried := false
	for {
		res, err := r.restoreTiles(ctx, src, img, size, overlap, steps, opt)
		switch {
		case err == nil || ctx.Err() != nil:
			return res, err
		case !retried && (errors.Is(err, backend.ErrLimits) || errors.Is(err, backend.ErrOutOfMemory)):
			// Release everything, then try once more with tiles of half the side.
			retried = true
			r.Close()
			side := size
			if side == 0 {
				side = max(img.W, img.H)
			}
			size = max(64, side/2)
			opt.notice("%s: %v; retrying with %d px tiles", r.Backend.Name(), err, size)
		case opt.Fallback != nil && r.Backend != opt.Fallback &&
			(errors.Is(err, backend.ErrDeviceLost) || errors.Is(err, backend.ErrOutOfMemory) || errors.Is(err, backend.ErrLimits)):
			r.Close()
			opt.notice("%s failed (%v); finishing on %s", r.Backend.Name(), err, opt.Fallback.Name())
			r.Backend = opt.Fallback
			size = DefaultTile
		default:
			return nil, err
		}
	}
}

// fitTile shrinks the tile side (0 = whole image) until every tensor of a
// tile's graph fits the backend's largest buffer, so a GPU with WebGPU's
// default 128 MiB bindings gets tiles it can hold instead of an error, and
// until the tile's activation plan fits budget (bytes, 0: none).
func (r *Restorer) fitTile(w, h, size int, budget int64) (int, error) {
	maxBytes := int64(math.MaxInt64)
	if lim, ok := r.Backend.(backend.BufferLimiter); ok {
		maxBytes = lim.MaxTensorBytes()
	}
	if maxBytes == math.MaxInt64 && budget <= 0 {
		return size, nil
	}
	mult := model.Multiple(r.Model.Cfg)
	for {
		tw, th := w, h
		if size > 0 {
			tw, th = min(w, size), min(h, size)
		}
		g, err := r.Model.Graph((th+mult-1)/mult*mult, (tw+mult-1)/mult*mult)
		if err != nil {
			return 0, fmt.Errorf("restore: %w", err)
		}
		largest := 0
		for _, t := range g.Tensors {
			largest = max(largest, t.Len())
		}
		planned := int64(0)
		if budget > 0 {
			planned = 4 * int64(g.PlanMemory([]backend.Tensor{g.Input, g.Output}).Total())
		}
		if int64(largest)*4 <= maxBytes && (budget <= 0 || planned <= budget) {
			return size, nil
		}
		side := max(tw, th)
		if side <= 2*mult {
			if int64(largest)*4 > maxBytes {
				return 0, fmt.Errorf("restore: %w: even a %dx%d tile needs a %d-byte buffer, the device allows %d",
					backend.ErrLimits, tw, th, largest*4, maxBytes)
			}
			return 0, fmt.Errorf("restore: %w: even a %dx%d tile plans %.1f MiB of activations, over the %.1f MiB budget",
				ErrBudget, tw, th, float64(planned)/(1<<20), float64(budget)/(1<<20))
		}
		// Round down: rounding 3/4 of the side up to the multiple could give
		// the side back (48 -> 36 -> 48) and loop forever.
		size = side * 3 / 4 / mult * mult
	}
}

func (r *Restorer) restoreTiles(ctx context.Context, src, img *imageio.Image, size, overlap int, steps []sampler.Step, opt Options) (*imageio.Image, error) {
	if size > 0 && size <= overlap {
		overlap = size / 4
	}
	tiles, err := tile.Plan(img.W, img.H, size, overlap)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	blend, err := tile.NewBlender(img.W, img.H, 3, tiles, overlap)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	for i, t := range tiles {
		tw, th := t.X1-t.X0, t.Y1-t.Y0
		xin := make([]float32, 3*tw*th)
		for c := 0; c < 3; c++ {
			for y := 0; y < th; y++ {
				row := src.RGB[(c*img.H+t.Y0+y)*img.W+t.X0:]
				for x := 0; x < tw; x++ {
					xin[(c*th+y)*tw+x] = row[x]*2 - 1
				}
			}
		}
		region := Region{X0: t.X0, Y0: t.Y0, W: tw, H: th}
		out, err := r.restoreTile(ctx, xin, region, steps, opt, i+1, len(tiles))
		if err != nil {
			return nil, err
		}
		if err := blend.Add(t, out); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	res := &imageio.Image{W: img.W, H: img.H, RGB: make([]float32, 3*img.W*img.H), Alpha: img.Alpha, Depth: img.Depth}
	if err := blend.Result(res.RGB); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}

func (r *Restorer) steps(opt Options) ([]sampler.Step, error) {
	n := opt.Steps
	if n == 0 {
		n = r.Model.Cfg.DefaultSteps
	}
	steps, err := r.sched.Steps(n)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return steps, nil
}

// Region places a tile in the whole image, so its noise matches the
// whole-image noise.
type Region struct{ X0, Y0, W, H int }

// RestorePlanar restores one region given x_in (3×H×W, values in [-1, 1])
// and returns the result in [0, 1], 3×H×W.
func (r *Restorer) RestorePlanar(ctx context.Context, xin []float32, reg Region, opt Options) ([]float32, error) {
	if reg.W <= 0 || reg.H <= 0 || len(xin) != 3*reg.W*reg.H {
		return nil, fmt.Errorf("restore: input of %d values for a %dx%d region", len(xin), reg.W, reg.H)
	}
	steps, err := r.steps(opt)
	if err != nil {
		return nil, err
	}
	return r.restoreTile(ctx, xin, reg, steps, opt, 1, 1)
}

func (r *Restorer) restoreTile(ctx context.Context, xin []float32, reg Region, steps []sampler.Step, opt Options, tileIdx, tiles int) ([]float32, error) {
	h, w := reg.H, reg.W
	m := model.Multiple(r.Model.Cfg)
	ph, pw := (h+m-1)/m*m, (w+m-1)/m*m
	prog, err := r.program(ph, pw)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	n, pn := h*w, ph*pw
	x := make([]float32, 3*n)
	tv := make([]float32, r.Model.TimeLen())
	r.sched.Init(x, xin, nil, 0)
	if opt.NoiseScale != 0 {
		ns := float32(0.1) * opt.NoiseScale // sqrt(sampler.SumScale)
		for c := 0; c < 3; c++ {
			for y := 0; y < h; y++ {
				for xx := 0; xx < w; xx++ {
					x[(c*h+y)*w+xx] += ns * Noise(opt.Seed, c, reg.Y0+y, reg.X0+xx)
				}
			}
		}
	}
	if sp, ok := prog.(backend.Stepper); ok {
		if err := r.stepOnDevice(ctx, sp, x, xin, h, w, steps, opt, tileIdx, tiles); err != nil {
			return nil, err
		}
		for i, v := range x {
			x[i] = min(max((v+1)/2, 0), 1)
		}
		return x, nil
	}
	rr := make([]float32, 3*n)
	in := make([]float32, 6*pn)
	out := make([]float32, 3*pn)
	// x_in's half of the network input is the same for every step.
	ref.ReflectPad(in[3*pn:], xin, 3, h, w, ph-h, pw-w)
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		ref.ReflectPad(in[:3*pn], x, 3, h, w, ph-h, pw-w)
		r.time.Encode(tv, st.TimeInput)
		if err := prog.Run(in, tv, out); err != nil {
			return nil, fmt.Errorf("restore: step %d: %w", i+1, err)
		}
		ref.Crop(rr, out, 3, ph, pw, h, w)
		sampler.Update(st, x, xin, rr)
		if opt.Progress != nil {
			opt.Progress(Progress{Tile: tileIdx, Tiles: tiles, Step: i + 1, Steps: len(steps)})
		}
	}
	for i, v := range x {
		x[i] = min(max((v+1)/2, 0), 1)
	}
	return x, nil
}

// stepOnDevice runs the sampler loop on a program that keeps x on the
// device: each step uploads only the time vector and the step's scalars.
// Steps are submitted without waiting, so Progress reports a submitted
// step (the GPU may still be working on it); Result waits for them all.
func (r *Restorer) stepOnDevice(ctx context.Context, sp backend.Stepper, x, xin []float32, h, w int, steps []sampler.Step, opt Options, tileIdx, tiles int) error {
	if err := sp.Begin(xin, x, h, w); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	tv := make([]float32, r.Model.TimeLen())
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("restore: %w", err)
		}
		r.time.Encode(tv, st.TimeInput)
		if err := sp.Step(tv, st.Alpha, st.Delta, st.Last); err != nil {
			return fmt.Errorf("restore: step %d: %w", i+1, err)
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Tile: tileIdx, Tiles: tiles, Step: i + 1, Steps: len(steps)})
		}
	}
	if err := sp.Result(x); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}
