//go:build js && wasm

package main

// Tile-level calls for site/pool.js, which spreads the tiles of one restore
// over several workers (each its own wasm instance and Restorer) and
// blends in one of them, through restore.Plan, RestoreTiles and
// Plan.Blend: the output is the same as one worker's restore.
//
//	tilePlan(key, bytes, options)                          -> {tiles, width, height, tileSize, steps, equalized}
//	restoreTiles(id, key, bytes, options, indices, onProgress) -> [{index, rgb: Float32Array}]
//	addTile(key, index, rgb)                               (the blending worker collects every tile)
//	blendTiles(key, options)                               -> what restore returns
//
// key names the job: the decoded photo and its plan are kept for it, so
// that the tiles of one job decode the photo once per worker. A call with
// another key drops them.

import (
	"syscall/js"
	"time"
	"unsafe"

	"github.com/norunners/vert"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// tileJob is the job whose photo and plan are kept (guarded by bridge.job).
type tileJob struct {
	key      string
	img      *imageio.Image
	inFormat string
	plan     *restore.Plan
	opt      restoreOptions
	results  []restore.TileResult
	start    time.Time
	progress func(restore.Progress) // the running restoreTiles call's
}

// report is the plan's Progress: the plan keeps the options it was made
// with, so each call swaps in its own callback here.
func (j *tileJob) report(p restore.Progress) {
	if j.progress != nil {
		j.progress(p)
	}
}

var curTiles *tileJob

// tileJobFor returns the job named key, decoding and planning it if it is
// not the one kept. Called with b.job held.
func (b *bridge) tileJobFor(key string, data js.Value, o restoreOptions) (*tileJob, error) {
	if curTiles != nil && curTiles.key == key {
		return curTiles, nil
	}
	curTiles = nil
	if b.model == nil {
		return nil, errNoModel.with("no model is loaded")
	}
	bytes, err := bytesFrom(data)
	if err != nil {
		return nil, err
	}
	opt, err := o.toOptions()
	if err != nil {
		return nil, err
	}
	img, inFormat, err := decodeImage(bytes)
	if err != nil {
		return nil, err
	}
	if b.r == nil {
		b.r = restore.New(b.model, b.be)
		b.r.Reason = b.why
	}
	j := &tileJob{key: key, img: img, inFormat: inFormat, opt: o, start: time.Now()}
	opt.Progress = j.report
	if j.plan, err = b.r.Plan(img, opt); err != nil {
		return nil, err
	}
	curTiles = j
	return j, nil
}

func (b *bridge) tilePlan(args []js.Value) (any, error) {
	var o restoreOptions
	if err := decode(arg(args, 2), &o); err != nil {
		return nil, err
	}
	b.job.Lock()
	defer b.job.Unlock()
	j, err := b.tileJobFor(arg(args, 0).String(), arg(args, 1), o)
	if err != nil {
		return nil, err
	}
	steps := o.Steps
	if steps == 0 {
		steps = b.model.Cfg.DefaultSteps
	}
	return object("tiles", len(j.plan.Tiles), "width", j.plan.W, "height", j.plan.H, "tileSize", j.plan.TileSize,
		"steps", steps, "equalized", j.plan.Equalized), nil
}

func (b *bridge) restoreTiles(args []js.Value) (any, error) {
	id := intArg(args, 0)
	var o restoreOptions
	if err := decode(arg(args, 3), &o); err != nil {
		return nil, err
	}
	idx := arg(args, 4)
	indices := make([]int, idx.Length())
	for i := range indices {
		indices[i] = idx.Index(i).Int()
	}
	onProgress := arg(args, 5)
	ctx, done, err := b.track(id)
	if err != nil {
		return nil, err
	}
	defer done()
	b.job.Lock()
	defer b.job.Unlock()
	j, err := b.tileJobFor(arg(args, 1).String(), arg(args, 2), o)
	if err != nil {
		return nil, err
	}
	j.progress = func(p restore.Progress) {
		if onProgress.Type() == js.TypeFunction {
			onProgress.Invoke(object("tile", p.Tile, "tiles", p.Tiles, "step", p.Step, "steps", p.Steps))
		}
		yield() // lets a cancel message in
	}
	defer func() { j.progress = nil }()
	yield()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res, err := b.r.RestoreTiles(ctx, j.plan, indices)
	if err != nil {
		return nil, err
	}
	out := js.Global().Get("Array").New(len(res))
	for i, t := range res {
		out.SetIndex(i, object("index", t.Index, "rgb", floatsTo(t.RGB)))
	}
	return out, nil
}

func (b *bridge) addTile(args []js.Value) (any, error) {
	b.job.Lock()
	defer b.job.Unlock()
	j := curTiles
	if j == nil || j.key != arg(args, 0).String() {
		return nil, errBadRequest.with("addTile: no plan for that job")
	}
	i := intArg(args, 1)
	if i < 0 || i >= len(j.plan.Tiles) {
		return nil, errBadRequest.with("addTile: tile %d of a plan of %d", i, len(j.plan.Tiles))
	}
	t := j.plan.Tiles[i]
	rgb, err := floatsFrom(arg(args, 2), 3*t.W()*t.H())
	if err != nil {
		return nil, err
	}
	j.results = append(j.results, restore.TileResult{Index: i, RGB: rgb})
	return true, nil
}

func (b *bridge) blendTiles(args []js.Value) (any, error) {
	b.job.Lock()
	defer b.job.Unlock()
	j := curTiles
	if j == nil || j.key != arg(args, 0).String() {
		return nil, errBadRequest.with("blendTiles: no plan for that job")
	}
	curTiles = nil
	res, err := j.plan.Blend(j.results)
	if err != nil {
		return nil, err
	}
	out, mime, err := encodeImage(res, j.opt.Format, j.opt.Depth, j.opt.Quality)
	if err != nil {
		return nil, err
	}
	b.cmu.Lock()
	b.nextRes++
	rid := b.nextRes
	b.results[rid] = res
	delete(b.results, rid-2)
	b.cmu.Unlock()
	steps := j.opt.Steps
	if steps == 0 {
		steps = b.model.Cfg.DefaultSteps
	}
	rep := restore.Report{Backend: restore.Describe(b.be, b.why), Equalized: j.plan.Equalized, Tiles: len(j.plan.Tiles),
		TileSize: j.plan.TileSize, Steps: steps, MemoryBytes: b.r.MemoryBytes()}
	v := vert.ValueOf(rep).Value
	for k, x := range map[string]any{"resultId": rid, "width": res.W, "height": res.H, "format": mime[len("image/"):],
		"mime": mime, "inputFormat": j.inFormat, "ms": millisSince(j.start), "bytes": bytesTo(out)} {
		v.Set(k, x)
	}
	return v, nil
}

// floatsTo copies f into a new Float32Array.
func floatsTo(f []float32) js.Value {
	out := js.Global().Get("Float32Array").New(len(f))
	if len(f) > 0 {
		u := jsUint8Array.New(out.Get("buffer"))
		js.CopyBytesToJS(u, unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*len(f)))
	}
	return out
}

// floatsFrom copies a Float32Array of n values into Go memory.
func floatsFrom(v js.Value, n int) ([]float32, error) {
	if !v.InstanceOf(js.Global().Get("Float32Array")) || v.Get("length").Int() != n {
		return nil, errBadRequest.with("expected a Float32Array of %d values", n)
	}
	f := make([]float32, n)
	if n > 0 {
		u := jsUint8Array.New(v.Get("buffer"), v.Get("byteOffset"), 4*n)
		js.CopyBytesToGo(unsafe.Slice((*byte)(unsafe.Pointer(&f[0])), 4*n), u)
	}
	return f, nil
}
