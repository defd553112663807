package tile

import (
	"errors"
	"fmt"
	"math"
)

// Rect is a half-open pixel rectangle [X0,X1)×[Y0,Y1).
type Rect struct{ X0, Y0, X1, Y1 int }

// W is the rectangle's width.
func (r Rect) W() int { return r.X1 - r.X0 }

// H is the rectangle's height.
func (r Rect) H() int { return r.Y1 - r.Y0 }

// Plan covers a w×h image with tiles of at most size×size whose neighbours
// overlap by at least overlap pixels, in row-major order. size <= 0, or a
// size that already fits the whole image, gives a single tile.
//
// All tiles have the same size (min(size,w) × min(size,h)) and the fewest
// tiles that satisfy the overlap are spread evenly, so there is no thin
// last tile and the spare room goes into wider overlaps. Equal shapes also
// let a backend reuse one compiled kernel for every tile.
func Plan(w, h, size, overlap int) ([]Rect, error) {
	switch {
	case w <= 0 || h <= 0:
		return nil, fmt.Errorf("plan %dx%d: empty image", w, h)
	case overlap < 0:
		return nil, fmt.Errorf("plan: negative overlap %d", overlap)
	case size > 0 && overlap >= size:
		return nil, fmt.Errorf("plan: overlap %d must be smaller than tile size %d", overlap, size)
	}
	if size <= 0 {
		return []Rect{{0, 0, w, h}}, nil
	}
	xs, ys := spans(w, size, overlap), spans(h, size, overlap)
	tiles := make([]Rect, 0, len(xs)*len(ys))
	for _, y := range ys {
		for _, x := range xs {
			tiles = append(tiles, Rect{x[0], y[0], x[1], y[1]})
		}
	}
	return tiles, nil
}

// spans splits [0,n) into the fewest segments of length min(s,n) whose
// consecutive members overlap by at least o, with evenly spread starts.
func spans(n, s, o int) [][2]int {
	if n <= s {
		return [][2]int{{0, n}}
	}
	// k segments reach k*s - (k-1)*o >= n pixels.
	k := (n - o + (s - o) - 1) / (s - o)
	out := make([][2]int, k)
	for i := range out {
		// Steps are at most ceil((n-s)/(k-1)) <= s-o, so the overlap holds.
		start := i * (n - s) / (k - 1)
		out[i] = [2]int{start, start + s}
	}
	return out
}

// minWeight is the weight at a tile's outermost pixel next to a neighbour.
// Keeping it positive means a pixel covered by only that edge still gets
// a well-defined value.
const minWeight = 1e-3

// Blender accumulates weighted tiles of C-channel planar float32 data into
// a W×H output. It holds C×W×H + W×H float32 values; per-tile weights are
// two 1-D ramps computed on the fly. It is not safe for concurrent use.
type Blender struct {
	w, h, c, overlap int
	index            map[Rect]int
	// neighbours[i] tells, per side (left, right, top, bottom), whether
	// another tile overlaps tile i across that side.
	neighbours [][4]bool
	added      []bool
	acc        []float32 // C×H×W weighted sums
	wsum       []float32 // H×W sums of weights
}

// NewBlender prepares blending of tiles (usually from Plan) into a w×h
// image with the given number of channels. overlap is the width of the
// weight ramp at each side that has a neighbour; pass the value given to
// Plan, whose actual overlaps are at least that wide.
func NewBlender(w, h, channels int, tiles []Rect, overlap int) (*Blender, error) {
	switch {
	case w <= 0 || h <= 0 || channels <= 0:
		return nil, fmt.Errorf("blender %dx%dx%d: empty output", channels, h, w)
	case overlap < 0:
		return nil, fmt.Errorf("blender: negative overlap %d", overlap)
	case len(tiles) == 0:
		return nil, errors.New("blender: no tiles")
	}
	b := &Blender{
		w: w, h: h, c: channels, overlap: overlap,
		index:      make(map[Rect]int, len(tiles)),
		neighbours: make([][4]bool, len(tiles)),
		added:      make([]bool, len(tiles)),
		acc:        make([]float32, channels*w*h),
		wsum:       make([]float32, w*h),
	}
	for i, t := range tiles {
		if t.X0 < 0 || t.Y0 < 0 || t.X1 > w || t.Y1 > h || t.W() <= 0 || t.H() <= 0 {
			return nil, fmt.Errorf("blender: tile %v outside %dx%d image or empty", t, w, h)
		}
		if _, dup := b.index[t]; dup {
			return nil, fmt.Errorf("blender: duplicate tile %v", t)
		}
		b.index[t] = i
	}
	// Quadratic in the tile count, which stays in the hundreds.
	for i, t := range tiles {
		for j, u := range tiles {
			if i == j {
				continue
			}
			rows := u.Y0 < t.Y1 && t.Y0 < u.Y1
			cols := u.X0 < t.X1 && t.X0 < u.X1
			n := &b.neighbours[i]
			n[0] = n[0] || rows && u.X0 < t.X0 && t.X0 < u.X1
			n[1] = n[1] || rows && u.X0 < t.X1 && t.X1 < u.X1
			n[2] = n[2] || cols && u.Y0 < t.Y0 && t.Y0 < u.Y1
			n[3] = n[3] || cols && u.Y0 < t.Y1 && t.Y1 < u.Y1
		}
	}
	return b, nil
}

