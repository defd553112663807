package heldout

import (
	"math"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

const rad = math.Pi / 180

// hazeHO: wavelength-dependent scattering over a depth taken from the photo
// or from a tilted horizon, with a sun glow in the airlight.
func hazeHO(img *imageio.Image, c canvas, g *gen, v map[string]float64) string {
	recipe := "photo"
	if g.u() >= 0.5 {
		recipe = "horizon"
	}
	beta, ang := g.in(0.6, 2.2), g.in(0, 1.3)
	air, glow, glowR := g.in(0.65, 0.95), g.in(0, 0.25), g.in(0.2, 0.6)
	dmin := g.in(0.1, 0.4)
	w, h, n := c.w, c.h, c.w*c.h
	depth := make([]float32, n)
	if recipe == "photo" {
		gam := g.in(0.6, 1.6)
		for i := range depth {
			r, gg, b := img.RGB[i], img.RGB[n+i], img.RGB[2*n+i]
			hi, lo := max(r, gg, b), min(r, gg, b)
			sat := (hi - lo) / (hi + 1e-3)
			depth[i] = 0.6*(0.299*r+0.587*gg+0.114*b) + 0.4*(1-sat)
		}
		gaussian(depth, w, h, c.long/25)
		synth.Stretch(depth)
		for i, d := range depth {
			depth[i] = float32(math.Pow(float64(d), gam))
		}
		v["depth_gamma"] = gam
	} else {
		hz, tilt, fall := g.in(0.2, 0.6), g.in(-12, 12), g.in(0.4, 1.6)
		slope := math.Tan(tilt * rad)
		for y := range h {
			for x := range w {
				yl := hz*float64(h) + (float64(x)-float64(w)/2)*slope
				below := (float64(y) - yl) / math.Max(float64(h)-yl, 1)
				below = math.Min(math.Max(below, 0), 1)
				depth[y*w+x] = float32(1 - math.Pow(below, fall))
			}
		}
		gaussian(depth, w, h, c.long/100)
		v["horizon"], v["tilt"], v["falloff"] = hz, tilt, fall
	}
	sx, sy := g.in(0.1, 0.9)*float64(w), g.in(-0.1, 0.3)*float64(h)
	lambda := [3]float64{610, 550, 465}
	glowCol := [3]float64{1, 0.88, 0.7}
	sig2 := 2 * (glowR * c.long) * (glowR * c.long)
	bump := make([]float64, n)
	for y := range h {
		for x := range w {
			dx, dy := float64(x)-sx, float64(y)-sy
			bump[y*w+x] = glow * math.Exp(-(dx*dx+dy*dy)/sig2)
		}
	}
	for k := range 3 {
		bk := beta * math.Pow(550/lambda[k], ang)
		p := synth.Plane(img.RGB, w, h, k)
		for i, d := range depth {
			t := math.Exp(-bk * (dmin + (1-dmin)*float64(d)))
			a := math.Min(air+bump[i]*glowCol[k], 1)
			p[i] = float32(float64(p[i])*t + a*(1-t))
		}
	}
	v["recipe"] = map[string]float64{"photo": 0, "horizon": 1}[recipe]
	v["beta"], v["angstrom"], v["airlight"], v["glow"], v["glow_radius"], v["depth_min"] = beta, ang, air, glow, glowR, dmin
	return recipe
}

// lowlightHO: a camera pipeline run with little light, or a flat phone shot.
func lowlightHO(img *imageio.Image, c canvas, g *gen, v map[string]float64) string {
	w, h, n := c.w, c.h, c.w*c.h
	if g.u() < 0.6 {
		expo, fw := g.logIn(0.01, 0.12), g.logIn(1000, 10000)
		read, rowS := g.in(0.0005, 0.004), g.in(0, 0.002)
		wbr, wbb, werr := g.in(1.6, 2.4), g.in(1.4, 2.0), g.in(-0.1, 0.1)
		rowN := make([]float64, h)
		for y := range rowN {
			rowN[y] = rowS * g.gauss()
		}
		site := func(x, y int) int { // RGGB
			switch {
			case y%2 == 0 && x%2 == 0:
				return 0
			case y%2 == 1 && x%2 == 1:
				return 2
			}
			return 1
		}
		inv := [3]float64{1 / wbr, 1, 1 / wbb}
		raw := make([]float32, n)
		for y := range h {
			for x := range w {
				i := y*w + x
				k := site(x, y)
				lin := math.Pow(float64(img.RGB[k*n+i]), 2.2) * inv[k] * expo
				e := g.poisson(lin*fw)/fw + read*g.gauss() + rowN[y]
				e = math.Min(math.Max(e, 0), 1)
				raw[i] = float32(math.Round(e*1023) / 1023)
			}
		}
		gain := [3]float64{wbr * (1 + werr), 1, wbb * (1 - werr)}
		for y := range h {
			for x := range w {
				i := y*w + x
				for k := range 3 {
					var s float64
					var cnt int
					if site(x, y) == k {
						s, cnt = float64(raw[i]), 1
					} else {
						for dy := -1; dy <= 1; dy++ {
							for dx := -1; dx <= 1; dx++ {
								xx, yy := mirror(x+dx, w), mirror(y+dy, h)
								if site(xx, yy) == k && (dx != 0 || dy != 0) {
									s += float64(raw[yy*w+xx])
									cnt++
								}
							}
						}
					}
					img.RGB[k*n+i] = float32(math.Pow(math.Min(s/float64(max(cnt, 1))*gain[k], 1), 1/2.2))
				}
			}
		}
		v["recipe"] = 0
		v["exposure"], v["full_well"], v["read"], v["row"] = expo, fw, read, rowS
		v["wb_red"], v["wb_blue"], v["wb_error"] = wbr, wbb, werr
		return "raw"
	}
	scale, black, con := g.in(0.12, 0.35), g.in(0, 0.04), g.in(1.0, 1.6)
	ln, cn := g.in(0.004, 0.02), g.in(0.005, 0.03)
	cb, cr := make([]float32, n), make([]float32, n)
	for i := range cb {
		cb[i], cr[i] = float32(g.gauss()), float32(g.gauss())
	}
	// a Gaussian of σ 1.5 leaves white noise about 0.188 of its std: restore it
	gaussian(cb, w, h, 1.5)
	gaussian(cr, w, h, 1.5)
	k := float32(cn / 0.188)
	for i := range n {
		yn := float32(ln * g.gauss())
		b, r := cb[i]*k, cr[i]*k
		d := [3]float32{yn + 1.402*r, yn - 0.344*b - 0.714*r, yn + 1.772*b}
		for cc := range 3 {
			x := img.RGB[cc*n+i]
			img.RGB[cc*n+i] = float32(black+scale*math.Pow(float64(max(x, 0)), con)) + d[cc]
		}
	}
	v["recipe"] = 1
	v["scale"], v["black"], v["contrast"], v["luma_noise"], v["chroma_noise"] = scale, black, con, ln, cn
	return "flat"
}

// noiseLayer is sparse white noise on a grid of cell-pixel cells, each kept
// with probability dens (value lo-1), upsampled bilinearly to the image.
func noiseLayer(g *gen, w, h int, cell, dens, lo float64) []float32 {
	gw, gh := int(float64(w)/cell)+2, int(float64(h)/cell)+2
	grid := make([]float32, gw*gh)
	for i := range grid {
		if g.u() < dens {
			grid[i] = float32(g.in(lo, 1))
		}
	}
	m := make([]float32, w*h)
	for y := range h {
		for x := range w {
			m[y*w+x] = at(grid, gw, gh, float64(x)/cell, float64(y)/cell)
		}
	}
	return m
}

// rainHO: thresholded noise smeared by a motion filter, composited by
// "lighten" or as refraction.
func rainHO(img *imageio.Image, c canvas, g *gen, v map[string]float64) string {
	recipe := "lighten"
	if g.u() >= 0.5 {
		recipe = "refract"
	}
	layers := 1 + g.pick(2)
	angle, dens, cell := g.in(-35, 35), g.logIn(0.002, 0.03), g.in(1, 2.5)
	length, op := g.in(0.03, 0.12), g.in(0.35, 0.9)
	w, h, n := c.w, c.h, c.w*c.h
	total := make([]float32, n)
	for k := range layers {
		a, cl, ln, d, o := angle, cell, length*c.long, dens, op
		if k > 0 {
			a += g.in(-8, 8)
			cl, ln, d, o = 0.7*cl, ln*g.in(0.5, 0.8), d*g.in(0.5, 1), 0.6*op
		}
		m := noiseLayer(g, w, h, cl, d, 0.5)
		smear(m, w, h, ln, a*rad)
		q := quantile(m, 0.999)
		peak := float32(0)
		for _, x := range m {
			peak = max(peak, x)
		}
		q = max(q, 0.3*peak, 1e-6)
		s := float32(o) / q
		for i, x := range m {
			total[i] = max(total[i], min(x*s, 1))
		}
	}
	if recipe == "lighten" {
		// a "lighten" layer of white-blue streaks at opacity op (the streak mask normalized to 1)
		lv := g.in(0.8, 0.95)
		col := [3]float32{float32(lv), float32(lv), float32(math.Min(lv*1.04, 1))}
		for k := range 3 {
			p := synth.Plane(img.RGB, w, h, k)
			for i, m := range total {
				l := max(p[i], min(m/float32(op), 1)*col[k])
				p[i] += float32(op) * (l - p[i])
			}
		}
	} else {
		shift := g.in(1.5, 6)
		nx, ny := math.Cos(angle*rad), -math.Sin(angle*rad) // across the streaks
		src := append([]float32(nil), img.RGB...)
		for k := range 3 {
			sp, p := synth.Plane(src, w, h, k), synth.Plane(img.RGB, w, h, k)
			for y := range h {
				for x := range w {
					i := y*w + x
					m := float64(total[i])
					p[i] = at(sp, w, h, float64(x)+shift*m*nx, float64(y)+shift*m*ny) + float32(0.45*m)
				}
			}
		}
		v["shift"] = shift
	}
	v["recipe"] = map[string]float64{"lighten": 0, "refract": 1}[recipe]
	v["layers"], v["angle"], v["density"], v["cell"], v["length"], v["opacity"] = float64(layers), angle, dens, cell, length, op
	return recipe
}

// snowHO: blobs from coarse thresholded noise, defocused per layer and
// screened on, under a cold cast and a fog thickening towards the top.
func snowHO(img *imageio.Image, c canvas, g *gen, v map[string]float64) string {
	layers := 2 + g.pick(2)
	dens, cell, defocus := g.logIn(0.002, 0.03), g.in(1.5, 6), g.in(0.3, 1.5)
	wind := 0.0
	if g.u() < 0.4 {
		wind = 1
	}
	windA, fog, cold := g.in(-70, 70), g.in(0, 0.25), g.in(0, 0.08)
	w, h, n := c.w, c.h, c.w*c.h
	flakes := make([]float32, n)
	for k := range layers {
		cl := cell * math.Pow(0.6, float64(k))
		m := noiseLayer(g, w, h, cl, dens*math.Pow(1.6, float64(k)), 0.6)
		gaussian(m, w, h, defocus*cl*math.Pow(0.7, float64(k)))
		if k == 0 && wind == 1 {
			smear(m, w, h, g.in(2, 6)*cl, windA*rad)
		}
		peak := float32(1e-6)
		for _, x := range m {
			peak = max(peak, x)
		}
		s := float32(g.in(0.7, 1)*math.Pow(0.75, float64(k))) / peak
		for i, x := range m {
			flakes[i] = 1 - (1-flakes[i])*(1-min(x*s, 1))
		}
	}
	col := [3]float32{0.95, 0.97, 1}
	cast := [3]float32{float32(1 - cold), float32(1 - cold/2), 1}
	for k := range 3 {
		p := synth.Plane(img.RGB, w, h, k)
		for y := range h {
			f := float32(fog * (1 - 0.67*float64(y)/float64(max(h-1, 1))))
			for x := range w {
				i := y*w + x
				q := p[i]*cast[k]*(1-f) + 0.88*f
				p[i] = 1 - (1-q)*(1-flakes[i]*col[k])
			}
		}
	}
	v["layers"], v["density"], v["cell"], v["defocus"], v["wind"] = float64(layers), dens, cell, defocus, wind
	v["wind_angle"], v["fog"], v["cold"] = windA, fog, cold
	return "noise-flakes"
}

// blurHO: a spline camera-shake path, a zoom blur or a polygonal defocus
// in linear light, then mild noise.
func blurHO(img *imageio.Image, c canvas, g *gen, v map[string]float64) string {
	w, h, n := c.w, c.h, c.w*c.h
	var recipe string
	switch u := g.u(); {
	case u < 0.45:
		recipe = "spline"
		e := g.in(0.012, 0.045)
		pts := 4 + g.pick(3)
		kn := splineKernel(g, e*c.long, pts)
		for k := range 3 {
			kn.convolve(synth.Plane(img.RGB, w, h, k), w, h)
		}
		v["recipe"], v["extent"], v["points"] = 0, e, float64(pts)
	case u < 0.65:
		recipe = "zoom"
		z := g.in(0.01, 0.04)
		cx, cy := g.in(0.3, 0.7)*float64(w), g.in(0.3, 0.7)*float64(h)
		steps := int(z*c.long*0.75) + 3
		src := append([]float32(nil), img.RGB...)
		for k := range 3 {
			sp, p := synth.Plane(src, w, h, k), synth.Plane(img.RGB, w, h, k)
			for y := range h {
				for x := range w {
					var s float32
					for j := range steps {
						f := 1 - z*float64(j)/float64(steps-1)
						s += at(sp, w, h, cx+(float64(x)-cx)*f, cy+(float64(y)-cy)*f)
					}
					p[y*w+x] = s / float32(steps)
				}
			}
		}
		v["recipe"], v["zoom"] = 1, z
	default:
		recipe = "polygon"
		r := g.in(0.004, 0.014) * c.long
		blades := 5 + g.pick(4)
		rot, rim := g.in(0, 2*math.Pi), g.in(0, 1.5)
		kn := polygonKernel(math.Max(r, 1), blades, rot, rim)
		for i, x := range img.RGB {
			img.RGB[i] = float32(math.Pow(float64(max(x, 0)), 2.2))
		}
		for k := range 3 {
			kn.convolve(synth.Plane(img.RGB, w, h, k), w, h)
		}
		for i, x := range img.RGB {
			img.RGB[i] = float32(math.Pow(float64(max(x, 0)), 1/2.2))
		}
		v["recipe"], v["radius"], v["blades"], v["rim"] = 2, r/c.long, float64(blades), rim
	}
	sigma := g.in(0.001, 0.008)
	for i := range img.RGB[:3*n] {
		img.RGB[i] += float32(sigma * g.gauss())
	}
	v["noise"] = sigma
	return recipe
}

// splineKernel: a Catmull-Rom curve through random points in a box of the
// given side, sampled uniformly in its parameter (slow stretches collect
// more exposure), centred on its centroid and splatted bilinearly.
func splineKernel(g *gen, side float64, pts int) kernel {
	px, py := make([]float64, pts), make([]float64, pts)
	for i := range px {
		px[i], py[i] = g.in(0, side), g.in(0, side)
	}
	get := func(a []float64, i int) float64 { return a[min(max(i, 0), len(a)-1)] }
	var xs, ys []float64
	const per = 60
	for s := 0; s+1 < pts; s++ {
		for j := range per {
			t := float64(j) / per
			cr := func(a []float64) float64 {
				p0, p1, p2, p3 := get(a, s-1), get(a, s), get(a, s+1), get(a, s+2)
				return 0.5 * (2*p1 + (-p0+p2)*t + (2*p0-5*p1+4*p2-p3)*t*t + (-p0+3*p1-3*p2+p3)*t*t*t)
			}
			xs, ys = append(xs, cr(px)), append(ys, cr(py))
		}
	}
	var cx, cy float64
	for i := range xs {
		cx += xs[i]
		cy += ys[i]
	}
	cx /= float64(len(xs))
	cy /= float64(len(ys))
	r := 2
	for i := range xs {
		r = max(r, int(math.Ceil(math.Abs(xs[i]-cx)))+2, int(math.Ceil(math.Abs(ys[i]-cy)))+2)
	}
	side2 := 2*r + 1
	kn := kernel{r: r, k: make([]float32, side2*side2)}
	for i := range xs {
		x, y := xs[i]-cx+float64(r), ys[i]-cy+float64(r)
		fx, fy := math.Floor(x), math.Floor(y)
		tx, ty := x-fx, y-fy
		for _, q := range [4]struct {
			dx, dy int
			w      float64
		}{{0, 0, (1 - tx) * (1 - ty)}, {1, 0, tx * (1 - ty)}, {0, 1, (1 - tx) * ty}, {1, 1, tx * ty}} {
			xx, yy := int(fx)+q.dx, int(fy)+q.dy
			if xx >= 0 && yy >= 0 && xx < side2 && yy < side2 {
				kn.k[yy*side2+xx] += float32(q.w)
			}
		}
	}
	kn.normalize()
	return kn
}

// polygonKernel: a regular polygonal aperture of circumradius r, 4×4
// supersampled, weighted 1 + rim·ρ² (ρ: distance from the centre over r).
func polygonKernel(r float64, blades int, rot, rim float64) kernel {
	R := int(math.Ceil(r)) + 1
	side := 2*R + 1
	kn := kernel{r: R, k: make([]float32, side*side)}
	apo := r * math.Cos(math.Pi/float64(blades)) // inradius
	for y := -R; y <= R; y++ {
		for x := -R; x <= R; x++ {
			var s float64
			for sy := range 4 {
				for sx := range 4 {
					px, py := float64(x)+(float64(sx)+0.5)/4-0.5, float64(y)+(float64(sy)+0.5)/4-0.5
					d := math.Hypot(px, py)
					th := math.Atan2(py, px) - rot
					seg := 2 * math.Pi / float64(blades)
					a := th - seg*math.Floor(th/seg) - seg/2 // angle from the nearest edge's normal
					if d*math.Cos(a) <= apo {
						s += 1 + rim*(d/r)*(d/r)
					}
				}
			}
			kn.k[(y+R)*side+x+R] = float32(s / 16)
		}
	}
	kn.normalize()
	return kn
}
