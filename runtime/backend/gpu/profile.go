package gpu

import (
	"fmt"
	"time"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/model"
)

// PassProfile is where one UNet pass spends its time on the GPU (the
// browser's profile request, site/PROTOCOL.md). The js tags name the
// fields for the bridge, which hands the struct to JavaScript as it is.
type PassProfile struct {
	Width        int           `js:"width"`
	Height       int           `js:"height"`
	PaddedWidth  int           `js:"paddedWidth"`
	PaddedHeight int           `js:"paddedHeight"`
	Reps         int           `js:"reps"`
	Dispatches   int           `js:"dispatches"`
	Kernels      []KernelShare `js:"kernels"`
	SummedMs     float64       `js:"summedMs"`    // sum over the dispatches, each timed alone
	PassMs       float64       `js:"passMs"`      // one ordinary pass (Program.Run) after a warm-up one
	FirstPassMs  float64       `js:"firstPassMs"` // the warm-up pass: first-use costs included
	CompileMs    float64       `js:"compileMs"`
	Summary      string        `js:"summary"`
}

// KernelShare is one kernel's row of a PassProfile.
type KernelShare struct {
	Kernel string  `js:"kernel"`
	Millis float64 `js:"ms"`    // per pass, summed over the kernel's dispatches
	Count  int     `js:"count"` // dispatches per pass
	Share  float64 `js:"share"` // of SummedMs, 0–1
}

// ProfilePass compiles g, runs it twice (a warm-up, then the timed
// ordinary pass) and times every dispatch reps times (Program.Profile),
// summed by kernel. pause, if set, runs between the long waits (the
// browser gives its event loop a turn there).
func (b *Backend) ProfilePass(g *backend.Graph, w backend.Weights, timeVec []float32, reps int, pause func()) (PassProfile, error) {
	res := PassProfile{PaddedWidth: g.Input.W, PaddedHeight: g.Input.H, Reps: reps}
	ms := func(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
	start := time.Now()
	prog, err := b.Compile(g, w, false)
	if err != nil {
		return res, fmt.Errorf("gpu: profile: compile the %dx%d pass: %w", g.Input.W, g.Input.H, err)
	}
	defer prog.Close()
	res.CompileMs = ms(start)
	// Any input times alike; a fixed ramp in [-1, 1] keeps runs comparable.
	in := make([]float32, g.Input.Len())
	for i := range in {
		in[i] = float32(i%255)/127 - 1
	}
	out := make([]float32, g.Output.Len())
	for i, dst := range []*float64{&res.FirstPassMs, &res.PassMs} {
		if pause != nil {
			pause()
		}
		start = time.Now()
		if err := prog.Run(in, timeVec, out); err != nil {
			return res, fmt.Errorf("gpu: profile: pass %d: %w", i+1, err)
		}
		*dst = ms(start)
	}
	if pause != nil {
		pause()
	}
	gp := prog.(*Program)
	times, err := gp.Profile(reps)
	if err != nil {
		return res, err
	}
	kernels, total := ByKernel(times)
	res.Dispatches, res.SummedMs, res.Summary = len(times), total*1e3, gp.Summary()
	for _, k := range kernels {
		res.Kernels = append(res.Kernels, KernelShare{Kernel: k.Kernel, Millis: k.Seconds * 1e3, Count: k.Count, Share: k.Seconds / total})
	}
	return res, nil
}

// ProfileModel profiles one pass of m's UNet on a w×h tile (ProfilePass),
// padded as a restore pads a tile (right and bottom, to a multiple of
// 2^levels) and at sampler time 500.
func (b *Backend) ProfileModel(m *model.Model, w, h, reps int, pause func()) (PassProfile, error) {
	mult := model.Multiple(m.Cfg)
	g, err := m.Graph((h+mult-1)/mult*mult, (w+mult-1)/mult*mult)
	if err != nil {
		return PassProfile{}, err
	}
	tv := make([]float32, m.TimeLen())
	m.NewTimeEncoder().Encode(tv, 500)
	p, err := b.ProfilePass(g, m.Params, tv, reps, pause)
	p.Width, p.Height = w, h
	return p, err
}
