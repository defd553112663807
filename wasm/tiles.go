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
	"context"
	"syscall/js"
	"time"
	"unsafe"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// tileJob is the job whose photo and plan are kept (bridge.tiles, guarded
// by bridge.job).
type tileJob struct {
	key      string
	inFormat string
	plan     *restore.Plan
	out      imageio.Output
	results  []restore.TileResult
	start    time.Time
}

// tileJobFor returns the job named key, decoding and planning it if it is
// not the one kept. Called with b.job held.
func (b *bridge) tileJobFor(key string, data, options js.Value) (*tileJob, error) {
	if b.tiles != nil && b.tiles.key == key {
		return b.tiles, nil
	}
	b.tiles = nil
	out, opt, err := restoreArgs(options)
	if err != nil {
		return nil, err
	}
	img, inFormat, err := b.photoToRestore(data)
	if err != nil {
		return nil, err
	}
	j := &tileJob{key: key, inFormat: inFormat, out: out, start: time.Now()}
	if j.plan, err = b.r.Plan(img, opt); err != nil {
		return nil, err
	}
	b.tiles = j
	return j, nil
}

// withKeptJob runs fn, with the job held, on the kept job that args[0]
// names; call names the call in the error when it is not the one kept.
func (b *bridge) withKeptJob(call string, args []js.Value, fn func(*tileJob) (any, error)) (any, error) {
	b.job.Lock()
	defer b.job.Unlock()
	if b.tiles == nil || b.tiles.key != arg(args, 0).String() {
		return nil, errBadRequest.with("%s: no plan for that job", call)
	}
	return fn(b.tiles)
}

func (b *bridge) tilePlan(args []js.Value) (any, error) {
	b.job.Lock()
	defer b.job.Unlock()
	j, err := b.tileJobFor(arg(args, 0).String(), arg(args, 1), arg(args, 2))
	if err != nil {
		return nil, err
	}
	return object("tiles", len(j.plan.Tiles), "width", j.plan.W, "height", j.plan.H, "tileSize", j.plan.TileSize,
		"steps", j.plan.Steps(), "equalized", j.plan.Equalized), nil
}

func (b *bridge) restoreTiles(args []js.Value) (any, error) {
	idx := arg(args, 4)
	indices := make([]int, idx.Length())
	for i := range indices {
		indices[i] = idx.Index(i).Int()
	}
	return b.cancellable(intArg(args, 0), func(ctx context.Context) (any, error) {
		j, err := b.tileJobFor(arg(args, 1).String(), arg(args, 2), arg(args, 3))
		if err != nil {
			return nil, err
		}
		j.plan.Progress = progress(arg(args, 5)) // this call's
		res, err := b.r.RestoreTiles(ctx, j.plan, indices)
		if err != nil {
			return nil, err
		}
		out := js.Global().Get("Array").New(len(res))
		for i, t := range res {
			out.SetIndex(i, object("index", t.Index, "rgb", floatsTo(t.RGB)))
		}
		return out, nil
	})
}

func (b *bridge) addTile(args []js.Value) (any, error) {
	return b.withKeptJob("addTile", args, func(j *tileJob) (any, error) {
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
	})
}

func (b *bridge) blendTiles(args []js.Value) (any, error) {
	return b.withKeptJob("blendTiles", args, func(j *tileJob) (any, error) {
		b.tiles = nil
		res, err := j.plan.Blend(j.results)
		if err != nil {
			return nil, err
		}
		return answer(res, b.r.Report(j.plan), j.out, j.inFormat, j.start)
	})
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
