package heldout

import (
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// photo is a deterministic photo-like test image: gradients, a sky band,
// a checker of fine detail and seeded texture.
func photo(w, h int) *imageio.Image {
	img := &imageio.Image{W: w, H: h, Depth: 8, RGB: make([]float32, 3*w*h)}
	g := newGen(3, 3)
	n := w * h
	for y := range h {
		for x := range w {
			u, v := float64(x)/float64(w), float64(y)/float64(h)
			c := [3]float64{0.25 + 0.4*u, 0.35 + 0.3*v, 0.5 + 0.2*math.Sin(5*u+2*v)}
			if v < 0.25 {
				c = [3]float64{0.7, 0.8, 0.92}
			} else if v > 0.6 && ((x/3)+(y/3))%2 == 0 {
				c = [3]float64{0.85, 0.8, 0.75}
			} else if v > 0.6 {
				c = [3]float64{0.12, 0.1, 0.14}
			}
			t := 0.03 * g.gauss()
			for k := range 3 {
				img.RGB[k*n+y*w+x] = float32(math.Min(math.Max(c[k]+t, 0), 1))
			}
		}
	}
	return img
}

func meanLuma(img *imageio.Image) float64 {
	var s float64
	for _, y := range lumaOf(img.RGB, img.W*img.H) {
		s += float64(y)
	}
	return s / float64(img.W*img.H)
}

func TestDeterministicInSeed(t *testing.T) {
	img := photo(96, 72)
	for _, task := range Tasks {
		a, pa, err := Apply(img, task, 9)
		if err != nil {
			t.Fatal(err)
		}
		b, pb, _ := Apply(img, task, 9)
		c, pc, _ := Apply(img, task, 10)
		for i := range a.RGB {
			if a.RGB[i] != b.RGB[i] {
				t.Fatalf("%s: same seed differs at %d", task, i)
			}
		}
		if pa.String() != pb.String() || pa.String() == pc.String() {
			t.Errorf("%s: params %s / %s / %s", task, pa, pb, pc)
		}
		diff := 0
		for i := range a.RGB {
			if a.RGB[i] != c.RGB[i] {
				diff++
			}
		}
		if diff < len(a.RGB)/20 {
			t.Errorf("%s: seeds 9 and 10 differ in %d of %d values", task, diff, len(a.RGB))
		}
	}
}

// Every recipe is reached, every value drawn lies in its documented range,
// outputs keep the size and alpha, stay in [0, 1] and hold no NaN, and the
// input is left alone.
func TestRangesSizesAndRecipes(t *testing.T) {
	img := photo(83, 57)
	img.Alpha = make([]float32, 83*57)
	for i := range img.Alpha {
		img.Alpha[i] = float32(i%5) / 4
	}
	orig := append([]float32(nil), img.RGB...)
	for _, task := range Tasks {
		rs := map[string]Range{}
		for _, r := range Ranges(task) {
			rs[r.Name] = r
		}
		recipes := map[string]bool{}
		for seed := uint64(0); seed < 30; seed++ {
			out, p, err := Apply(img, task, seed)
			if err != nil {
				t.Fatal(err)
			}
			recipes[p.Recipe] = true
			if out.W != img.W || out.H != img.H || len(out.RGB) != len(img.RGB) || out.Depth != img.Depth {
				t.Fatalf("%s: shape changed", task)
			}
			for i, a := range out.Alpha {
				if a != img.Alpha[i] {
					t.Fatalf("%s: alpha changed", task)
				}
			}
			for i, x := range out.RGB {
				if !(x >= 0 && x <= 1) {
					t.Fatalf("%s seed %d: value %v at %d", task, seed, x, i)
				}
			}
			for k, x := range p.Values {
				r, ok := rs[k]
				if !ok {
					t.Fatalf("%s: %q undocumented", task, k)
				}
				if math.IsNaN(x) || x < r.Min-1e-9 || x > r.Max+1e-9 {
					t.Errorf("%s seed %d: %s = %v outside [%v, %v]", task, seed, k, x, r.Min, r.Max)
				}
			}
		}
		want := map[string]int{"haze": 2, "lowlight": 2, "rain": 2, "snow": 1, "blur": 3}[task]
		if len(recipes) != want {
			t.Errorf("%s: recipes reached %v, want %d", task, recipes, want)
		}
	}
	for i := range orig {
		if orig[i] != img.RGB[i] {
			t.Fatal("Apply changed its input")
		}
	}
	if _, _, err := Apply(img, "fog", 1); err == nil {
		t.Error("unknown task accepted")
	}
	if _, _, err := Apply(&imageio.Image{}, "haze", 1); err == nil {
		t.Error("empty image accepted")
	}
}

// Each task moves the photo the way its degradation should.
func TestDirections(t *testing.T) {
	img := photo(160, 120)
	m0 := meanLuma(img)
	for seed := uint64(0); seed < 8; seed++ {
		for _, task := range Tasks {
			out, p, _ := Apply(img, task, seed)
			m1 := meanLuma(out)
			var d float64
			for i := range out.RGB {
				d += math.Abs(float64(out.RGB[i] - img.RGB[i]))
			}
			d /= float64(len(out.RGB))
			switch task {
			case "rain", "snow":
				y0, y1 := lumaOf(img.RGB, img.W*img.H), lumaOf(out.RGB, img.W*img.H)
				lit := 0
				for i := range y0 {
					if y1[i]-y0[i] > 0.1 {
						lit++
					}
				}
				if lit < len(y0)/500 {
					t.Errorf("%s: %d pixels brightened by 0.1, want bright streaks or flakes", p, lit)
				}
			case "haze":
				if !(m1 > m0+0.005) {
					t.Errorf("%s: mean luma %.3f -> %.3f, want brighter", p, m0, m1)
				}
			case "lowlight":
				if !(m1 < 0.6*m0) {
					t.Errorf("%s: mean luma %.3f -> %.3f, want much darker", p, m0, m1)
				}
			case "blur":
				// a defocus in linear light brightens a fine black-and-white checker a little
				if math.Abs(m1-m0) > 0.05 {
					t.Errorf("%s: mean luma %.3f -> %.3f", p, m0, m1)
				}
			}
			if d < 0.001 {
				t.Errorf("%s: mean change %.4f: nothing happened", p, d)
			}
		}
	}
}

func TestKernelsSumToOne(t *testing.T) {
	g := newGen(1, 1)
	for i := range 10 {
		for _, kn := range []kernel{splineKernel(g, 4+float64(i)*3, 4+i%3), polygonKernel(1+float64(i), 5+i%4, float64(i), 1)} {
			var s float64
			for _, v := range kn.k {
				s += float64(v)
			}
			if math.Abs(s-1) > 1e-4 {
				t.Errorf("kernel sums to %v", s)
			}
		}
	}
}

// The held-out recipes must never make training data: nothing under
// tools/train may depend on this package (mkshard is Go; train.py reads
// only what mkshard writes).
func TestNeverImportedByTraining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "../../train/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "tools/internal/degrade") {
		t.Fatalf("go list found no training code (it should list degrade):\n%s", out)
	}
	if strings.Contains(string(out), "tools/internal/heldout") {
		t.Fatal("tools/train depends on tools/internal/heldout: held-out recipes must never make training data")
	}
}
