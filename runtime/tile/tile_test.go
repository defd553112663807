package tile

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// axes returns the distinct column and row spans of a tile grid in order.
func axes(tiles []Rect) (xs, ys [][2]int) {
	for _, t := range tiles {
		if x := [2]int{t.X0, t.X1}; !slices.Contains(xs, x) {
			xs = append(xs, x)
		}
		if y := [2]int{t.Y0, t.Y1}; !slices.Contains(ys, y) {
			ys = append(ys, y)
		}
	}
	return xs, ys
}

func TestPlanProperties(t *testing.T) {
	for _, w := range []int{1, 2, 7, 64, 100, 257} {
		for _, h := range []int{1, 3, 64, 99} {
			for _, size := range []int{-1, 0, 1, 2, 5, 16, 64, 100, 300} {
				for _, overlap := range []int{0, 1, 4, 15} {
					if size > 0 && overlap >= size {
						continue
					}
					name := fmt.Sprintf("%dx%d/size%d/overlap%d", w, h, size, overlap)
					tiles, err := Plan(w, h, size, overlap)
					if err != nil {
						t.Fatalf("%s: %v", name, err)
					}
					checkPlan(t, name, tiles, w, h, size, overlap)
				}
			}
		}
	}
}

func checkPlan(t *testing.T, name string, tiles []Rect, w, h, size, overlap int) {
	t.Helper()
	tw, th := w, h
	if size > 0 {
		tw, th = min(size, w), min(size, h)
	}
	cover := make([]int, w*h)
	for _, r := range tiles {
		if r.X0 < 0 || r.Y0 < 0 || r.X1 > w || r.Y1 > h {
			t.Fatalf("%s: tile %v outside the image", name, r)
		}
		if r.W() != tw || r.H() != th {
			t.Fatalf("%s: tile %v is %dx%d, want all %dx%d", name, r, r.W(), r.H(), tw, th)
		}
		for y := r.Y0; y < r.Y1; y++ {
			for x := r.X0; x < r.X1; x++ {
				cover[y*w+x]++
			}
		}
	}
	if i := slices.Index(cover, 0); i >= 0 {
		t.Fatalf("%s: pixel (%d,%d) not covered", name, i%w, i/w)
	}
	xs, ys := axes(tiles)
	if len(xs)*len(ys) != len(tiles) {
		t.Fatalf("%s: %d tiles do not form a %dx%d grid", name, len(tiles), len(xs), len(ys))
	}
	for i, r := range tiles { // row-major
		if want := (Rect{xs[i%len(xs)][0], ys[i/len(xs)][0], xs[i%len(xs)][1], ys[i/len(xs)][1]}); r != want {
			t.Fatalf("%s: tile %d is %v, want %v (row-major)", name, i, r, want)
		}
	}
	for _, ax := range []struct {
		spans   [][2]int
		n, size int
	}{{xs, w, tw}, {ys, h, th}} {
		k := len(ax.spans)
		for i := 1; i < k; i++ {
			if got := ax.spans[i-1][1] - ax.spans[i][0]; got < overlap {
				t.Fatalf("%s: spans %v and %v overlap by %d < %d", name, ax.spans[i-1], ax.spans[i], got, overlap)
			}
		}
		// Fewest tiles: one less could not reach across the axis.
		if k > 1 && (k-1)*ax.size-(k-2)*overlap >= ax.n {
			t.Fatalf("%s: %d spans along %d pixels, %d would do", name, k, ax.n, k-1)
		}
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name                string
		w, h, size, overlap int
	}{
		{"zero width", 0, 10, 4, 1},
		{"negative height", 10, -1, 4, 1},
		{"negative overlap", 10, 10, 4, -1},
		{"negative overlap, one tile", 10, 10, 0, -1},
		{"overlap equals size", 10, 10, 4, 4},
		{"overlap exceeds size", 10, 10, 4, 9},
		{"overlap exceeds size, image fits", 3, 3, 4, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tiles, err := Plan(tc.w, tc.h, tc.size, tc.overlap); err == nil {
				t.Fatalf("got %v, want error", tiles)
			}
		})
	}
}

