package degrade

import (
	"math"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

const deg = math.Pi / 180

// pickRenderer draws an index from weights (summing to about 1).
func pickRenderer(r *rng, weights ...float64) int {
	u := r.Float()
	for i, w := range weights {
		if u < w {
			return i
		}
		u -= w
	}
	return len(weights) - 1
}

// haze: I = J·t + A(x)·(1−t), t = exp(−β·d). Four depth proxies (a vertical
// gradient with value noise, a tilted plane, fractal value noise, a radial
// field); the airlight is tinted per channel and varies along a ramp.
func haze(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	proxy := pickRenderer(r, 0.4, 0.25, 0.2, 0.15)
	beta := r.uniform(0.4, 3.0)
	air := r.uniform(0.6, 1.0)
	var tint [3]float64
	for c := range tint {
		tint[c] = r.uniform(-0.06, 0.06)
	}
	tint[1] = 0 // green carries the level; red and blue the colour
	ramp := r.uniform(-0.15, 0.15)
	rampDir := r.uniform(0, 2*math.Pi)
	dmin := r.uniform(0.1, 0.4)
	n := f.w * f.h
	depth := make([]float32, n)
	switch proxy {
	case 0: // far towards the top, varied by smooth noise
		vert := r.uniform(0.4, 0.85)
		noise := valueNoise(f.w, f.h, 3, r)
		for y := range f.h {
			g := 1 - float64(y)/float64(max(f.h-1, 1))
			for x := range f.w {
				i := y*f.w + x
				depth[i] = float32(vert*g + (1-vert)*float64(noise[i]))
			}
		}
		v["vertical"] = vert
	case 1: // a plane receding in a random direction
		a := r.uniform(0, 2*math.Pi)
		dx, dy := math.Sin(a), math.Cos(a)
		noise := valueNoise(f.w, f.h, 2, r)
		for y := range f.h {
			for x := range f.w {
				i := y*f.w + x
				p := (float64(x)/float64(max(f.w-1, 1))-0.5)*dx + (float64(y)/float64(max(f.h-1, 1))-0.5)*dy
				depth[i] = float32(0.75*(p+0.71)/1.42 + 0.25*float64(noise[i]))
			}
		}
		v["plane_angle"] = a / deg
	case 2: // fractal noise: patchy fog
		a, b := valueNoise(f.w, f.h, 2, r), valueNoise(f.w, f.h, 7, r)
		for i := range depth {
			depth[i] = 0.65*a[i] + 0.35*b[i]
		}
	case 3: // radial: a far centre (a road, a corridor) or a near one
		cx, cy := r.uniform(0.2, 0.8)*float64(f.w), r.uniform(0.1, 0.6)*float64(f.h)
		far := r.Float() < 0.6
		diag := math.Hypot(float64(f.w), float64(f.h))
		for y := range f.h {
			for x := range f.w {
				d := math.Min(math.Hypot(float64(x)-cx, float64(y)-cy)/(0.6*diag), 1)
				if far {
					d = 1 - d
				}
				depth[y*f.w+x] = float32(d)
			}
		}
	}
	synth.Stretch(depth)
	ax, ay := math.Cos(rampDir), math.Sin(rampDir)
	trans := make([]float32, n)
	var sumT float64
	for i, d := range depth {
		t := math.Exp(-beta * (dmin + (1-dmin)*float64(d)))
		trans[i] = float32(t)
		sumT += t
	}
	for c := range 3 {
		p := synth.Plane(img.RGB, f.w, f.h, c)
		for y := range f.h {
			for x := range f.w {
				i := y*f.w + x
				proj := (float64(x)/float64(max(f.w-1, 1))-0.5)*ax + (float64(y)/float64(max(f.h-1, 1))-0.5)*ay
				a := float32(math.Min(air*(1+tint[c])*(1+ramp*proj), 1))
				t := trans[i]
				p[i] = p[i]*t + a*(1-t)
			}
		}
	}
	v["proxy"], v["beta"], v["airlight"], v["tint_r"], v["tint_b"] = float64(proxy), beta, air, tint[0], tint[2]
	v["ramp"], v["depth_min"], v["mean_t"] = ramp, dmin, sumT/float64(n)
}

// lowLight darkens in linear light (exposure and gamma), shifts the colour
// (white-balance gains, at times less saturation) and adds Poisson-Gaussian
// sensor noise (Gaussian approximation, variance a·L' + b²), per channel or,
// at times, the same in all three (luma noise).
func lowLight(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	exposure := r.logUniform(0.03, 0.45)
	gamma := r.uniform(1.0, 3.0)
	shot := r.logUniform(5e-5, 4e-3)
	read := r.logUniform(1e-4, 2e-3)
	wbR, wbB := r.uniform(0.8, 1.2), r.uniform(0.8, 1.2)
	desat := 0.0
	if r.Float() < 0.3 {
		desat = r.uniform(0, 0.5)
	}
	lumaNoise := 0.0
	if r.Float() < 0.3 {
		lumaNoise = 1
	}
	gain := [3]float64{wbR, 1, wbB}
	n := f.w * f.h
	for i := range n {
		var l [3]float64
		for c := range 3 {
			l[c] = exposure * gain[c] * linearPow(float64(synth.Clamp01(img.RGB[c*n+i])), gamma)
		}
		if desat > 0 {
			y := 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
			for c := range l {
				l[c] = y + (1-desat)*(l[c]-y)
			}
		}
		z := r.normal()
		for c := range 3 {
			if lumaNoise == 0 && c > 0 {
				z = r.normal()
			}
			x := l[c] + math.Sqrt(shot*math.Max(l[c], 0)+read*read)*z
			img.RGB[c*n+i] = float32(linearToSRGB(math.Min(math.Max(x, 0), 1)))
		}
	}
	v["exposure"], v["gamma"], v["shot"], v["read"] = exposure, gamma, shot, read
	v["wb_r"], v["wb_b"], v["desaturate"], v["luma_noise"] = wbR, wbB, desat, lumaNoise
}

// rain draws one to four layers of tapered streaks, blends them by screen,
// addition or over a rain colour, and at times adds a veil and lens drops.
// Layer 0 is the nearest: the densest, longest and brightest.
func rain(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	layers := 1 + r.Intn(4)
	angle := r.uniform(-40, 40)
	density := r.logUniform(3e-4, 1.5e-2)
	length := r.uniform(6, 50)
	bright := r.uniform(0.2, 0.9)
	width := r.uniform(1, 3)
	blend := r.Intn(3)
	veil := 0.0
	if r.Float() < 0.5 {
		veil = r.uniform(0.03, 0.25)
	}
	veilA := r.uniform(0.7, 0.95)
	n := f.w * f.h
	total := make([]float32, n)
	layer := make([]float32, n)
	for k := range layers {
		dens, ln, br, wd := density, length, bright, width
		if k > 0 {
			dens *= r.uniform(0.4, 1.2)
			ln *= r.uniform(0.3, 0.8)
			br *= r.uniform(0.4, 0.8)
			wd = r.uniform(1, math.Max(1, width*0.6))
		}
		a := (angle + r.uniform(-6, 6)) * deg
		dx, dy := math.Sin(a), math.Cos(a)
		ln *= f.scale
		wd *= f.scale
		// parallel strokes half a pixel apart make a streak wd pixels wide
		strokes := max(1, int(math.Round((wd-1)/0.5))+1)
		count := int(math.Round(dens * float64(n) / (f.scale * f.scale)))
		clear(layer)
		for range count {
			l := ln * r.uniform(0.6, 1.4)
			x0 := r.uniform(-l/2, float64(f.w)+l/2)
			y0 := r.uniform(-l/2, float64(f.h)+l/2)
			val := br * r.uniform(0.5, 1)
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
	rc := r.uniform(0.75, 1)
	for c := range 3 {
		p := synth.Plane(img.RGB, f.w, f.h, c)
		vt := float32(1 - veil)
		va := float32(veilA * veil)
		for i, s := range total {
			x := p[i]*vt + va
			switch blend {
			case 0: // screen
				x = 1 - (1-x)*(1-s)
			case 1: // add
				x += s
			case 2: // over a grey-white rain colour
				x += s * (float32(rc) - x)
			}
			p[i] = x
		}
	}
	drops := 0
	if r.Float() < 0.3 {
		drops = 2 + r.Intn(int(math.Max(3, 20*f.scale*f.scale)))
		lensDrops(img, f, r, drops)
	}
	v["scale"], v["layers"], v["angle"], v["density"], v["length"], v["brightness"] = f.scale, float64(layers), angle, density, length, bright
	v["width"], v["blend"], v["veil"], v["veil_a"], v["drops"] = width, float64(blend), veil, veilA, float64(drops)
}

// lensDrops: water drops on the lens, each a disc through which the scene
// shows blurred and a little brighter, with a soft rim.
func lensDrops(img *imageio.Image, f frame, r *rng, count int) {
	n := f.w * f.h
	blurred := append([]float32(nil), img.RGB...)
	rb := max(2, int(4*f.scale))
	for c := range 3 {
		boxBlur(synth.Plane(blurred, f.w, f.h, c), f.w, f.h, rb)
	}
	for range count {
		rad := r.uniform(4, 20) * f.scale
		cx, cy := r.uniform(0, float64(f.w)), r.uniform(0, float64(f.h))
		lift := float32(r.uniform(0.03, 0.15))
		for y := max(int(cy-rad-1), 0); y <= min(int(cy+rad+1), f.h-1); y++ {
			for x := max(int(cx-rad-1), 0); x <= min(int(cx+rad+1), f.w-1); x++ {
				d := math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) / rad
				if d >= 1 {
					continue
				}
				al := float32(smooth(math.Min((1-d)/0.25, 1)))
				i := y*f.w + x
				for c := range 3 {
					q := blurred[c*n+i] + lift*float32(d*d)
					img.RGB[c*n+i] += al * (q - img.RGB[c*n+i])
				}
			}
		}
	}
}

// snow: a uniform haze veil, then flakes from specks to large out-of-focus
// discs, the near ones optionally motion-streaked, blended towards white.
func snow(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	veilT := r.uniform(0.65, 1.0)
	veilA := r.uniform(0.75, 1.0)
	density := r.logUniform(1.5e-4, 4e-3)
	large := r.uniform(0.05, 0.3)
	bokeh := 0.0
	if r.Float() < 0.4 {
		bokeh = r.uniform(0.01, 0.08)
	}
	specks := 0.0
	if r.Float() < 0.5 {
		specks = r.logUniform(1e-3, 1.5e-2)
	}
	motion := 0.0
	if r.Float() < 0.5 {
		motion = r.uniform(3, 20)
	}
	angle := r.uniform(-60, 60)
	level := r.uniform(0.8, 1.0)

	n := f.w * f.h
	mask := make([]float32, n)
	disc := func(m []float32, cx, cy, rad, op, soft float64) {
		edge := soft*rad + 0.5 // soft rim width
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
				m[i] += al * (1 - m[i])
			}
		}
	}
	count := int(math.Round(density * float64(n) / (f.scale * f.scale)))
	for range count {
		var rad, op, soft float64
		switch u := r.Float(); {
		case u < bokeh: // out of focus: big, faint, soft
			rad, op, soft = r.uniform(6, 14), r.uniform(0.15, 0.5), 1.2
		case u < bokeh+large:
			rad, op, soft = r.uniform(3, 6), r.uniform(0.6, 1), 0.4
		case u < bokeh+large+(1-large-bokeh)/3:
			rad, op, soft = r.uniform(1.5, 3), r.uniform(0.6, 1), 0.4
		default:
			rad, op, soft = r.uniform(0.6, 1.5), r.uniform(0.6, 1), 0.4
		}
		disc(mask, r.uniform(0, float64(f.w)), r.uniform(0, float64(f.h)), rad*f.scale, op, soft)
	}
	if motion > 0 {
		lineBlur(mask, f.w, f.h, motion*f.scale, angle*deg)
	}
	if specks > 0 { // far flakes: dense, tiny, never streaked
		sm := make([]float32, n)
		for range int(math.Round(specks * float64(n) / (f.scale * f.scale))) {
			disc(sm, r.uniform(0, float64(f.w)), r.uniform(0, float64(f.h)), r.uniform(0.3, 0.7)*f.scale, r.uniform(0.3, 0.8), 0.4)
		}
		for i, s := range sm {
			mask[i] = 1 - (1-mask[i])*(1-s)
		}
	}
	for c := range 3 {
		p := synth.Plane(img.RGB, f.w, f.h, c)
		va, lv := float32(veilA), float32(level)
		t := float32(veilT)
		for i, m := range mask {
			x := p[i]*t + va*(1-t)
			p[i] = x*(1-m) + lv*m
		}
	}
	v["scale"], v["density"], v["large_frac"], v["bokeh_frac"], v["specks"] = f.scale, density, large, bokeh, specks
	v["motion"], v["angle"], v["veil_t"], v["veil_a"], v["flake_level"] = motion, angle, veilT, veilA, level
}

