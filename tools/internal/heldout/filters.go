package heldout

import (
	"math"
	"slices"
)

// mirror folds an index into [0, n) by reflection (…2 1 0 1 2…).
func mirror(i, n int) int {
	if n == 1 {
		return 0
	}
	period := 2 * (n - 1)
	i %= period
	if i < 0 {
		i += period
	}
	if i >= n {
		i = period - i
	}
	return i
}

// gaussian blurs one plane with a sampled Gaussian of std sigma, separably,
// with mirrored borders: O(pixels × sigma).
func gaussian(p []float32, w, h int, sigma float64) {
	if sigma < 0.2 {
		return
	}
	r := int(math.Ceil(3 * sigma))
	k := make([]float64, 2*r+1)
	var sum float64
	for i := range k {
		d := float64(i - r)
		k[i] = math.Exp(-d * d / (2 * sigma * sigma))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(p))
	for y := range h {
		row := p[y*w : (y+1)*w]
		for x := range w {
			var s float64
			for i, kv := range k {
				s += kv * float64(row[mirror(x+i-r, w)])
			}
			tmp[y*w+x] = float32(s)
		}
	}
	for y := range h {
		for x := range w {
			var s float64
			for i, kv := range k {
				s += kv * float64(tmp[mirror(y+i-r, h)*w+x])
			}
			p[y*w+x] = float32(s)
		}
	}
}

// at samples a plane bilinearly at (x, y) (pixel centres at integers),
// borders mirrored.
func at(p []float32, w, h int, x, y float64) float32 {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	tx, ty := float32(x-fx), float32(y-fy)
	x0, x1 := mirror(ix, w), mirror(ix+1, w)
	y0, y1 := mirror(iy, h), mirror(iy+1, h)
	a := p[y0*w+x0]*(1-tx) + p[y0*w+x1]*tx
	b := p[y1*w+x0]*(1-tx) + p[y1*w+x1]*tx
	return a*(1-ty) + b*ty
}

// smear averages a plane along a centred segment of the given length and
// direction (radians from vertical), one bilinear sample per pixel of length.
func smear(p []float32, w, h int, length, angle float64) {
	if length < 1 {
		return
	}
	n := int(length) + 2
	sx, sy := math.Sin(angle), math.Cos(angle)
	src := append([]float32(nil), p...)
	inv := 1 / float32(n)
	for y := range h {
		for x := range w {
			var s float32
			for j := range n {
				d := (float64(j)/float64(n-1) - 0.5) * length
				s += at(src, w, h, float64(x)+d*sx, float64(y)+d*sy)
			}
			p[y*w+x] = s * inv
		}
	}
}

// kernel is a dense odd-sided convolution kernel (sums to 1).
type kernel struct {
	r int // side 2r+1
	k []float32
}

// convolve applies a dense kernel to one plane, skipping its zero taps,
// with mirrored borders.
func (kn kernel) convolve(p []float32, w, h int) {
	side := 2*kn.r + 1
	type tp struct {
		dx, dy int
		v      float32
	}
	var taps []tp
	for i, v := range kn.k {
		if v != 0 {
			taps = append(taps, tp{i%side - kn.r, i/side - kn.r, v})
		}
	}
	src := append([]float32(nil), p...)
	for y := range h {
		for x := range w {
			var s float32
			for _, t := range taps {
				s += t.v * src[mirror(y-t.dy, h)*w+mirror(x-t.dx, w)]
			}
			p[y*w+x] = s
		}
	}
}

// normalize scales a kernel to sum 1 and drops taps under 1/500 of the peak.
func (kn *kernel) normalize() {
	var peak, sum float32
	for _, v := range kn.k {
		peak = max(peak, v)
	}
	for i, v := range kn.k {
		if v < peak/500 {
			kn.k[i] = 0
		} else {
			sum += v
		}
	}
	for i := range kn.k {
		kn.k[i] /= sum
	}
}

func lumaOf(rgb []float32, n int) []float32 {
	y := make([]float32, n)
	for i := range y {
		y[i] = 0.299*rgb[i] + 0.587*rgb[n+i] + 0.114*rgb[2*n+i]
	}
	return y
}

// quantile returns the q-quantile of v (a sorted copy is made).
func quantile(v []float32, q float64) float32 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}
