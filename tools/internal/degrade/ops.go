package degrade

import "math"

func clampi(v, lo, hi int) int { return min(max(v, lo), hi) }

// boxBlur blurs one plane in place with a (2r+1)² box, clamp-to-edge,
// as two running-sum passes: O(pixels) whatever r is.
func boxBlur(p []float32, w, h, r int) {
	if r <= 0 {
		return
	}
	line := make([]float32, max(w, h))
	inv := 1 / float64(2*r+1)
	run := func(get func(i int) float32, set func(i int, v float32), n int) {
		for i := range n {
			line[i] = get(i)
		}
		var s float64
		for k := -r; k <= r; k++ {
			s += float64(line[clampi(k, 0, n-1)])
		}
		for i := range n {
			set(i, float32(s*inv))
			s += float64(line[clampi(i+r+1, 0, n-1)]) - float64(line[clampi(i-r, 0, n-1)])
		}
	}
	for y := range h {
		row := p[y*w : (y+1)*w]
		run(func(i int) float32 { return row[i] }, func(i int, v float32) { row[i] = v }, w)
	}
	for x := range w {
		run(func(i int) float32 { return p[i*w+x] }, func(i int, v float32) { p[i*w+x] = v }, h)
	}
}

// valueNoise is smooth noise in [0, 1]: random values on a coarse grid
// (cells along the long side), interpolated with a smoothstep, plus one
// octave at twice the frequency and half the amplitude, then stretched to
// span [0, 1].
func valueNoise(w, h, cells int, r *rng) []float32 {
	out := make([]float32, w*h)
	amp := 1.0
	for oct := 0; oct < 2; oct++ {
		c := cells << oct
		side := float64(max(w, h)) / float64(c)
		gw, gh := int(float64(w)/side)+2, int(float64(h)/side)+2
		grid := make([]float64, gw*gh)
		for i := range grid {
			grid[i] = r.Float()
		}
		for y := range h {
			fy := float64(y) / side
			y0 := int(fy)
			ty := smooth(fy - float64(y0))
			for x := range w {
				fx := float64(x) / side
				x0 := int(fx)
				tx := smooth(fx - float64(x0))
				a := grid[y0*gw+x0]*(1-tx) + grid[y0*gw+x0+1]*tx
				b := grid[(y0+1)*gw+x0]*(1-tx) + grid[(y0+1)*gw+x0+1]*tx
				out[y*w+x] += float32(amp * (a*(1-ty) + b*ty))
			}
		}
		amp *= 0.5
	}
	lo, hi := out[0], out[0]
	for _, v := range out {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi > lo {
		s := 1 / (hi - lo)
		for i, v := range out {
			out[i] = (v - lo) * s
		}
	}
	return out
}

func smooth(t float64) float64 { return t * t * (3 - 2*t) }

// lineBlur averages one plane along a segment of the given length (pixels)
// and angle (radians from vertical), centred on each pixel, with bilinear
// sampling and clamp-to-edge: O(pixels × length).
func lineBlur(p []float32, w, h int, length, angle float64) {
	if length < 1 {
		return
	}
	n := int(math.Ceil(length)) + 1
	dx, dy := math.Sin(angle), math.Cos(angle)
	type off struct {
		ix, iy             int
		w00, w01, w10, w11 float32
	}
	offs := make([]off, n)
	for i := range offs {
		s := (float64(i)/float64(n-1) - 0.5) * length
		ox, oy := s*dx, s*dy
		fx, fy := math.Floor(ox), math.Floor(oy)
		tx, ty := float32(ox-fx), float32(oy-fy)
		offs[i] = off{int(fx), int(fy), (1 - tx) * (1 - ty), tx * (1 - ty), (1 - tx) * ty, tx * ty}
	}
	src := append([]float32(nil), p...)
	inv := 1 / float32(n)
	for y := range h {
		for x := range w {
			var s float32
			for _, o := range offs {
				x0, y0 := clampi(x+o.ix, 0, w-1), clampi(y+o.iy, 0, h-1)
				x1, y1 := clampi(x+o.ix+1, 0, w-1), clampi(y+o.iy+1, 0, h-1)
				s += o.w00*src[y0*w+x0] + o.w01*src[y0*w+x1] + o.w10*src[y1*w+x0] + o.w11*src[y1*w+x1]
			}
			p[y*w+x] = s * inv
		}
	}
}

// splat adds v at (x, y) with bilinear weights.
func splat(p []float32, w, h int, x, y, v float64) {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	tx, ty := x-fx, y-fy
	add := func(i, j int, wt float64) {
		if i >= 0 && i < w && j >= 0 && j < h {
			p[j*w+i] += float32(v * wt)
		}
	}
	add(ix, iy, (1-tx)*(1-ty))
	add(ix+1, iy, tx*(1-ty))
	add(ix, iy+1, (1-tx)*ty)
	add(ix+1, iy+1, tx*ty)
}

// kernelTap is one non-zero tap of a sparse convolution kernel: the output
// at (x, y) takes w × input(x−dx, y−dy).
type kernelTap struct {
	dx, dy int
	w      float32
}

// sparseConvolve convolves one plane with a sparse kernel, clamp-to-edge:
// O(pixels × taps).
func sparseConvolve(p []float32, w, h int, taps []kernelTap) {
	src := append([]float32(nil), p...)
	clear(p)
	for _, t := range taps {
		for y := range h {
			sy := clampi(y-t.dy, 0, h-1)
			srow := src[sy*w : (sy+1)*w]
			drow := p[y*w : (y+1)*w]
			// interior: x - dx in [0, w)
			lo, hi := clampi(t.dx, 0, w), clampi(w+t.dx, 0, w)
			for x := 0; x < lo; x++ {
				drow[x] += t.w * srow[0]
			}
			s := srow[lo-t.dx : hi-t.dx]
			d := drow[lo:hi]
			for i := range d {
				d[i] += t.w * s[i]
			}
			for x := hi; x < w; x++ {
				drow[x] += t.w * srow[w-1]
			}
		}
	}
}

// discBlur averages one plane over a disc of the given radius (pixels),
// clamp-to-edge, as a sum of row spans over per-row prefix sums:
// O(pixels × diameter).
func discBlur(p []float32, w, h int, radius float64) {
	rr := int(math.Floor(radius))
	half := make([]int, 2*rr+1)
	count := 0
	for dy := -rr; dy <= rr; dy++ {
		hw := int(math.Floor(math.Sqrt(radius*radius-float64(dy*dy)) + 0.5))
		half[dy+rr] = hw
		count += 2*hw + 1
	}
	// prefix[y][x+1] is the sum of row y up to x; the part of a span that
	// runs past the edge is completed with the edge pixel (clamp-to-edge).
	prefix := make([]float64, h*(w+1))
	for y := range h {
		row := p[y*w : (y+1)*w]
		pr := prefix[y*(w+1) : (y+1)*(w+1)]
		for x, v := range row {
			pr[x+1] = pr[x] + float64(v)
		}
	}
	src := append([]float32(nil), p...)
	inv := 1 / float64(count)
	for y := range h {
		for x := range w {
			var s float64
			for k, hw := range half {
				sy := clampi(y+k-rr, 0, h-1)
				pr := prefix[sy*(w+1) : (sy+1)*(w+1)]
				a, b := x-hw, x+hw // inclusive span
				lo, hi := max(a, 0), min(b, w-1)
				s += pr[hi+1] - pr[lo]
				if a < 0 {
					s += float64(-a) * float64(src[sy*w])
				}
				if b > w-1 {
					s += float64(b-(w-1)) * float64(src[sy*w+w-1])
				}
			}
			p[y*w+x] = float32(s * inv)
		}
	}
}

// srgbToLinear and linearToSRGB are the sRGB transfer functions (IEC 61966-2-1).
func srgbToLinear(v float64) float64 {
	if v <= 0.04045 {
		return v / 12.92
	}
	return math.Pow((v+0.055)/1.055, 2.4)
}

// linearPow is srgbToLinear(v)^g with one math.Pow.
func linearPow(v, g float64) float64 {
	if v <= 0.04045 {
		return math.Pow(v/12.92, g)
	}
	return math.Pow((v+0.055)/1.055, 2.4*g)
}

func linearToSRGB(v float64) float64 {
	if v <= 0.0031308 {
		return 12.92 * v
	}
	return 1.055*math.Pow(v, 1/2.4) - 0.055
}
