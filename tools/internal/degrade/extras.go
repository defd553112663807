package degrade

import (
	"bytes"
	"image"
	"image/jpeg"
	"math"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

// extras applies, after the task's degradation, what real photos add on
// top (in the spirit of BSRGAN's shuffled and Real-ESRGAN's second-order
// pipelines, at mild strengths): each of sensor noise (p 0.3), a
// down-and-up resize (p 0.3) and JPEG compression (p 0.4), in a random order.
// Values not applied are recorded as 0.
func extras(img *imageio.Image, f frame, r *rng, v map[string]float64) {
	order := []int{0, 1, 2}
	for i := len(order) - 1; i > 0; i-- {
		j := r.Intn(i + 1)
		order[i], order[j] = order[j], order[i]
	}
	v["x_noise"], v["x_gray_noise"], v["x_resize"], v["x_resize_up"], v["x_jpeg"] = 0, 0, 0, 0, 0
	for _, op := range order {
		switch op {
		case 0:
			if r.Float() >= 0.3 {
				continue
			}
			sigma := r.logUniform(0.002, 0.02)
			gray := r.Float() < 0.4
			n := f.w * f.h
			for i := range n {
				z := r.normal()
				for c := range 3 {
					if !gray && c > 0 {
						z = r.normal()
					}
					img.RGB[c*n+i] += float32(sigma * z)
				}
			}
			v["x_noise"] = sigma
			if gray {
				v["x_gray_noise"] = 1
			}
		case 1:
			if r.Float() >= 0.3 {
				continue
			}
			s := r.uniform(0.5, 0.9)
			up := r.Intn(2) // 0 bilinear, 1 bicubic (Catmull-Rom)
			resizeDownUp(img, s, up == 1)
			v["x_resize"], v["x_resize_up"] = s, float64(up)
		case 2:
			if r.Float() >= 0.4 {
				continue
			}
			q := 35 + r.Intn(61)
			jpegRoundTrip(img, q)
			v["x_jpeg"] = float64(q)
		}
	}
}

// resizeDownUp shrinks img by area averaging to scale s and enlarges it back
// to its size by bilinear or bicubic interpolation: the softness of a photo
// that was resized on its way.
func resizeDownUp(img *imageio.Image, s float64, cubic bool) {
	w, h := img.W, img.H
	nw, nh := max(2, int(math.Round(float64(w)*s))), max(2, int(math.Round(float64(h)*s)))
	small := make([]float32, nw*nh)
	for c := range 3 {
		p := synth.Plane(img.RGB, w, h, c)
		resizePlane(p, w, h, small, nw, nh)
		for y := range h {
			sy := (float64(y)+0.5)*float64(nh)/float64(h) - 0.5
			for x := range w {
				sx := (float64(x)+0.5)*float64(nw)/float64(w) - 0.5
				p[y*w+x] = interp(small, nw, nh, sx, sy, cubic)
			}
		}
	}
}

func interp(p []float32, w, h int, x, y float64, cubic bool) float32 {
	fx, fy := math.Floor(x), math.Floor(y)
	ix, iy := int(fx), int(fy)
	tx, ty := x-fx, y-fy
	get := func(i, j int) float64 { return float64(p[clampi(j, 0, h-1)*w+clampi(i, 0, w-1)]) }
	if !cubic {
		a := get(ix, iy)*(1-tx) + get(ix+1, iy)*tx
		b := get(ix, iy+1)*(1-tx) + get(ix+1, iy+1)*tx
		return float32(a*(1-ty) + b*ty)
	}
	cr := func(t float64) [4]float64 { // Catmull-Rom weights
		t2, t3 := t*t, t*t*t
		return [4]float64{(-t3 + 2*t2 - t) / 2, (3*t3 - 5*t2 + 2) / 2, (-3*t3 + 4*t2 + t) / 2, (t3 - t2) / 2}
	}
	wx, wy := cr(tx), cr(ty)
	var s float64
	for j := range 4 {
		var row float64
		for i := range 4 {
			row += wx[i] * get(ix-1+i, iy-1+j)
		}
		s += wy[j] * row
	}
	return float32(s)
}

// jpegRoundTrip encodes img as a JPEG of quality q (Go's encoder: 4:2:0
// chroma) and decodes it back.
func jpegRoundTrip(img *imageio.Image, q int) {
	w, h, n := img.W, img.H, img.W*img.H
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range n {
		for c := range 3 {
			m.Pix[4*i+c] = uint8(synth.Clamp01(img.RGB[c*n+i])*255 + 0.5)
		}
		m.Pix[4*i+3] = 255
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, m, &jpeg.Options{Quality: q}); err != nil {
		return // cannot happen for an in-memory RGBA image
	}
	d, err := jpeg.Decode(&buf)
	if err != nil {
		return
	}
	for y := range h {
		for x := range w {
			r, g, b, _ := d.At(x, y).RGBA()
			i := y*w + x
			img.RGB[i], img.RGB[n+i], img.RGB[2*n+i] = float32(r>>8)/255, float32(g>>8)/255, float32(b>>8)/255
		}
	}
}

// gaussBlur blurs one plane with a sampled Gaussian of std sigma,
// separably, clamp-to-edge.
func gaussBlur(p []float32, w, h int, sigma float64) {
	rad := int(math.Ceil(3 * sigma))
	if rad < 1 {
		return
	}
	k := make([]float32, 2*rad+1)
	var sum float32
	for i := range k {
		d := float64(i - rad)
		k[i] = float32(math.Exp(-d * d / (2 * sigma * sigma)))
		sum += k[i]
	}
	for i := range k {
		k[i] /= sum
	}
	tmp := make([]float32, len(p))
	for y := range h {
		for x := range w {
			var s float32
			for i, kv := range k {
				s += kv * p[y*w+clampi(x+i-rad, 0, w-1)]
			}
			tmp[y*w+x] = s
		}
	}
	for y := range h {
		for x := range w {
			var s float32
			for i, kv := range k {
				s += kv * tmp[clampi(y+i-rad, 0, h-1)*w+x]
			}
			p[y*w+x] = s
		}
	}
}
