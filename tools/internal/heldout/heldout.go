// Package heldout degrades photos for evaluation only: a second family of
// haze, low-light, rain, snow and blur recipes, written apart from the
// training recipes in tools/internal/degrade and built on different
// algorithms (not other parameters of the same ones), so a score on them
// says how a model does on degradations it never trained on.
//
// Never make training data with it: tools/train (mkshard) must not import
// this package, which TestNeverImportedByTraining checks with `go list`.
//
// What differs from the training family, task by task:
//
//   - haze: the depth comes from the photo itself (bright, grey regions are
//     taken as far: sky, distance) or from a tilted horizon line, never from
//     gradients or value noise; scattering depends on wavelength (blue
//     scatters more, per-channel transmission) and the airlight carries a
//     warm sun glow (a Gaussian bump), not a tint or a ramp;
//   - lowlight: a camera pipeline run backwards and forwards (after Brooks et
//     al. 2019, "Unprocessing"): pure-gamma linearization, inverse white
//     balance, an RGGB Bayer mosaic, photon counts drawn from a Poisson law,
//     read and row noise, 10-bit quantization, bilinear demosaicking and a
//     slightly wrong white balance; or a flat "phone night shot": sRGB-space
//     scaling with lifted blacks and blotchy (low-pass) chroma noise;
//   - rain: streaks grown from thresholded white noise smeared by a motion
//     filter (the classic photo-editor recipe), composited by "lighten" or
//     as refraction (the background displaced under each streak), never
//     drawn as strokes;
//   - snow: flakes from thresholded coarse noise upsampled into irregular
//     blobs, defocused with a Gaussian per layer, screened on, under a cold
//     colour cast and a fog that thickens towards the top;
//   - blur: a camera-shake path through random control points (Catmull-Rom
//     spline, exposure weighted by speed), a zoom (radial, spatially varying)
//     blur, or a polygonal-aperture defocus with a bright rim applied in
//     linear light; the training family has random walks, straight lines,
//     discs and isotropic Gaussians.
//
// Sizes are fractions of the image's long side. Apply is deterministic in
// its seed (its own generator, xoshiro256**).
package heldout

