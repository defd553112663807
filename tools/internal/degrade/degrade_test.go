package degrade

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/synth"
)

// testPhoto is a deterministic photo-like image: smooth colour gradients,
// a sharp-edged checker band, a disc and seeded texture. Mean about 0.45.
func testPhoto(w, h int) *imageio.Image {
	img := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	r := newRNG(7, 7)
	n := w * h
	for y := range h {
		for x := range w {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			rgb := [3]float64{0.2 + 0.5*u, 0.3 + 0.4*v, 0.55 + 0.25*math.Sin(6*u+3*v)}
			if v > 0.55 && v < 0.8 && ((x/4)+(y/4))%2 == 0 { // fine checker: high frequencies
				rgb = [3]float64{0.9, 0.85, 0.8}
			} else if v > 0.55 && v < 0.8 {
				rgb = [3]float64{0.1, 0.12, 0.15}
			}
			if dx, dy := u-0.3, v-0.3; dx*dx+dy*dy < 0.01 {
				rgb = [3]float64{0.8, 0.3, 0.2}
			}
			t := 0.04 * r.normal()
			for c := range 3 {
				img.RGB[c*n+y*w+x] = synth.Clamp01(float32(rgb[c] + t))
			}
		}
	}
	return img
}

func luma(img *imageio.Image) []float64 {
	n := img.W * img.H
	out := make([]float64, n)
	for i := range out {
		out[i] = 0.299*float64(img.RGB[i]) + 0.587*float64(img.RGB[n+i]) + 0.114*float64(img.RGB[2*n+i])
	}
	return out
}

func meanStd(v []float64) (m, s float64) {
	for _, x := range v {
		m += x
	}
	m /= float64(len(v))
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return m, math.Sqrt(s / float64(len(v)))
}

// hfEnergy is the mean squared response of the 4-neighbour Laplacian.
func hfEnergy(y []float64, w, h int) float64 {
	var s float64
	for j := 1; j < h-1; j++ {
		for i := 1; i < w-1; i++ {
			k := j*w + i
			l := 4*y[k] - y[k-1] - y[k+1] - y[k-w] - y[k+w]
			s += l * l
		}
	}
	return s / float64((w-2)*(h-2))
}

func TestDeterminism(t *testing.T) {
	img := testPhoto(160, 120)
	for _, task := range Tasks {
		a, pa, err := Apply(img, task, 42)
		if err != nil {
			t.Fatal(err)
		}
		b, pb, _ := Apply(img, task, 42)
		c, pc, _ := Apply(img, task, 43)
		for i := range a.RGB {
			if a.RGB[i] != b.RGB[i] {
				t.Fatalf("%s: same seed, pixel %d differs: %v vs %v", task, i, a.RGB[i], b.RGB[i])
			}
		}
		if pa.String() != pb.String() {
			t.Errorf("%s: same seed, params differ: %s / %s", task, pa, pb)
		}
		diff := 0
		for i := range a.RGB {
			if a.RGB[i] != c.RGB[i] {
				diff++
			}
		}
		if diff < len(a.RGB)/10 || pa.String() == pc.String() {
			t.Errorf("%s: seeds 42 and 43 differ in only %d of %d values (%s / %s)", task, diff, len(a.RGB), pa, pc)
		}
	}
}

func TestTasksDiffer(t *testing.T) {
	// The same seed must not give correlated draws across tasks.
	img := testPhoto(64, 48)
	_, p1, _ := Apply(img, Rain, 5)
	_, p2, _ := Apply(img, Snow, 5)
	if p1.Values["density"] == p2.Values["density"] {
		t.Errorf("rain and snow drew the same first values: %s / %s", p1, p2)
	}
}

