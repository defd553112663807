package restore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/sampler"
)

// EqualizeMode chooses the low-light histogram equalization.
type EqualizeMode int

const (
	EqualizeAuto EqualizeMode = iota // equalize when the photo looks underexposed
	EqualizeOff
	EqualizeOn
)

// ErrOption: an option's value is out of its range or not one this
// package knows.
var ErrOption = errors.New("bad option")

// ErrNoModel: a Restorer was asked to work before it had a model.
var ErrNoModel = errors.New("no model is loaded")

func (m EqualizeMode) String() string { return [...]string{"auto", "off", "on"}[m] }

// ParseEqualize reads an EqualizeMode: "auto" (or ""), "on" or "off", and
// the boolean spellings a command-line flag gets (true, 1, false, 0).
func ParseEqualize(s string) (EqualizeMode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return EqualizeAuto, nil
	case "on", "true", "1":
		return EqualizeOn, nil
	case "off", "false", "0":
		return EqualizeOff, nil
	}
	return 0, fmt.Errorf("%w: equalize %q: want auto, on or off", ErrOption, s)
}

// ErrBudget: Options.MemoryBudget is below what even the smallest tile needs.
var ErrBudget = errors.New("memory budget too small")

// Defaults for tiling: whole images up to DefaultTile on each side, tiles
// of that size overlapping by DefaultOverlap beyond. MinTile keeps a
// mistyped side from cutting a photo into millions of tiles;
// MaxNoiseScale bounds Options.NoiseScale.
const (
	DefaultTile    = 512
	DefaultOverlap = 32
	MinTile        = 8
	MaxNoiseScale  = 10
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
}

// Check reports the first option out of its range (ErrOption). Restores
// check too; callers that can fail before decoding a photo call it first.
// The step count's upper bound is the model's (Restorer.Plan).
func (o Options) Check() error {
	var what string
	switch {
	case o.Steps < 0 || o.Steps > sampler.MaxSteps:
		what = fmt.Sprintf("%d steps: want 1 to %d, 0 for the model's default", o.Steps, sampler.MaxSteps)
	case !(o.NoiseScale >= 0 && o.NoiseScale <= MaxNoiseScale):
		what = fmt.Sprintf("noise scale %v: want 0 to %d", o.NoiseScale, MaxNoiseScale)
	case o.Equalize < EqualizeAuto || o.Equalize > EqualizeOn:
		what = fmt.Sprintf("equalize mode %d", int(o.Equalize))
	case o.Tile > 0 && o.Tile < MinTile:
		what = fmt.Sprintf("tile %d: want at least %d pixels, 0 (default) or negative (whole image)", o.Tile, MinTile)
	case o.Overlap < 0:
		what = fmt.Sprintf("overlap %d must not be negative", o.Overlap)
	case o.MemoryBudget < 0:
		what = "the memory budget must not be negative"
	default:
		return nil
	}
	return fmt.Errorf("restore: %w: %s", ErrOption, what)
}

// Report says how a restore ran; the CLI prints it and the browser's
// bridge hands it to JavaScript as it is (the js tags name the fields
// there, site/PROTOCOL.md).
type Report struct {
	Backend     BackendInfo `js:"backend"`   // the backend that finished the job
	Equalized   bool        `js:"equalized"` // the low-light equalization ran
	Tiles       int         `js:"tiles"`
	TileSize    int         `js:"tileSize"` // side of the tiles; 0: the whole image in one pass
	Steps       int         `js:"steps"`
	MemoryBytes int64       `js:"memoryBytes"` // activation memory of one tile's program
	// Fallback, when set, says why the GPU gave up and the CPU finished.
	Fallback string   `js:"fallback"`
	Notes    []string `js:"notes"` // retries with smaller tiles
}

// Progress reports a finished sampler step of a tile.
type Progress struct {
	Tile, Tiles int // 1-based tile index and count
	Step, Steps int // 1-based step index and count
}

// Done counts the sampler steps of the whole job: done so far, of total.
func (p Progress) Done() (done, total int) { return (p.Tile-1)*p.Steps + p.Step, p.Tiles * p.Steps }

// Restorer restores images with one model on one backend. It is not safe for
// concurrent use. When a GPU backend fails for good (device lost, out of
// memory or beyond its limits even with smaller tiles) the Restorer closes
// it and moves to the CPU backend, for this restore and the later ones.
// Long-lived callers (the browser's worker) keep one Restorer and swap its
// model (SetModel) and backend (Use).
type Restorer struct {
	Model   *model.Model // nil until SetModel: restores fail with ErrNoModel
	Backend backend.Backend
	// Reason says why Backend was chosen (BackendInfo.Reason of
	// OpenBackend); reports carry it.
	Reason   string
	sched    *sampler.Schedule
	time     *model.TimeEncoder
	prog     backend.Program // the last compiled program, reused while the padded size matches
	progH    int
	progW    int
	fallback string // why the last restore moved to the CPU, until reported
}

// New binds m (nil: none yet) to be.
func New(m *model.Model, be backend.Backend) *Restorer {
	r := &Restorer{Backend: be}
	r.SetModel(m)
	return r
}