import (
	"fmt"
	"math"
	"slices"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

// Tasks lists the five tasks, named as in the training family.
var Tasks = []string{"haze", "lowlight", "rain", "snow", "blur"}

// Params records the recipe chosen and the values drawn for one image.
type Params struct {
	Task   string
	Seed   uint64
	Recipe string
	Values map[string]float64
}

func (p Params) String() string { return p.Task + "/" + p.Recipe + synth.Values(p.Values) }

// Range documents one parameter of a recipe.
type Range struct {
	Recipe   string
	Name     string
	Min, Max float64
	Doc      string
}

// Ranges lists the parameters of a task's recipes and their intervals.
func Ranges(task string) []Range { return append([]Range(nil), ranges[task]...) }

var ranges = map[string][]Range{
	"haze": {
		{"*", "recipe", 0, 1, "0 = depth from the photo (p 0.5), 1 = tilted horizon"},
		{"*", "beta", 0.6, 2.2, "scattering at 550 nm"},
		{"*", "angstrom", 0, 1.3, "wavelength exponent: β_c = β·(550/λ_c)^k, λ = 610, 550, 465 nm"},
		{"*", "airlight", 0.65, 0.95, "grey airlight level"},
		{"*", "glow", 0, 0.25, "sun glow added to the airlight (colour 1, 0.88, 0.7)"},
		{"*", "glow_radius", 0.2, 0.6, "glow radius, fraction of the long side"},
		{"*", "depth_min", 0.1, 0.4, "nearest depth (depth spans [depth_min, 1])"},
		{"photo", "depth_gamma", 0.6, 1.6, "exponent on the photo-derived depth"},
		{"horizon", "horizon", 0.2, 0.6, "horizon height from the top, fraction of the height"},
		{"horizon", "tilt", -12, 12, "horizon tilt in degrees"},
		{"horizon", "falloff", 0.4, 1.6, "exponent of the depth below the horizon"},
	},
	"lowlight": {
		{"*", "recipe", 0, 1, "0 = camera pipeline (p 0.6), 1 = flat phone night shot"},
		{"raw", "exposure", 0.01, 0.12, "exposure scale in linear light, log-uniform"},
		{"raw", "full_well", 1000, 10000, "photo-electrons at white (Poisson), log-uniform"},
		{"raw", "read", 0.0005, 0.004, "read-noise std (linear units)"},
		{"raw", "row", 0, 0.002, "row (banding) noise std"},
		{"raw", "wb_red", 1.6, 2.4, "white-balance gain of red"},
		{"raw", "wb_blue", 1.4, 2.0, "white-balance gain of blue"},
		{"raw", "wb_error", -0.1, 0.1, "relative error of the re-applied red gain (blue: the opposite)"},
		{"flat", "scale", 0.12, 0.35, "sRGB-space scale"},
		{"flat", "black", 0, 0.04, "black level lift"},
		{"flat", "contrast", 1.0, 1.6, "sRGB-space power (>1 crushes shadows)"},
		{"flat", "luma_noise", 0.004, 0.02, "luma noise std"},
		{"flat", "chroma_noise", 0.005, 0.03, "chroma noise std, low-passed (σ 1.5 px)"},
	},
	"rain": {
		{"*", "recipe", 0, 1, "0 = lighten (p 0.5), 1 = refraction"},
		{"*", "layers", 1, 2, "noise layers"},
		{"*", "angle", -35, 35, "streak angle from vertical, degrees (second layer ±8 more)"},
		{"*", "density", 0.002, 0.03, "share of noise cells kept, log-uniform"},
		{"*", "cell", 1, 2.5, "noise cell size in pixels (streak thickness)"},
		{"*", "length", 0.03, 0.12, "streak length, fraction of the long side"},
		{"*", "opacity", 0.35, 0.9, "streak level at the 99.9th percentile"},
		{"refract", "shift", 1.5, 6, "refraction displacement in pixels at full streak"},
	},
	"snow": {
		{"*", "layers", 2, 3, "flake layers"},
		{"*", "density", 0.002, 0.03, "share of noise cells kept in the nearest layer, log-uniform"},
		{"*", "cell", 1.5, 6, "noise cell of the nearest layer in pixels (farther layers smaller)"},
		{"*", "defocus", 0.3, 1.5, "Gaussian σ of a layer, in cells"},
		{"*", "wind", 0, 1, "1: the nearest layer is smeared by the wind (p 0.4)"},
		{"*", "wind_angle", -70, 70, "wind direction from vertical, degrees"},
		{"*", "fog", 0, 0.25, "fog at the top of the frame, fading to a third of it at the bottom"},
		{"*", "cold", 0, 0.08, "cold cast: red ×(1−cold), green ×(1−cold/2)"},
	},
	"blur": {
		{"*", "recipe", 0, 2, "0 = spline shake (p 0.45), 1 = zoom (p 0.2), 2 = polygonal defocus (p 0.35)"},
		{"spline", "extent", 0.012, 0.045, "shake box side, fraction of the long side"},
		{"spline", "points", 4, 6, "control points"},
		{"zoom", "zoom", 0.01, 0.04, "zoom blur strength (relative radius smeared)"},
		{"polygon", "radius", 0.004, 0.014, "aperture radius, fraction of the long side"},
		{"polygon", "blades", 5, 8, "aperture blades"},
		{"polygon", "rim", 0, 1.5, "rim brightening (weight 1 + rim·ρ²)"},
		{"*", "noise", 0.001, 0.008, "Gaussian noise std"},
	},
}

// Apply degrades img with one of task's held-out recipes, deterministically
// in seed; img is left as it is and the result has its size and alpha.
func Apply(img *imageio.Image, task string, seed uint64) (*imageio.Image, Params, error) {
	p := Params{Task: task, Seed: seed, Values: map[string]float64{}}
	out, err := synth.Copy(img)
	if err != nil {
		return nil, p, fmt.Errorf("heldout: %w", err)
	}
	k := slices.Index(Tasks, task)
	if k < 0 {
		return nil, p, fmt.Errorf("heldout: unknown task %q", task)
	}
	g := newGen(seed, uint64(k)+0x51)
	c := canvas{w: img.W, h: img.H, long: float64(max(img.W, img.H))}
	switch task {
	case "haze":
		p.Recipe = hazeHO(out, c, g, p.Values)
	case "lowlight":
		p.Recipe = lowlightHO(out, c, g, p.Values)
	case "rain":
		p.Recipe = rainHO(out, c, g, p.Values)
	case "snow":
		p.Recipe = snowHO(out, c, g, p.Values)
	case "blur":
		p.Recipe = blurHO(out, c, g, p.Values)
	}
	synth.Clamp(out.RGB)
	return out, p, nil
}

type canvas struct {
	w, h int
	long float64
}

// gen is xoshiro256** seeded through SplitMix-style mixing of (seed, stream).
type gen struct{ s [4]uint64 }

func newGen(seed, stream uint64) *gen {
	g := &gen{}
	x := seed*0x9E3779B97F4A7C15 + stream*0xC2B2AE3D27D4EB4F + 0x165667B19E3779F9
	for i := range g.s {
		x += 0x9E3779B97F4A7C15
		z := x
		z = (z ^ (z >> 33)) * 0xFF51AFD7ED558CCD
		z = (z ^ (z >> 33)) * 0xC4CEB9FE1A85EC53
		g.s[i] = z ^ (z >> 33)
	}
	return g
}

func rotl(x uint64, k uint) uint64 { return x<<k | x>>(64-k) }

func (g *gen) next() uint64 {
	s := &g.s
	r := rotl(s[1]*5, 7) * 9
	t := s[1] << 17
	s[2] ^= s[0]
	s[3] ^= s[1]
	s[1] ^= s[2]
	s[0] ^= s[3]
	s[2] ^= t
	s[3] = rotl(s[3], 45)
	return r
}

// u is uniform in [0, 1).
func (g *gen) u() float64              { return float64(g.next()>>11) * (1.0 / (1 << 53)) }
func (g *gen) in(a, b float64) float64 { return a + (b-a)*g.u() }
func (g *gen) logIn(a, b float64) float64 {
	return math.Exp(g.in(math.Log(a), math.Log(b)))
}
func (g *gen) pick(n int) int { return int(g.u() * float64(n)) }

// gauss is a standard normal value (Marsaglia's polar method).
func (g *gen) gauss() float64 {
	for {
		a, b := 2*g.u()-1, 2*g.u()-1
		s := a*a + b*b
		if s > 0 && s < 1 {
			return a * math.Sqrt(-2*math.Log(s)/s)
		}
	}
}

// poisson draws a Poisson count: Knuth's product method for small means, a
// rounded normal for large ones.
func (g *gen) poisson(lam float64) float64 {
	if lam <= 0 {
		return 0
	}
	if lam > 40 {
		return math.Max(0, math.Round(lam+math.Sqrt(lam)*g.gauss()))
	}
	l, k, p := math.Exp(-lam), 0.0, 1.0
	for {
		p *= g.u()
		if p <= l {
			return k
		}
		k++
	}
}
