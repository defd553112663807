package degrade

import (
	"math"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

const deg = math.Pi / 180

// haze: I = J·t + A·(1−t), t = exp(−β·d). The depth proxy d grows towards
// the top of the frame (distant scenery, sky) and varies smoothly across it.
func haze(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	beta := r.uniform(0.5, 2.5)
	air := r.uniform(0.7, 1.0)
	tint := r.uniform(-0.03, 0.03)
	vert := r.uniform(0.4, 0.85)
	dmin := r.uniform(0.2, 0.4)
	noise := valueNoise(f.w, f.h, 3, r)
	a := [3]float32{float32(min(air*(1-tint), 1)), float32(air), float32(min(air*(1+tint), 1))}
	n := f.w * f.h
	trans := make([]float32, n)
	var sumT float64
	for y := range f.h {
		g := 1 - float64(y)/float64(max(f.h-1, 1))
		for x := range f.w {
			i := y*f.w + x
			d := dmin + (1-dmin)*(vert*g+(1-vert)*float64(noise[i]))
			t := math.Exp(-beta * d)
			trans[i] = float32(t)
			sumT += t
		}
	}
	for c := range 3 {
		p := plane(img.RGB, f.w, f.h, c)
		for i, t := range trans {
			p[i] = p[i]*t + a[c]*(1-t)
		}
	}
	v["beta"], v["airlight"], v["tint"], v["vertical"], v["depth_min"] = beta, air, tint, vert, dmin
	v["mean_t"] = sumT / float64(n)
}

// lowLight darkens in linear light and adds signal-dependent sensor noise.
func lowLight(img *imageio.Image, r *rng, v map[string]float64) {
	exposure := r.logUniform(0.05, 0.4)
	gamma := r.uniform(1.5, 3)
	shot := r.logUniform(1e-4, 2e-3)
	read := r.logUniform(1e-4, 1e-3)
	for i, x := range img.RGB {
		l := exposure * linearPow(float64(clamp01(x)), gamma)
		l += math.Sqrt(shot*l+read*read) * r.normal()
		img.RGB[i] = float32(linearToSRGB(math.Max(l, 0)))
	}
	v["exposure"], v["gamma"], v["shot"], v["read"] = exposure, gamma, shot, read
}

// rain draws one to three layers of tapered streaks and screen-blends them.
// Layer 0 is the nearest: the densest, longest and brightest.
func rain(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	layers := 1 + r.intn(3)
	angle := r.uniform(-30, 30)
	density := r.logUniform(5e-4, 1.2e-2)
	length := r.uniform(10, 40)
	bright := r.uniform(0.3, 0.85)
	width := r.uniform(1, 2.5)
	n := f.w * f.h
	total := make([]float32, n)
	layer := make([]float32, n)
	for k := range layers {
		dens, ln, br, wd := density, length, bright, width
		if k > 0 {
			dens *= r.uniform(0.5, 1)
			ln *= r.uniform(0.4, 0.8)
			br *= r.uniform(0.5, 0.8)
			wd = 1
		}
		a := (angle + r.uniform(-5, 5)) * deg
		dx, dy := math.Sin(a), math.Cos(a)
		ln *= f.scale
		wd *= f.scale
		// parallel strokes half a pixel apart make a streak wd pixels wide
		strokes := max(1, int(math.Round((wd-1)/0.5))+1)
		count := int(math.Round(dens * float64(n) / (f.scale * f.scale)))
		clear(layer)
		for range count {
			l := ln * r.uniform(0.7, 1.3)
			x0 := r.uniform(-l/2, float64(f.w)+l/2)
			y0 := r.uniform(-l/2, float64(f.h)+l/2)
			val := br * r.uniform(0.6, 1)
			m := int(math.Ceil(l / 0.5))
			for q := range strokes {
				off := (float64(q) - float64(strokes-1)/2) * 0.5 // across the streak
				px, py := x0+off*dy, y0-off*dx
				wq := 0.5 / math.Max(1, float64(strokes)/2) // strokes overlap: keep the peak at val
				for j := range m {
					s := (float64(j) + 0.5) / float64(m)
					taper := math.Sin(math.Pi * s)
					splat(layer, f.w, f.h, px+(s-0.5)*l*dx, py+(s-0.5)*l*dy, val*taper*wq)
				}
			}
		}
		if k > 0 {
			boxBlur(layer, f.w, f.h, 1) // farther layers are softer
		}
		for i, x := range layer {
			total[i] = 1 - (1-total[i])*(1-min(x, 1))
		}
	}
	for c := range 3 {
		p := plane(img.RGB, f.w, f.h, c)
		for i, s := range total {
			p[i] = 1 - (1-p[i])*(1-s)
		}
	}
	v["scale"], v["layers"], v["angle"], v["density"], v["length"], v["brightness"] = f.scale, float64(layers), angle, density, length, bright
	v["width"] = width
}

// snow: a uniform haze veil, then soft flakes of three sizes, optionally
// motion-blurred, blended towards white.
func snow(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	veilT := r.uniform(0.75, 0.95)
	veilA := r.uniform(0.8, 1.0)
	density := r.logUniform(2e-4, 3e-3)
	large := r.uniform(0.05, 0.3)
	motion := 0.0
	if r.float() < 0.5 {
		motion = r.uniform(3, 12)
	}
	angle := r.uniform(-60, 60)
	level := r.uniform(0.85, 1.0)

	n := f.w * f.h
	mask := make([]float32, n)
	count := int(math.Round(density * float64(n) / (f.scale * f.scale)))
	for range count {
		var rad float64
		switch u := r.float(); {
		case u < large:
			rad = r.uniform(3, 6)
		case u < large+(1-large)/3:
			rad = r.uniform(1.5, 3)
		default:
			rad = r.uniform(0.6, 1.5)
		}
		rad *= f.scale
		op := r.uniform(0.6, 1)
		cx, cy := r.uniform(0, float64(f.w)), r.uniform(0, float64(f.h))
		edge := 0.4*rad + 0.5 // soft rim width
		ext := rad + edge
		for y := max(int(cy-ext), 0); y <= min(int(cy+ext), f.h-1); y++ {
			for x := max(int(cx-ext), 0); x <= min(int(cx+ext), f.w-1); x++ {
				d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy)
				t := (rad + edge/2 - d) / edge
				if t <= 0 {
					continue
				}
				al := float32(op * smooth(math.Min(t, 1)))
				i := y*f.w + x
				mask[i] += al * (1 - mask[i])
			}
		}
	}
	if motion > 0 {
		lineBlur(mask, f.w, f.h, motion*f.scale, angle*deg)
	}
	for c := range 3 {
		p := plane(img.RGB, f.w, f.h, c)
		va, lv := float32(veilA), float32(level)
		t := float32(veilT)
		for i, m := range mask {
			x := p[i]*t + va*(1-t)
			p[i] = x*(1-m) + lv*m
		}
	}
	v["scale"], v["density"], v["large_frac"], v["motion"], v["angle"] = f.scale, density, large, motion, angle
	v["veil_t"], v["veil_a"], v["flake_level"] = veilT, veilA, level
}

