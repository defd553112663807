package degrade

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

// Task names one degradation.
type Task string

// The five DiffUIR tasks.
const (
	Haze     Task = "haze"
	LowLight Task = "lowlight"
	Rain     Task = "rain"
	Snow     Task = "snow"
	Blur     Task = "blur"
)

// Tasks lists every task in a fixed order; a task's index in it is its id
// in training shards.
var Tasks = []Task{Haze, LowLight, Rain, Snow, Blur}

// ID is the task's index in Tasks, or -1 for an unknown task.
func (t Task) ID() int { return slices.Index(Tasks, t) }

// ParseTasks parses a comma-separated task list ("haze,rain"); "" and "all"
// mean every task. Duplicates are dropped; the order given is kept.
func ParseTasks(s string) ([]Task, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "all" {
		return append([]Task(nil), Tasks...), nil
	}
	var out []Task
	seen := map[Task]bool{}
	for _, f := range strings.Split(s, ",") {
		t := Task(strings.ToLower(strings.TrimSpace(f)))
		if t == "low-light" || t == "low_light" {
			t = LowLight
		}
		if t.ID() < 0 {
			return nil, fmt.Errorf("unknown task %q (want haze, lowlight, rain, snow or blur)", f)
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out, nil
}

// Params records what Apply drew for one image.
type Params struct {
	Task   Task
	Seed   uint64
	Values map[string]float64 // named parameters, each within Ranges(Task)
}

// String lists the values in name order, e.g. "haze beta=1.2 ...".
func (p Params) String() string { return string(p.Task) + synth.Values(p.Values) }

// Range documents one parameter: the interval its value is drawn from.
// Pixel sizes are for a 512-pixel long side (multiply by "scale").
type Range struct {
	Name     string
	Min, Max float64
	Doc      string
}

// extraRanges are the finishing touches every task may get (see extras).
var extraRanges = []Range{
	{"x_noise", 0, 0.02, "extra Gaussian noise std (p 0.3; 0: none), log-uniform 0.002-0.02"},
	{"x_gray_noise", 0, 1, "1: that noise is the same in the three channels (p 0.4)"},
	{"x_resize", 0, 0.9, "down-and-up resize factor (p 0.3; 0: none), uniform 0.5-0.9, area down"},
	{"x_resize_up", 0, 1, "resize back up: 0 bilinear, 1 bicubic (Catmull-Rom)"},
	{"x_jpeg", 0, 95, "JPEG quality (p 0.4; 0: none), uniform 35-95"},
}

var ranges = map[Task][]Range{
	Haze: {
		{"proxy", 0, 3, "depth proxy: 0 vertical gradient + value noise (p 0.4), 1 tilted plane (0.25), 2 fractal value noise (0.2), 3 radial (0.15)"},
		{"beta", 0.4, 3.0, "scattering coefficient β, uniform"},
		{"airlight", 0.6, 1.0, "airlight level A (green), uniform"},
		{"tint_r", -0.06, 0.06, "airlight tint: red ×(1+tint_r), uniform"},
		{"tint_b", -0.06, 0.06, "airlight tint: blue ×(1+tint_b), uniform"},
		{"ramp", -0.15, 0.15, "non-uniform airlight: ×(1 + ramp·p), p from −0.5 to 0.5 along a random direction"},
		{"vertical", 0.4, 0.85, "proxy 0: weight of the vertical gradient (rest: value noise)"},
		{"plane_angle", 0, 360, "proxy 1: direction in which the plane recedes, degrees"},
		{"depth_min", 0.1, 0.4, "nearest depth (the proxy spans [depth_min, 1])"},
		{"mean_t", 0, 1, "resulting mean transmission (derived)"},
	},
	LowLight: {
		{"exposure", 0.03, 0.45, "exposure scale in linear light, log-uniform"},
		{"gamma", 1.0, 3.0, "gamma applied in linear light, uniform"},
		{"shot", 5e-5, 4e-3, "shot-noise gain a (noise variance a·L' + b²), log-uniform"},
		{"read", 1e-4, 2e-3, "read-noise std b in linear units, log-uniform"},
		{"wb_r", 0.8, 1.2, "colour shift: red gain in linear light, uniform"},
		{"wb_b", 0.8, 1.2, "colour shift: blue gain in linear light, uniform"},
		{"desaturate", 0, 0.5, "saturation loss (p 0.3; else 0)"},
		{"luma_noise", 0, 1, "1: the same noise in all three channels (p 0.3)"},
	},
	Rain: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"layers", 1, 4, "number of streak layers"},
		{"angle", -40, 40, "streak angle from vertical in degrees, uniform (each layer ±6 more)"},
		{"density", 3e-4, 1.5e-2, "drops per pixel of the densest layer (at scale 1), log-uniform"},
		{"length", 6, 50, "streak length of the nearest layer in pixels, uniform (farther: ×0.3-0.8)"},
		{"brightness", 0.2, 0.9, "peak streak intensity of the nearest layer, uniform (farther: ×0.4-0.8)"},
		{"width", 1, 3, "streak width of the nearest layer in pixels, uniform (farther: 1 to 0.6×, softened)"},
		{"blend", 0, 2, "0 screen, 1 add, 2 over a grey-white rain colour (0.75-1)"},
		{"veil", 0, 0.25, "rain veil: share of airlight mixed in (p 0.5; else 0)"},
		{"veil_a", 0.7, 0.95, "airlight of the veil"},
		{"drops", 0, 22, "lens drops (p 0.3): blurred, lifted discs of radius 4-20 px"},
	},
	Snow: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"density", 1.5e-4, 4e-3, "flakes per pixel (at scale 1), log-uniform"},
		{"large_frac", 0.05, 0.3, "fraction of large flakes (radius 3-6 px); small (0.6-1.5) and medium (1.5-3) share the rest 2:1"},
		{"bokeh_frac", 0, 0.08, "fraction of out-of-focus flakes (radius 6-14 px, opacity 0.15-0.5, soft; p 0.4, else 0)"},
		{"specks", 0, 1.5e-2, "far specks per pixel (radius 0.3-0.7 px, p 0.5, else 0), log-uniform from 1e-3"},
		{"motion", 0, 20, "motion streak of the near flakes in pixels: 0 with probability 0.5, else uniform 3-20"},
		{"angle", -60, 60, "motion direction from vertical in degrees, uniform"},
		{"veil_t", 0.65, 1.0, "transmission of the uniform haze veil, uniform"},
		{"veil_a", 0.75, 1.0, "airlight of the veil, uniform"},
		{"flake_level", 0.8, 1.0, "flake brightness, uniform"},
	},
	Blur: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"kind", 0, 3, "0 random-walk camera shake (p 0.35), 1 linear motion (0.25), 2 defocus disc (0.2), 3 Gaussian (0.2)"},
		{"extent", 5, 28, "shake: trajectory extent in pixels, uniform"},
		{"length", 3, 30, "linear: length in pixels, uniform"},
		{"angle", -90, 90, "linear: direction in degrees, uniform"},
		{"radius", 1, 6, "defocus: disc radius in pixels, uniform"},
		{"sigma", 0.6, 3.5, "Gaussian: std in pixels, uniform"},
		{"noise", 0.001, 0.01, "Gaussian noise std in [0,1] units, uniform"},
	},
}