// blendTiles runs every tile through process and returns the blended image.
func blendTiles(t *testing.T, img []float32, w, h, c int, tiles []Rect, overlap int, process func(i int, tile []float32)) []float32 {
	t.Helper()
	b, err := NewBlender(w, h, c, tiles, overlap)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range tiles {
		data := make([]float32, 0, c*r.W()*r.H())
		for ch := range c {
			for y := r.Y0; y < r.Y1; y++ {
				data = append(data, img[ch*w*h+y*w+r.X0:ch*w*h+y*w+r.X1]...)
			}
		}
		process(i, data)
		if err := b.Add(r, data); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]float32, c*w*h)
	if err := b.Result(out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBlendIdentity(t *testing.T) {
	tests := []struct {
		w, h, c, size, overlap int
	}{
		{1, 1, 3, 0, 0},
		{1, 50, 3, 8, 3},
		{50, 1, 1, 8, 3},
		{17, 13, 3, 5, 2},
		{64, 64, 3, 64, 8}, // size == w: one tile
		{64, 40, 3, 32, 0}, // abutting tiles, no ramp
		{65, 33, 3, 32, 0},
		{101, 77, 3, 40, 10},
		{100, 100, 2, 40, 10}, // actual overlap == requested
		{31, 29, 3, 9, 6},     // nine tiles over each pixel
		{20, 20, 1, 3, 1},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%dx%d/size%d/overlap%d", tc.w, tc.h, tc.c, tc.size, tc.overlap), func(t *testing.T) {
			img := make([]float32, tc.c*tc.w*tc.h)
			for i := range img {
				img[i] = rng.Float32()
			}
			tiles, err := Plan(tc.w, tc.h, tc.size, tc.overlap)
			if err != nil {
				t.Fatal(err)
			}
			out := blendTiles(t, img, tc.w, tc.h, tc.c, tiles, tc.overlap, func(int, []float32) {})
			for i := range img {
				if d := math.Abs(float64(out[i] - img[i])); d > 1e-6 {
					t.Fatalf("value %d: got %v, want %v", i, out[i], img[i])
				}
			}
		})
	}
}

func TestBlendIrregularTiles(t *testing.T) {
	// Not a grid: two tiles side by side and a wide one overlapping both.
	const w, h = 10, 6
	tiles := []Rect{{0, 0, 6, 4}, {4, 0, 10, 4}, {0, 3, 10, 6}}
	img := make([]float32, w*h)
	for i := range img {
		img[i] = float32(i) / float32(len(img))
	}
	out := blendTiles(t, img, w, h, 1, tiles, 2, func(int, []float32) {})
	for i := range img {
		if d := math.Abs(float64(out[i] - img[i])); d > 1e-6 {
			t.Fatalf("value %d: got %v, want %v", i, out[i], img[i])
		}
	}
}

// maxSteps returns the largest absolute difference between horizontally
// and between vertically adjacent pixels of a single-channel image.
func maxSteps(img []float32, w, h int) (dx, dy float64) {
	for y := range h {
		for x := range w {
			v := float64(img[y*w+x])
			if x+1 < w {
				dx = max(dx, math.Abs(float64(img[y*w+x+1])-v))
			}
			if y+1 < h {
				dy = max(dy, math.Abs(float64(img[(y+1)*w+x])-v))
			}
		}
	}
	return dx, dy
}

func TestBlendHasNoSeams(t *testing.T) {
	tests := []struct {
		w, h, size, overlap int
	}{
		{100, 100, 40, 10}, // overlaps exactly 10: the ramps coincide
		{101, 90, 40, 10},  // overlaps 19..20: ramps only partly meet
		{200, 120, 64, 16},
		{97, 61, 32, 24},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%dx%d/size%d/overlap%d", tc.w, tc.h, tc.size, tc.overlap), func(t *testing.T) {
			const offset = 0.02
			gx, gy := 0.3/float64(tc.w), 0.2/float64(tc.h)
			img := make([]float32, tc.w*tc.h)
			for y := range tc.h {
				for x := range tc.w {
					img[y*tc.w+x] = float32(gx*float64(x) + gy*float64(y))
				}
			}
			tiles, err := Plan(tc.w, tc.h, tc.size, tc.overlap)
			if err != nil {
				t.Fatal(err)
			}
			// Each tile comes back with its own brightness offset, the way
			// independently processed tiles drift apart.
			shift := func(i int, data []float32) {
				for k := range data {
					data[k] += offset * float32(i)
				}
			}
			// The largest offset difference between tiles that blend along
			// a row (same row span, overlapping) and along a column.
			var jumpX, jumpY float64
			for i, a := range tiles {
				for j, b := range tiles {
					d := offset * math.Abs(float64(i-j))
					if a.Y0 == b.Y0 && a.X0 < b.X1 && b.X0 < a.X1 {
						jumpX = max(jumpX, d)
					}
					if a.X0 == b.X0 && a.Y0 < b.Y1 && b.Y0 < a.Y1 {
						jumpY = max(jumpY, d)
					}
				}
			}
			limitX := 2*jumpX/float64(tc.overlap) + gx + 1e-6
			limitY := 2*jumpY/float64(tc.overlap) + gy + 1e-6

			dx, dy := maxSteps(blendTiles(t, img, tc.w, tc.h, 1, tiles, tc.overlap, shift), tc.w, tc.h)
			if dx > limitX || dy > limitY {
				t.Errorf("max step %.4f x, %.4f y; want at most %.4f, %.4f", dx, dy, limitX, limitY)
			}
			// The same tiles averaged without ramps must break the limit,
			// or this test could not see a seam.
			dx, dy = maxSteps(blendTiles(t, img, tc.w, tc.h, 1, tiles, 0, shift), tc.w, tc.h)
			if dx <= limitX || dy <= limitY {
				t.Errorf("unweighted average: max step %.4f x, %.4f y is within the limit", dx, dy)
			}
		})
	}
}