// blur: a random-walk camera-shake kernel (p 0.6) or a defocus disc, plus
// mild Gaussian noise.
func blur(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	defocus := r.float() < 0.4
	extent := r.uniform(7, 25)
	radius := r.uniform(1.5, 5)
	sigma := r.uniform(0.002, 0.01)
	v["scale"], v["noise"] = f.scale, sigma
	if defocus {
		v["defocus"], v["radius"] = 1, radius
		for c := range 3 {
			discBlur(plane(img.RGB, f.w, f.h, c), f.w, f.h, math.Max(radius*f.scale, 1))
		}
	} else {
		v["defocus"], v["extent"] = 0, extent
		taps := shakeKernel(r, extent*f.scale)
		for c := range 3 {
			sparseConvolve(plane(img.RGB, f.w, f.h, c), f.w, f.h, taps)
		}
	}
	for i := range img.RGB {
		img.RGB[i] += float32(sigma * r.normal())
	}
}

// shakeKernel draws a camera-shake trajectory (a random walk with inertia and
// occasional jerks, after Boracchi & Foi 2012), scales it to the given extent
// (the larger side of its bounding box), centres its centroid so the blur
// does not shift the image, and rasterizes it with bilinear weights.
func shakeKernel(r *rng, extent float64) []kernelTap {
	const steps = 64
	xs, ys := make([]float64, steps), make([]float64, steps)
	a := r.uniform(0, 2*math.Pi)
	vx, vy := math.Cos(a), math.Sin(a)
	var x, y float64
	for i := range steps {
		vx += 0.35 * r.normal()
		vy += 0.35 * r.normal()
		if r.float() < 0.05 { // jerk
			vx += 1.5 * r.normal()
			vy += 1.5 * r.normal()
		}
		if s := math.Hypot(vx, vy); s > 0 {
			vx, vy = vx/s, vy/s
		}
		x += vx
		y += vy
		xs[i], ys[i] = x, y
	}
	minX, maxX, minY, maxY := xs[0], xs[0], ys[0], ys[0]
	var cx, cy float64
	for i := range xs {
		minX, maxX = math.Min(minX, xs[i]), math.Max(maxX, xs[i])
		minY, maxY = math.Min(minY, ys[i]), math.Max(maxY, ys[i])
		cx += xs[i]
		cy += ys[i]
	}
	cx /= steps
	cy /= steps
	s := extent / math.Max(math.Max(maxX-minX, maxY-minY), 1e-9)
	half := int(math.Ceil(extent)) + 2
	side := 2*half + 1
	k := make([]float32, side*side)
	const sub = 4 // samples per trajectory step
	for i := 0; i+1 < steps; i++ {
		for j := range sub {
			t := float64(j) / sub
			px := ((xs[i]+(xs[i+1]-xs[i])*t)-cx)*s + float64(half)
			py := ((ys[i]+(ys[i+1]-ys[i])*t)-cy)*s + float64(half)
			splat(k, side, side, px, py, 1)
		}
	}
	var peak, sum float32
	for _, w := range k {
		peak = max(peak, w)
	}
	var taps []kernelTap
	for i, w := range k {
		if w > 1e-3*peak {
			taps = append(taps, kernelTap{i%side - half, i/side - half, w})
			sum += w
		}
	}
	for i := range taps {
		taps[i].w /= sum
	}
	return taps
}