// Ranges lists the parameters of task t and the intervals they are drawn
// from, the extras every task may get last (nil for an unknown task).
func Ranges(t Task) []Range {
	if ranges[t] == nil {
		return nil
	}
	return append(append([]Range(nil), ranges[t]...), extraRanges...)
}

// Apply degrades img with task t, deterministically in seed. img is not
// modified; the result has the same size, depth and alpha.
func Apply(img *imageio.Image, t Task, seed uint64) (*imageio.Image, Params, error) {
	p := Params{Task: t, Seed: seed, Values: map[string]float64{}}
	out, err := synth.Copy(img)
	if err != nil {
		return nil, p, fmt.Errorf("degrade: %w", err)
	}
	id := t.ID()
	if id < 0 {
		return nil, p, fmt.Errorf("degrade: unknown task %q", t)
	}
	r := newRNG(seed, uint64(id)+1)
	f := frame{w: img.W, h: img.H, scale: pixelScale(img.W, img.H)}
	switch t {
	case Haze:
		haze(out, f, r, p.Values)
	case LowLight:
		lowLight(out, f, r, p.Values)
	case Rain:
		rain(out, f, r, p.Values)
	case Snow:
		snow(out, f, r, p.Values)
	case Blur:
		blur(out, f, r, p.Values)
	}
	synth.Clamp(out.RGB)
	extras(out, f, r, p.Values)
	synth.Clamp(out.RGB)
	return out, p, nil
}

// frame is the image geometry shared by the recipes.
type frame struct {
	w, h  int
	scale float64 // pixel sizes are for a 512 long side, times scale
}

func pixelScale(w, h int) float64 {
	return math.Min(math.Max(float64(max(w, h))/512, 0.5), 2)
}

// Downscale returns img reduced by area averaging so its long side is at
// most maxSide (img itself when it already fits or maxSide <= 0). Training
// and evaluation both use it, so they see the same pixels.
func Downscale(img *imageio.Image, maxSide int) *imageio.Image {
	if maxSide <= 0 || max(img.W, img.H) <= maxSide {
		return img
	}
	s := float64(maxSide) / float64(max(img.W, img.H))
	nw := max(1, int(math.Round(float64(img.W)*s)))
	nh := max(1, int(math.Round(float64(img.H)*s)))
	out := &imageio.Image{W: nw, H: nh, Depth: img.Depth, RGB: make([]float32, 3*nw*nh)}
	n, nn := img.W*img.H, nw*nh
	for c := range 3 {
		resizePlane(img.RGB[c*n:(c+1)*n], img.W, img.H, out.RGB[c*nn:(c+1)*nn], nw, nh)
	}
	if img.Alpha != nil {
		out.Alpha = make([]float32, nn)
		resizePlane(img.Alpha, img.W, img.H, out.Alpha, nw, nh)
	}
	return out
}

// resizePlane is a separable area (box) resampler for downscaling.
func resizePlane(src []float32, w, h int, dst []float32, nw, nh int) {
	tmp := make([]float32, nw*h)
	wx := areaWeights(w, nw)
	for y := range h {
		row := src[y*w : (y+1)*w]
		for x, ws := range wx {
			var s float64
			for _, t := range ws {
				s += float64(row[t.i]) * t.w
			}
			tmp[y*nw+x] = float32(s)
		}
	}
	wy := areaWeights(h, nh)
	for y, ws := range wy {
		for x := range nw {
			var s float64
			for _, t := range ws {
				s += float64(tmp[t.i*nw+x]) * t.w
			}
			dst[y*nw+x] = float32(s)
		}
	}
}

type tap struct {
	i int
	w float64
}

// areaWeights gives, per output sample, the source samples it covers and
// their coverage fractions (summing to 1).
func areaWeights(n, m int) [][]tap {
	out := make([][]tap, m)
	r := float64(n) / float64(m)
	for j := range m {
		a, b := float64(j)*r, float64(j+1)*r
		for i := int(a); i < n && float64(i) < b; i++ {
			lo, hi := math.Max(a, float64(i)), math.Min(b, float64(i+1))
			if hi > lo {
				out[j] = append(out[j], tap{i, (hi - lo) / r})
			}
		}
	}
	return out
}