func TestRamp(t *testing.T) {
	const o = 6
	w := ramp(20, true, true, o)
	for p := range o {
		if w[p] != w[len(w)-1-p] {
			t.Errorf("ramp not symmetric at %d: %v", p, w)
		}
		if p > 0 && w[p] <= w[p-1] {
			t.Errorf("ramp not increasing at %d: %v", p, w)
		}
		// A neighbour's mirrored ramp over the same band completes it.
		if s := w[p] + w[o-1-p]; math.Abs(float64(s)-(1+minWeight)) > 1e-6 {
			t.Errorf("w[%d]+w[%d] = %v, want 1+minWeight", p, o-1-p, s)
		}
	}
	if w[0] <= 0 || w[0] > 0.1 {
		t.Errorf("edge weight %v, want small and positive", w[0])
	}
	for p := o; p < len(w)-o; p++ {
		if w[p] != 1 {
			t.Errorf("interior weight %v at %d, want 1", w[p], p)
		}
	}
	for _, v := range ramp(5, false, false, o) {
		if v != 1 {
			t.Errorf("ramp without neighbours has %v, want 1", v)
		}
	}
	for _, v := range ramp(4, true, true, o) { // bands wider than the tile
		if !(v > 0 && v < 1) {
			t.Errorf("narrow ramp value %v, want in (0,1)", v)
		}
	}
}

func TestBlenderErrors(t *testing.T) {
	tiles := []Rect{{0, 0, 6, 4}, {4, 0, 10, 4}}
	newErrs := []struct {
		name    string
		w, h, c int
		tiles   []Rect
		overlap int
	}{
		{"zero width", 0, 4, 1, tiles, 2},
		{"no channels", 10, 4, 0, tiles, 2},
		{"negative overlap", 10, 4, 1, tiles, -1},
		{"no tiles", 10, 4, 1, nil, 2},
		{"tile outside", 8, 4, 1, tiles, 2},
		{"empty tile", 10, 4, 1, []Rect{{0, 0, 0, 4}}, 2},
		{"duplicate tile", 10, 4, 1, []Rect{tiles[0], tiles[0]}, 2},
	}
	for _, tc := range newErrs {
		if _, err := NewBlender(tc.w, tc.h, tc.c, tc.tiles, tc.overlap); err == nil {
			t.Errorf("NewBlender %s: no error", tc.name)
		}
	}

	b, err := NewBlender(10, 4, 2, tiles, 2)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]float32, 2*6*4)
	addErrs := []struct {
		name string
		r    Rect
		data []float32
	}{
		{"unknown tile", Rect{1, 0, 7, 4}, data},
		{"short data", tiles[1], data[1:]},
		{"second add", tiles[0], data}, // after the successful add below
	}
	if err := b.Add(tiles[0], data); err != nil {
		t.Fatal(err)
	}
	for _, tc := range addErrs {
		if err := b.Add(tc.r, tc.data); err == nil {
			t.Errorf("Add %s: no error", tc.name)
		}
	}

	if err := b.Result(make([]float32, 10)); err == nil {
		t.Error("Result with short dst: no error")
	}
	dst := make([]float32, 2*10*4)
	for i := range dst {
		dst[i] = -1
	}
	if err := b.Result(dst); err == nil || !strings.Contains(err.Error(), "1 of 2 tiles not added") {
		t.Errorf("Result with a missing tile: error %v", err)
	}
	if dst[0] != 0 || dst[9] != 0 {
		t.Errorf("partial result not filled: %v", dst[:10])
	}

	// Tiles that leave pixels uncovered.
	b, err = NewBlender(10, 4, 1, tiles[:1], 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Add(tiles[0], make([]float32, 6*4)); err != nil {
		t.Fatal(err)
	}
	if err := b.Result(make([]float32, 10*4)); err == nil || !strings.Contains(err.Error(), "16 pixels uncovered") {
		t.Errorf("Result with uncovered pixels: error %v", err)
	}
}
