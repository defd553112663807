package restore

import (
	"context"
	"fmt"
	"slices"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/sampler"
	"github.com/diffuir-web/diffuir/runtime/tile"
)

// Plan is how one image is restored: its tiles and the options resolved.
// Restore runs every tile of a plan; callers that spread the tiles over
// several workers, each with its own Restorer and the same image, call
// Plan in each (it is deterministic), RestoreTiles on a share of the
// tiles, then Blend with all the results in one place: the output is the
// same as one Restore's.
type Plan struct {
	W, H      int
	Tiles     []tile.Rect
	TileSize  int // 0: the whole image in one pass
	Overlap   int
	Equalized bool
	// Progress, from Options, may be swapped between RestoreTiles calls.
	Progress func(Progress)

	img, src *imageio.Image // the input, and what the tiles read (equalized or img)
	steps    []sampler.Step
	opt      Options
}

// Steps is the number of sampler steps each tile takes.
func (p *Plan) Steps() int { return len(p.steps) }

// TileResult is one restored tile of a plan: 3×h×w values in [0, 1].
type TileResult struct {
	Index int // into Plan.Tiles
	RGB   []float32
}

// Plan validates opt, makes the equalization decision and cuts img into
// tiles that fit the backend's buffers and opt.MemoryBudget.
func (r *Restorer) Plan(img *imageio.Image, opt Options) (*Plan, error) {
	if img == nil || img.W <= 0 || img.H <= 0 {
		return nil, fmt.Errorf("restore: empty image")
	}
	steps, err := r.steps(opt)
	if err != nil {
		return nil, err
	}
	p := &Plan{W: img.W, H: img.H, Progress: opt.Progress, img: img, src: img, steps: steps, opt: opt}
	if opt.Equalize == EqualizeOn || (opt.Equalize == EqualizeAuto && ShouldEqualize(img)) {
		p.src = &imageio.Image{W: img.W, H: img.H, RGB: append([]float32(nil), img.RGB...), Depth: img.Depth}
		imageio.EqualizeHist(p.src)
		p.Equalized = true
	}
	if p.Tiles, p.TileSize, p.Overlap, err = r.tiling(img.W, img.H, opt); err != nil {
		return nil, err
	}
	return p, nil
}

// tiling cuts a w×h image into tiles that fit the backend's buffers and
// opt.MemoryBudget: the tiles, their side (0: the whole image) and overlap.
func (r *Restorer) tiling(w, h int, opt Options) ([]tile.Rect, int, int, error) {
	size, overlap := opt.Tile, opt.Overlap
	switch {
	case size == 0:
		size = DefaultTile
	case size < 0:
		size = 0 // whole image
	}
	if overlap == 0 {
		overlap = DefaultOverlap
	}
	size, err := r.fitTile(w, h, size, opt.MemoryBudget)
	if err != nil {
		return nil, 0, 0, err
	}
	if size > 0 && size <= overlap {
		overlap = size / 4
	}
	tiles, err := tile.Plan(w, h, size, overlap)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("restore: %w", err)
	}
	return tiles, size, overlap, nil
}

// Prepare makes ready what a restore of a w×h image with opt would set up
// first: the program for its first tile, with its activation memory
// committed. Callers that know the size early (the page, once a photo is
// picked) take that time off the restore that follows; a restore of
// another size replaces it.
func (r *Restorer) Prepare(w, h int, opt Options) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("restore: %w: prepare for a %dx%d image", ErrOption, w, h)
	}
	if _, err := r.steps(opt); err != nil {
		return err
	}
	tiles, _, _, err := r.tiling(w, h, opt)
	if err != nil {
		return err
	}
	if _, err := r.program(tiles[0].H(), tiles[0].W()); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	return nil
}