// blur: a random-walk camera shake, a straight motion at any angle, a
// defocus disc or a Gaussian, plus mild Gaussian noise.
func blur(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	kind := pickRenderer(r, 0.35, 0.25, 0.2, 0.2)
	sigma := r.uniform(0.001, 0.01)
	v["scale"], v["noise"], v["kind"] = f.scale, sigma, float64(kind)
	switch kind {
	case 0:
		extent := r.uniform(5, 28)
		taps := shakeKernel(r, extent*f.scale)
		for c := range 3 {
			sparseConvolve(synth.Plane(img.RGB, f.w, f.h, c), f.w, f.h, taps)
		}
		v["extent"] = extent
	case 1:
		length, angle := r.uniform(3, 30), r.uniform(-90, 90)
		for c := range 3 {
			lineBlur(synth.Plane(img.RGB, f.w, f.h, c), f.w, f.h, length*f.scale, angle*deg)
		}
		v["length"], v["angle"] = length, angle
	case 2:
		radius := r.uniform(1, 6)
		for c := range 3 {
			discBlur(synth.Plane(img.RGB, f.w, f.h, c), f.w, f.h, math.Max(radius*f.scale, 1))
		}
		v["radius"] = radius
	case 3:
		s := r.uniform(0.6, 3.5)
		for c := range 3 {
			gaussBlur(synth.Plane(img.RGB, f.w, f.h, c), f.w, f.h, s*f.scale)
		}
		v["sigma"] = s
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
		if r.Float() < 0.05 { // jerk
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