// Add accumulates one processed tile; r must be one of the Blender's
// tiles and data planar C×r.H()×r.W().
func (b *Blender) Add(r Rect, data []float32) error {
	i, ok := b.index[r]
	switch {
	case !ok:
		return fmt.Errorf("add tile %v: not in the plan", r)
	case b.added[i]:
		return fmt.Errorf("add tile %v: already added", r)
	case len(data) != b.c*r.W()*r.H():
		return fmt.Errorf("add tile %v: %d values, want %d", r, len(data), b.c*r.W()*r.H())
	}
	b.added[i] = true
	n := b.neighbours[i]
	wx := ramp(r.W(), n[0], n[1], b.overlap)
	wy := ramp(r.H(), n[2], n[3], b.overlap)
	plane, tplane := b.w*b.h, r.W()*r.H()
	for y, fy := range wy {
		o := (r.Y0+y)*b.w + r.X0
		ws := b.wsum[o : o+r.W()]
		for x, fx := range wx {
			ws[x] += fy * fx
		}
		for c := range b.c {
			dst := b.acc[c*plane+o : c*plane+o+r.W()]
			src := data[c*tplane+y*r.W() : c*tplane+(y+1)*r.W()]
			for x, fx := range wx {
				dst[x] += fy * fx * src[x]
			}
		}
	}
	return nil
}

// ramp returns the 1-D weights along one tile axis of length n. The raised
// cosine is sampled at pixel centres, so the falling ramp of one tile and
// the rising ramp of a neighbour with the same overlap sum to 1+minWeight
// at every pixel: a constant image blends back exactly and the transition
// has no kink.
func ramp(n int, lo, hi bool, overlap int) []float32 {
	w := make([]float32, n)
	for i := range w {
		w[i] = 1
	}
	for p := range min(overlap, n) {
		f := float32(minWeight + (1-minWeight)*0.5*(1-math.Cos(math.Pi*(float64(p)+0.5)/float64(overlap))))
		if lo {
			w[p] *= f
		}
		if hi {
			w[n-1-p] *= f
		}
	}
	return w
}

// Result writes the weighted average, planar C×H×W, into dst. It fills
// dst even when it reports tiles that were never added or pixels no tile
// covers (those are 0), so a partial result can still be inspected.
func (b *Blender) Result(dst []float32) error {
	if len(dst) != len(b.acc) {
		return fmt.Errorf("blend result: dst has %d values, want %d", len(dst), len(b.acc))
	}
	plane := b.w * b.h
	uncovered := 0
	for _, ws := range b.wsum {
		if ws == 0 {
			uncovered++
		}
	}
	for c := range b.c {
		acc, out := b.acc[c*plane:(c+1)*plane], dst[c*plane:(c+1)*plane]
		for i, ws := range b.wsum {
			if ws == 0 {
				out[i] = 0 // avoid 0/0
				continue
			}
			out[i] = acc[i] / ws
		}
	}
	missing := 0
	for _, a := range b.added {
		if !a {
			missing++
		}
	}
	if missing > 0 || uncovered > 0 {
		return fmt.Errorf("blend result: %d of %d tiles not added, %d pixels uncovered", missing, len(b.added), uncovered)
	}
	return nil
}