// fitTile shrinks the tile side (0 = whole image) until every tensor of a
// tile's graph fits the backend's largest buffer, so a GPU with WebGPU's
// default 128 MiB bindings gets tiles it can hold instead of an error, and
// until the tile's activation plan fits budget (bytes, 0: none).
func (r *Restorer) fitTile(w, h, size int, budget int64) (int, error) {
	dev := r.Backend.Device()
	maxBytes := dev.MaxTensorBytes
	if maxBytes <= 0 && budget <= 0 {
		return size, nil
	}
	mult := model.Multiple(r.Model.Cfg)
	for {
		tw, th := w, h
		if size > 0 {
			tw, th = min(w, size), min(h, size)
		}
		g, err := r.Model.Graph((th+mult-1)/mult*mult, (tw+mult-1)/mult*mult)
		if err != nil {
			return 0, fmt.Errorf("restore: %w", err)
		}
		largest := 0
		for _, t := range g.Tensors {
			largest = max(largest, t.Len())
		}
		largestBytes := 4 * int64(largest)
		if dev.LargestBuffer != nil {
			largestBytes = dev.LargestBuffer(g)
		}
		planned := int64(0)
		if budget > 0 {
			if dev.PlannedBytes != nil {
				planned = dev.PlannedBytes(g)
			} else {
				planned = 4 * int64(g.PlanMemory([]backend.Tensor{g.Input, g.Output}).Total())
			}
		}
		fits := maxBytes <= 0 || largestBytes <= maxBytes
		if fits && (budget <= 0 || planned <= budget) {
			return size, nil
		}
		side := max(tw, th)
		if side <= 2*mult {
			if !fits {
				return 0, fmt.Errorf("restore: %w: even a %dx%d tile needs a %d-byte buffer, the device allows %d",
					backend.ErrLimits, tw, th, largestBytes, maxBytes)
			}
			return 0, fmt.Errorf("restore: %w: even a %dx%d tile plans %.1f MiB of activations, over the %.1f MiB budget",
				ErrBudget, tw, th, float64(planned)/(1<<20), float64(budget)/(1<<20))
		}
		// Round down: rounding 3/4 of the side up to the multiple could give
		// the side back (48 -> 36 -> 48) and loop forever.
		size = side * 3 / 4 / mult * mult
	}
}

// RestoreTiles restores the tiles of p named by indices, in that order.
// Progress numbers them as in the whole plan.
func (r *Restorer) RestoreTiles(ctx context.Context, p *Plan, indices []int) ([]TileResult, error) {
	out := make([]TileResult, 0, len(indices))
	opt := p.opt
	opt.Progress = p.Progress
	for _, i := range indices {
		if i < 0 || i >= len(p.Tiles) {
			return nil, fmt.Errorf("restore: tile %d of a plan of %d", i, len(p.Tiles))
		}
		t := p.Tiles[i]
		tw, th := t.W(), t.H()
		xin := make([]float32, 3*tw*th)
		for c := 0; c < 3; c++ {
			for y := 0; y < th; y++ {
				row := p.src.RGB[(c*p.H+t.Y0+y)*p.W+t.X0:]
				for x := 0; x < tw; x++ {
					xin[(c*th+y)*tw+x] = row[x]*2 - 1
				}
			}
		}
		rgb, err := r.restoreTile(ctx, xin, Region{X0: t.X0, Y0: t.Y0, W: tw, H: th}, p.steps, opt, i+1, len(p.Tiles))
		if err != nil {
			return nil, err
		}
		out = append(out, TileResult{Index: i, RGB: rgb})
	}
	return out, nil
}

// Blend puts the restored tiles together, weighting overlaps with smooth
// ramps. It adds them in plan order whatever order they come in, so the
// floating-point sums match a single Restore's bit for bit.
func (p *Plan) Blend(results []TileResult) (*imageio.Image, error) {
	if len(results) != len(p.Tiles) {
		return nil, fmt.Errorf("restore: blend %d of %d tiles", len(results), len(p.Tiles))
	}
	results = slices.Clone(results)
	slices.SortFunc(results, func(a, b TileResult) int { return a.Index - b.Index })
	blend, err := tile.NewBlender(p.W, p.H, 3, p.Tiles, p.Overlap)
	if err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	for i, t := range results {
		if t.Index != i {
			return nil, fmt.Errorf("restore: blend: tile %d missing", i)
		}
		if err := blend.Add(p.Tiles[i], t.RGB); err != nil {
			return nil, fmt.Errorf("restore: %w", err)
		}
	}
	res := &imageio.Image{W: p.W, H: p.H, RGB: make([]float32, 3*p.W*p.H), Alpha: p.img.Alpha, Depth: p.img.Depth}
	if err := blend.Result(res.RGB); err != nil {
		return nil, fmt.Errorf("restore: %w", err)
	}
	return res, nil
}