// Outputs keep the size, depth and alpha and stay in [0, 1]; the input is
// left alone; every value drawn lies in its documented range, and every
// documented parameter, renderer and extra is used (non-zero) in 60 seeds.
func TestOutputsAndParams(t *testing.T) {
	img := testPhoto(97, 61) // odd sizes
	img.Alpha = make([]float32, 97*61)
	for i := range img.Alpha {
		img.Alpha[i] = float32(i%3) / 2
	}
	orig := append([]float32(nil), img.RGB...)
	renderer := map[Task]string{Haze: "proxy", Rain: "blend", Blur: "kind"}
	renderers := map[Task]int{Haze: 4, Rain: 3, Blur: 4}
	for _, task := range Tasks {
		rs := map[string]Range{}
		for _, r := range Ranges(task) {
			rs[r.Name] = r
		}
		used, kinds := map[string]bool{}, map[float64]bool{}
		for seed := uint64(0); seed < 60; seed++ {
			out, p, err := Apply(img, task, seed)
			if err != nil {
				t.Fatal(err)
			}
			if out.W != img.W || out.H != img.H || out.Depth != img.Depth || len(out.RGB) != len(img.RGB) || !slices.Equal(out.Alpha, img.Alpha) {
				t.Fatalf("%s: shape or alpha changed: %dx%d depth %d", task, out.W, out.H, out.Depth)
			}
			for i, v := range out.RGB {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%s seed %d: value %v at %d outside [0,1]", task, seed, v, i)
				}
			}
			if p.Task != task || p.Seed != seed {
				t.Fatalf("params name %s/%d", p.Task, p.Seed)
			}
			for k, v := range p.Values {
				r, ok := rs[k]
				if !ok {
					t.Fatalf("%s: parameter %q has no documented range", task, k)
				}
				if v < r.Min-1e-9 || v > r.Max+1e-9 || math.IsNaN(v) {
					t.Errorf("%s seed %d: %s = %v outside [%v, %v]", task, seed, k, v, r.Min, r.Max)
				}
				used[k] = used[k] || v != 0
			}
			kinds[p.Values[renderer[task]]] = true
		}
		for k := range rs {
			if !used[k] {
				t.Errorf("%s: documented parameter %q never used in 60 seeds", task, k)
			}
		}
		if want := renderers[task]; want > 0 && len(kinds) != want {
			t.Errorf("%s: renderers %v, want %d", task, kinds, want)
		}
	}
	if !slices.Equal(orig, img.RGB) {
		t.Fatal("Apply modified its input")
	}
	if Ranges("fog") != nil {
		t.Error("Ranges of an unknown task should be nil")
	}
}

func TestExpectedDirections(t *testing.T) {
	img := testPhoto(256, 192)
	w, h := img.W, img.H
	y0 := luma(img)
	m0, s0 := meanStd(y0)
	hf0 := hfEnergy(y0, w, h)
	for seed := uint64(0); seed < 6; seed++ {
		for _, task := range Tasks {
			out, p, err := Apply(img, task, seed)
			if err != nil {
				t.Fatal(err)
			}
			y1 := luma(out)
			m1, s1 := meanStd(y1)
			bright := 0 // pixels made clearly brighter
			for i := range y1 {
				if y1[i]-y0[i] > 0.12 {
					bright++
				}
			}
			frac := float64(bright) / float64(len(y1))
			switch task {
			case Haze:
				if !(m1 > m0+0.03 && s1 < 0.9*s0) {
					t.Errorf("%s: mean %.3f->%.3f, std %.3f->%.3f: want brighter and flatter", p, m0, m1, s0, s1)
				}
			case LowLight:
				if !(m1 < 0.5*m0) {
					t.Errorf("%s: mean %.3f->%.3f: want much darker", p, m0, m1)
				}
			case Rain, Snow:
				// bright structures: a visible share of pixels clearly brightened,
				// and the mean goes up.
				if !(frac > 0.003 && m1 > m0) {
					t.Errorf("%s: %.2f%% pixels brightened by >0.12, mean %.3f->%.3f", p, 100*frac, m0, m1)
				}
			case Blur:
				hf1 := hfEnergy(y1, w, h)
				if !(hf1 < 0.6*hf0) || math.Abs(m1-m0) > 0.02 {
					t.Errorf("%s: Laplacian energy %.5f->%.5f (want < 60%%), mean %.3f->%.3f", p, hf0, hf1, m0, m1)
				}
			}
		}
	}
}

func TestExtrasKeepConstants(t *testing.T) {
	img := &imageio.Image{W: 40, H: 30, Depth: 8, RGB: make([]float32, 3*40*30)}
	for i := range img.RGB {
		img.RGB[i] = 0.5
	}
	resizeDownUp(img, 0.6, true)
	jpegRoundTrip(img, 50)
	gaussBlur(img.RGB[:1200], 40, 30, 2)
	for i, v := range img.RGB {
		if math.Abs(float64(v)-0.5) > 1.5/255 {
			t.Fatalf("value %d: %v", i, v)
		}
	}
}