// SetModel replaces the model, dropping the program compiled for the old one.
func (r *Restorer) SetModel(m *model.Model) {
	r.Close()
	r.Model = m
	if m != nil {
		r.sched, r.time = sampler.NewSchedule(m.Cfg.Timesteps, m.Cfg.DeltaEnd), m.NewTimeEncoder()
	}
}

// Use replaces the backend, closing the old one (unless it is be) and its
// program; reason is be's BackendInfo.Reason.
func (r *Restorer) Use(be backend.Backend, reason string) {
	r.Close()
	if r.Backend != nil && r.Backend != be {
		r.Backend.Close()
	}
	r.Backend, r.Reason = be, reason
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

// program returns a compiled program for an h×w tile (padded to the
// model's multiple).
func (r *Restorer) program(h, w int) (backend.Program, error) {
	m := model.Multiple(r.Model.Cfg)
	h, w = (h+m-1)/m*m, (w+m-1)/m*m
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
// bit depth kept) and how it ran. It honours ctx between sampler steps. On
// ErrLimits or ErrOutOfMemory it retries once with tiles of half the side;
// a GPU that still fails hands the job to the CPU (Report.Fallback).
func (r *Restorer) Restore(ctx context.Context, img *imageio.Image, opt Options) (*imageio.Image, Report, error) {
	var notes []string
	retried := false
	for {
		p, err := r.Plan(img, opt)
		if err != nil {
			return nil, Report{}, err
		}
		res, err := r.run(ctx, p)
		rep := r.Report(p)
		rep.Notes = notes
		switch {
		case err == nil:
			return res, rep, nil
		case ctx.Err() != nil || errors.Is(err, ErrBudget):
			return nil, rep, err
		case !retried && (errors.Is(err, backend.ErrLimits) || errors.Is(err, backend.ErrOutOfMemory)):
			// Release everything, then try once more with tiles of half the side.
			retried = true
			r.Close()
			side := p.TileSize
			if side == 0 {
				side = max(img.W, img.H)
			}
			opt.Tile = max(64, side/2)
			notes = append(notes, fmt.Sprintf("%s: %v; retrying with %d px tiles", r.Backend.Name(), err, opt.Tile))
		case r.Backend.Device().GPU:
			r.Close()
			r.Backend.Close() // lost or unable: the CPU takes its place for good
			r.fallback = fmt.Sprintf("the GPU failed (%v); finished on the CPU", err)
			r.Backend, r.Reason = &cpu.Backend{}, r.fallback
		default:
			return nil, rep, err
		}
	}
}

// Report says how p ran on r: callers that restore p's tiles themselves
// (RestoreTiles, Blend) report as Restore does. A fallback is reported
// once, to the restore it happened in.
func (r *Restorer) Report(p *Plan) Report {
	rep := Report{Backend: Describe(r.Backend, r.Reason), Equalized: p.Equalized, Tiles: len(p.Tiles), TileSize: p.TileSize,
		Steps: p.Steps(), MemoryBytes: r.MemoryBytes(), Fallback: r.fallback}
	r.fallback = ""
	return rep
}

// run restores every tile of p and blends them.
func (r *Restorer) run(ctx context.Context, p *Plan) (*imageio.Image, error) {
	all := make([]int, len(p.Tiles))
	for i := range all {
		all[i] = i
	}
	outs, err := r.RestoreTiles(ctx, p, all)
	if err != nil {
		return nil, err
	}
	return p.Blend(outs)
}

// steps checks opt and the model and returns the sampler's steps.
func (r *Restorer) steps(opt Options) ([]sampler.Step, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if r.Model == nil {
		return nil, fmt.Errorf("restore: %w", ErrNoModel)
	}
	n := opt.Steps
	if n == 0 {
		n = r.Model.Cfg.DefaultSteps
	}
	steps, err := r.sched.Steps(n)
	if err != nil {
		return nil, fmt.Errorf("restore: %w: %w", ErrOption, err)
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

// restoreTile runs the sampler on one tile: the starting point from x_in
// and the position-keyed noise, then the steps on the program's Stepper.
// Steps may be submitted without waiting (the GPU), so Progress reports a
// submitted step; Result waits for them all.
func (r *Restorer) restoreTile(ctx context.Context, xin []float32, reg Region, steps []sampler.Step, opt Options, tileIdx, tiles int) ([]float32, error) {
	h, w := reg.H, reg.W
	prog, err := r.program(h, w)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	x := make([]float32, 3*h*w)
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
	if err := prog.Begin(xin, x, h, w); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	tv := make([]float32, r.Model.TimeLen())
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
		r.time.Encode(tv, st.TimeInput)
		if err := prog.Step(tv, st.Alpha, st.Delta, st.Last); err != nil {
			return nil, fmt.Errorf("restore: step %d: %w", i+1, err)
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Tile: tileIdx, Tiles: tiles, Step: i + 1, Steps: len(steps)})
		}
	}
	if err := prog.Result(x); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	for i, v := range x {
		x[i] = min(max((v+1)/2, 0), 1)
	}
	return x, nil
}
