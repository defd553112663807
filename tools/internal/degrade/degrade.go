package degrade

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/diffuir-web/diffuir/runtime/imageio"
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
func (t Task) ID() int {
	for i, u := range Tasks {
		if u == t {
			return i
		}
	}
	return -1
}

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
func (p Params) String() string {
	names := make([]string, 0, len(p.Values))
	for k := range p.Values {
		names = append(names, k)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString(string(p.Task))
	for _, k := range names {
		fmt.Fprintf(&b, " %s=%.4g", k, p.Values[k])
	}
	return b.String()
}

// Range documents one parameter: the interval its value is drawn from.
// Pixel sizes are for a 512-pixel long side (multiply by "scale").
type Range struct {
	Name     string
	Min, Max float64
	Doc      string
}

var ranges = map[Task][]Range{
	Haze: {
		{"beta", 0.5, 2.5, "scattering coefficient β, uniform"},
		{"airlight", 0.7, 1.0, "airlight A, uniform"},
		{"tint", -0.03, 0.03, "airlight tint: R = A·(1−tint), B = A·(1+tint), each capped at 1; uniform"},
		{"vertical", 0.4, 0.85, "weight of the vertical gradient in the depth proxy (rest: value noise)"},
		{"depth_min", 0.2, 0.4, "nearest depth of the proxy (depth spans [depth_min, 1])"},
		{"mean_t", 0, 1, "resulting mean transmission (derived)"},
	},
	LowLight: {
		{"exposure", 0.05, 0.4, "exposure scale in linear light, log-uniform"},
		{"gamma", 1.5, 3, "gamma applied in linear light, uniform"},
		{"shot", 1e-4, 2e-3, "shot-noise gain a (noise variance a·L' + b²), log-uniform"},
		{"read", 1e-4, 1e-3, "read-noise std b in linear units, log-uniform"},
	},
	Rain: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"layers", 1, 3, "number of streak layers"},
		{"angle", -30, 30, "streak angle from vertical in degrees, uniform (each layer ±5 more)"},
		{"density", 5e-4, 1.2e-2, "drops per pixel of the densest layer (at scale 1), log-uniform"},
		{"length", 10, 40, "streak length of the longest layer in pixels, uniform"},
		{"brightness", 0.3, 0.85, "peak streak intensity of the brightest layer, uniform"},
		{"width", 1, 2.5, "streak width of the nearest layer in pixels (farther layers: 1, softened), uniform"},
	},
	Snow: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"density", 2e-4, 3e-3, "flakes per pixel (at scale 1), log-uniform"},
		{"large_frac", 0.05, 0.3, "fraction of large flakes (radius 3-6 px); small (0.6-1.5) and medium (1.5-3) share the rest 2:1"},
		{"motion", 0, 12, "motion-blur length of the flake layer in pixels: 0 with probability 0.5, else uniform 3-12"},
		{"angle", -60, 60, "motion direction from vertical in degrees, uniform"},
		{"veil_t", 0.75, 0.95, "transmission of the uniform haze veil, uniform"},
		{"veil_a", 0.8, 1.0, "airlight of the veil, uniform"},
		{"flake_level", 0.85, 1.0, "flake brightness, uniform"},
	},
	Blur: {
		{"scale", 0.5, 2, "pixel-size factor: long side / 512, clamped"},
		{"defocus", 0, 1, "kernel kind: 0 = random-walk motion (p 0.6), 1 = defocus disc (p 0.4)"},
		{"extent", 7, 25, "motion: trajectory extent in pixels, uniform"},
		{"radius", 1.5, 5, "defocus: disc radius in pixels, uniform"},
		{"noise", 0.002, 0.01, "Gaussian noise std in [0,1] units, uniform"},
	},
}

// Ranges lists the parameters of task t and the intervals they are drawn
// from (nil for an unknown task).
func Ranges(t Task) []Range {
	return append([]Range(nil), ranges[t]...)
}

// Apply degrades img with task t, deterministically in seed. img is not
// modified; the result has the same size, depth and alpha.
func Apply(img *imageio.Image, t Task, seed uint64) (*imageio.Image, Params, error) {
	p := Params{Task: t, Seed: seed, Values: map[string]float64{}}
	if img == nil || img.W <= 0 || img.H <= 0 || len(img.RGB) != 3*img.W*img.H {
		return nil, p, errors.New("degrade: empty or inconsistent image")
	}
	id := t.ID()
	if id < 0 {
		return nil, p, fmt.Errorf("degrade: unknown task %q", t)
	}
	out := &imageio.Image{W: img.W, H: img.H, Depth: img.Depth, RGB: append([]float32(nil), img.RGB...)}
	if img.Alpha != nil {
		out.Alpha = append([]float32(nil), img.Alpha...)
	}
	r := newRNG(seed, uint64(id)+1)
	f := frame{w: img.W, h: img.H, scale: pixelScale(img.W, img.H)}
	switch t {
	case Haze:
		haze(out, f, r, p.Values)
	case LowLight:
		lowLight(out, r, p.Values)
	case Rain:
		rain(out, f, r, p.Values)
	case Snow:
		snow(out, f, r, p.Values)
	case Blur:
		blur(out, f, r, p.Values)
	}
	for i, v := range out.RGB {
		out.RGB[i] = clamp01(v)
	}
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

func clamp01(v float32) float32 {
	if v < 0 {
		return 0
	}
	if v > 1 {
		return 1
	}
	if v != v { // NaN
		return 0
	}
	return v
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