func TestShakeKernel(t *testing.T) {
	for seed := uint64(0); seed < 20; seed++ {
		taps := shakeKernel(newRNG(seed, 9), 15)
		var sum, cx, cy float64
		for _, tp := range taps {
			sum += float64(tp.w)
			cx += float64(tp.w) * float64(tp.dx)
			cy += float64(tp.w) * float64(tp.dy)
			if abs(tp.dx) > 17 || abs(tp.dy) > 17 {
				t.Fatalf("tap (%d,%d) beyond the extent", tp.dx, tp.dy)
			}
		}
		if math.Abs(sum-1) > 1e-4 || math.Abs(cx) > 0.6 || math.Abs(cy) > 0.6 {
			t.Errorf("seed %d: sum %.5f, centroid (%.2f, %.2f)", seed, sum, cx, cy)
		}
		if len(taps) < 10 {
			t.Errorf("seed %d: only %d taps", seed, len(taps))
		}
	}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

func TestFiltersPreserveConstants(t *testing.T) {
	const w, h = 37, 23
	for name, f := range map[string]func(p []float32){
		"box":    func(p []float32) { boxBlur(p, w, h, 5) },
		"line":   func(p []float32) { lineBlur(p, w, h, 9.5, 0.7) },
		"disc":   func(p []float32) { discBlur(p, w, h, 4.3) },
		"sparse": func(p []float32) { sparseConvolve(p, w, h, shakeKernel(newRNG(1, 1), 12)) },
	} {
		p := make([]float32, w*h)
		for i := range p {
			p[i] = 0.625
		}
		f(p)
		for i, v := range p {
			if math.Abs(float64(v)-0.625) > 1e-5 {
				t.Fatalf("%s: constant image changed at %d: %v", name, i, v)
			}
		}
	}
}

func TestDownscale(t *testing.T) {
	img := testPhoto(300, 200)
	out := Downscale(img, 120)
	if out.W != 120 || out.H != 80 {
		t.Fatalf("size %dx%d, want 120x80", out.W, out.H)
	}
	m0, _ := meanStd(luma(img))
	m1, _ := meanStd(luma(out))
	if math.Abs(m0-m1) > 1e-3 {
		t.Errorf("mean %.5f -> %.5f", m0, m1)
	}
	if Downscale(img, 300) != img || Downscale(img, 0) != img {
		t.Error("an image that fits must be returned as is")
	}
}

func TestParseTasks(t *testing.T) {
	ts, err := ParseTasks("rain, haze,rain,Low-Light")
	if err != nil || fmt.Sprint(ts) != "[rain haze lowlight]" {
		t.Fatalf("%v %v", ts, err)
	}
	if ts, _ := ParseTasks(""); len(ts) != 5 {
		t.Fatal(ts)
	}
	if _, err := ParseTasks("haze,fog"); err == nil {
		t.Fatal("fog accepted")
	}
	if _, _, err := Apply(testPhoto(8, 8), "fog", 1); err == nil {
		t.Fatal("Apply accepted an unknown task")
	}
	if _, _, err := Apply(&imageio.Image{}, Haze, 1); err == nil {
		t.Fatal("Apply accepted an empty image")
	}
	for i, task := range Tasks {
		if task.ID() != i {
			t.Fatal("ids")
		}
	}
}

func BenchmarkApply512(b *testing.B) {
	img := testPhoto(512, 512)
	for _, task := range Tasks {
		b.Run(string(task), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if _, _, err := Apply(img, task, uint64(i)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestTransferCurves(t *testing.T) {
	for _, v := range []float64{0, 0.01, 0.04045, 0.05, 0.2, 0.5, 0.9, 1} {
		l := srgbToLinear(v)
		if got := linearPow(v, 1); math.Abs(got-l) > 1e-12 {
			t.Errorf("linearPow(%v, 1) = %v, want %v", v, got, l)
		}
		if got := linearPow(v, 2.2); math.Abs(got-math.Pow(l, 2.2)) > 1e-12 {
			t.Errorf("linearPow(%v, 2.2) = %v", v, got)
		}
		if back := linearToSRGB(l); math.Abs(back-v) > 1e-7 { // the standard curve has a 3e-8 seam at the knee
			t.Errorf("round trip %v -> %v", v, back)
		}
	}
}
