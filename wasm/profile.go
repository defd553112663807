//go:build js && wasm

package main

import (
	"fmt"
	"syscall/js"
	"time"

	"github.com/norunners/vert"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// profileGPU, when the GPU backend is linked in (gpu.go), times every
// dispatch of a compiled UNet pass reps times (gpu.Program.Profile) and fills
// out's per-kernel table, sums and summary.
var profileGPU func(p backend.Program, reps int, out *profileResult) error

type profileOptions struct {
	Width  int `js:"width"`
	Height int `js:"height"`
	Reps   int `js:"reps"` // dispatches per submit; 0: defaultProfileReps
}

// defaultProfileReps matches the native lavapipe profile in docs/BENCHMARKS.md
// (-ops.reps 2), so the two tables are measured alike.
const defaultProfileReps = 2

type kernelTime struct {
	Kernel string  `js:"kernel"`
	Millis float64 `js:"ms"`    // per pass, summed over the kernel's dispatches
	Count  int     `js:"count"` // dispatches per pass
	Share  float64 `js:"share"` // of summedMs, 0–1
}

type profileResult struct {
	Width        int          `js:"width"`
	Height       int          `js:"height"`
	PaddedWidth  int          `js:"paddedWidth"`
	PaddedHeight int          `js:"paddedHeight"`
	Reps         int          `js:"reps"`
	Dispatches   int          `js:"dispatches"`
	Kernels      []kernelTime `js:"kernels"`
	SummedMs     float64      `js:"summedMs"`    // sum over the dispatches, each timed alone
	PassMs       float64      `js:"passMs"`      // one ordinary pass (Program.Run) after a warm-up one
	FirstPassMs  float64      `js:"firstPassMs"` // the warm-up pass: first-use costs included
	CompileMs    float64      `js:"compileMs"`
	Summary      string       `js:"summary"`
	Backend      backendInfo  `js:"backend"`
}

// profile answers where a UNet pass at one image size spends its time on
// the GPU: it compiles the pass for the size a restore would pad a tile of
// width×height to, runs it twice (a warm-up, then the timed ordinary pass),
// and profiles every dispatch. A developer and benchmark request: it does
// not touch the restorer beyond freeing its program.
func (b *bridge) profile(args []js.Value) (any, error) {
	var o profileOptions
	if v := arg(args, 0); v.Type() == js.TypeObject {
		if err := vert.ValueOf(v).AssignTo(&o); err != nil {
			return nil, coded(ErrBadRequest, "profile options: "+err.Error(), err)
		}
	}
	if o.Width < 1 || o.Height < 1 || o.Width*o.Height > maxPixels {
		return nil, coded(ErrBadRequest, fmt.Sprintf("profile size %dx%d: want a width and height of at least 1 and at most %d pixels", o.Width, o.Height, maxPixels), nil)
	}
	if o.Reps < 0 || o.Reps > 100 {
		return nil, coded(ErrBadRequest, fmt.Sprintf("profile reps %d: want 1 to 100 (0: %d)", o.Reps, defaultProfileReps), nil)
	}
	if o.Reps == 0 {
		o.Reps = defaultProfileReps
	}
	b.job.Lock()
	defer b.job.Unlock()
	if b.model == nil {
		return nil, coded(ErrNoModel, "no model is loaded", nil)
	}
	if b.beInfo.Kind != "gpu" || profileGPU == nil {
		return nil, coded(ErrBackend, fmt.Sprintf("profile needs the GPU backend; this worker runs on the CPU (%s)", b.beInfo.Reason), nil)
	}
	// The pad of runtime/restore's restoreTile: right and bottom, to a multiple of model.Multiple.
	m := model.Multiple(b.model.Cfg)
	res := profileResult{Width: o.Width, Height: o.Height, PaddedWidth: (o.Width + m - 1) / m * m,
		PaddedHeight: (o.Height + m - 1) / m * m, Reps: o.Reps, Backend: b.beInfo}
	g, err := b.model.Graph(res.PaddedHeight, res.PaddedWidth)
	if err != nil {
		return nil, coded(ErrInternal, fmt.Sprintf("profile: UNet graph for %dx%d: %v", res.PaddedWidth, res.PaddedHeight, err), err)
	}
	// The restorer's program would sit beside this one in GPU memory.
	b.dropRestorer()
	start := time.Now()
	prog, err := b.be.Compile(g, b.model.Params, false)
	if err != nil {
		return nil, coded(ErrBackend, fmt.Sprintf("profile: compile the %dx%d pass: %v", res.PaddedWidth, res.PaddedHeight, err), err)
	}
	defer prog.Close()
	res.CompileMs = millisSince(start)

	in := make([]float32, g.Input.Len())
	for c := range g.Input.C {
		for y := range g.Input.H {
			for x := range g.Input.W {
				in[(c*g.Input.H+y)*g.Input.W+x] = min(max(0.5*restore.Noise(1, c, y, x), -1), 1)
			}
		}
	}
	tv := make([]float32, b.model.TimeLen())
	b.model.NewTimeEncoder().Encode(tv, 500)
	out := make([]float32, g.Output.Len())
	for i, ms := range []*float64{&res.FirstPassMs, &res.PassMs} {
		yield() // one event-loop turn between long GPU waits
		start = time.Now()
		if err := prog.Run(in, tv, out); err != nil {
			return nil, coded(ErrBackend, fmt.Sprintf("profile: pass %d: %v", i+1, err), err)
		}
		*ms = millisSince(start)
	}
	yield()
	if err := profileGPU(prog, o.Reps, &res); err != nil {
		return nil, coded(ErrBackend, "profile: "+err.Error(), err)
	}
	return vert.ValueOf(res).Value, nil
}

func millisSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
