//go:build js && wasm

// Command wasm is the browser bridge of DiffUIR Web: built with GOOS=js
// GOARCH=wasm, it runs inside one dedicated module Web Worker
// (site/worker.js) and exposes globalThis.diffuirGo: init, loadModel,
// restore, prepare, encode, profile, blend and zip (batch.go) and the tile
// calls (tiles.go) return Promises and work in goroutines; cancel answers
// at once (README.md, and the protocol the worker speaks,
// site/PROTOCOL.md). It only decodes arguments and settles Promises:
// loading, the backend choice, the fallback and the reports are
// runtime/restore's, encoding runtime/imageio's, profiling the GPU
// backend's.
package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"syscall/js"
	"time"

	"github.com/norunners/vert"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// version is set by build.sh (-ldflags -X main.version=...).
var version = "dev"

// maxPixels bounds the photos the browser accepts: memory for activations
// and float planes grows with the area, and a 32-bit wasm heap is small.
const maxPixels = 16_000_000

// Hooks set by gpu.go when the WebGPU backend is linked in.
var (
	openGPU    func(software bool, adapter string) (backend.Backend, error)
	profileGPU func(be backend.Backend, m *model.Model, w, h, reps int) (any, error)
)

type initOptions struct {
	Backend string `js:"backend"` // auto (default), cpu or gpu
	Reason  string `js:"reason"`  // with cpu: why the page wants it
	// Software and Adapter are what the worker read from navigator.gpu:
	// gogpu names the browser's adapter only "WebGPU Adapter".
	Software bool   `js:"software"`
	Adapter  string `js:"adapter"`
}

// restoreOptions are a restore's options; format, quality and depth in the
// same object are imageio.Output's (outputArg).
type restoreOptions struct {
	Steps      int      `js:"steps"`
	Seed       float64  `js:"seed"`
	NoiseScale *float64 `js:"noiseScale"` // default 1, the authors' sampler
	Equalize   string   `js:"equalize"`   // auto (default), on, off
	Tile       int      `js:"tile"`       // 0: default 512, negative: whole image
	Overlap    int      `js:"overlap"`
	MemoryMiB  int      `js:"memoryMiB"` // activation memory budget of one tile; 0: none
}

type profileOptions struct {
	Width  int `js:"width"`
	Height int `js:"height"`
	Reps   int `js:"reps"` // 0: 2, as the native lavapipe profile in docs/BENCHMARKS.md
}

// bridge is the worker's state: one Restorer whose model and backend
// loadModel and init replace. Jobs run one at a time under job; cancel
// only touches cancels, under cmu. Results are not kept: encode takes the
// image back, so a large result does not hold the wasm heap.
type bridge struct {
	job     sync.Mutex
	r       *restore.Restorer
	tiles   *tileJob // the job whose photo and plan are kept (tiles.go)
	cmu     sync.Mutex
	cancels map[int]context.CancelFunc // the worker remembers cancels that came first
}

func main() {
	// The CPU until init chooses, so a request before init still runs.
	be, info, _ := restore.OpenBackend(restore.BackendOptions{Want: restore.BackendCPU, Reason: "not initialised"})
	b := &bridge{r: restore.New(nil, be), cancels: map[int]context.CancelFunc{}}
	b.r.Reason = info.Reason
	api := js.Global().Get("Object").New()
	for name, fn := range map[string]func([]js.Value) (any, error){"init": b.init, "loadModel": b.loadModel,
		"restore": b.restore, "prepare": b.prepare, "encode": b.encode, "profile": b.profile,
		"blend": b.blend, "zip": b.zip, // batch.go
		"tilePlan": b.tilePlan, "restoreTiles": b.restoreTiles, "addTile": b.addTile, "blendTiles": b.blendTiles} { // tiles.go
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any { return promise(func() (any, error) { return fn(args) }) }))
	}
	api.Set("cancel", js.FuncOf(func(_ js.Value, args []js.Value) any { return b.cancel(intArg(args, 0)) }))
	api.Set("version", version)
	js.Global().Set("diffuirGo", api)
	if ready := js.Global().Get("diffuirGoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke(api)
	}
	select {}
}

// init opens the backend restore.OpenBackend chooses.
func (b *bridge) init(args []js.Value) (any, error) {
	var o initOptions
	if err := decode(arg(args, 0), &o); err != nil {
		return nil, err
	}
	var open func() (backend.Backend, error)
	if openGPU != nil {
		open = func() (backend.Backend, error) {
			if !js.Global().Get("navigator").Get("gpu").Truthy() {
				return nil, errors.New("this browser has no WebGPU")
			}
			return openGPU(o.Software, o.Adapter)
		}
	}
	b.job.Lock()
	defer b.job.Unlock()
	be, info, err := restore.OpenBackend(restore.BackendOptions{Want: o.Backend, OpenGPU: open, Reason: o.Reason})
	if err != nil {
		return nil, fmt.Errorf("init: %w", err) // the backend in use stays
	}
	b.r.Use(be, info.Reason)
	return object("version", version, "goVersion", runtime.Version(), "gpuBuilt", openGPU != nil, "maxPixels", maxPixels,
		"backend", vert.ValueOf(info).Value), nil
}

func (b *bridge) loadModel(args []js.Value) (any, error) {
	data, err := bytesFrom(arg(args, 0))
	if err != nil {
		return nil, err
	}
	b.job.Lock()
	defer b.job.Unlock()
	start := time.Now()
	yield() // conversion takes a while: let progress messages out first
	m, info, err := restore.Load(data, restore.LoadOptions{})
	if err != nil {
		return nil, err
	}
	b.r.SetModel(m)
	v := vert.ValueOf(info).Value
	v.Set("label", info.Name)
	if l := arg(args, 1); l.Type() == js.TypeString && l.String() != "" {
		v.Set("label", l.String())
	}
	v.Set("ms", millisSince(start))
	return v, nil
}

// cancel ends request id's context if it runs or waits for the job; the
// worker holds back a request cancelled before it got here (worker.js).
func (b *bridge) cancel(id int) bool {
	b.cmu.Lock()
	defer b.cmu.Unlock()
	if c, ok := b.cancels[id]; ok {
		c()
		return true
	}
	return false
}

// cancellable runs fn for request id with the job held; cancel(id) ends
// its context. A cancel that arrived while it waited for the job fails it
// with context.Canceled before fn starts.
func (b *bridge) cancellable(id int, fn func(context.Context) (any, error)) (any, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.cmu.Lock()
	b.cancels[id] = cancel
	b.cmu.Unlock()
	defer func() {
		b.cmu.Lock()
		delete(b.cancels, id)
		b.cmu.Unlock()
	}()
	b.job.Lock()
	defer b.job.Unlock()
	yield() // lets a cancel sent while this waited in
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return fn(ctx)
}

// progress is a restore's Progress callback: onProgress, when it is a
// function, gets each step, and the event loop a turn, so that a cancel
// message gets in.
func progress(onProgress js.Value) func(restore.Progress) {
	return func(p restore.Progress) {
		if onProgress.Type() == js.TypeFunction {
			done, total := p.Done()
			onProgress.Invoke(object("tile", p.Tile, "tiles", p.Tiles, "step", p.Step, "steps", p.Steps,
				"fraction", float64(done)/float64(total)))
		}
		yield()
	}
}

func (b *bridge) restore(args []js.Value) (any, error) {
	out, opt, err := restoreArgs(arg(args, 2))
	if err != nil {
		return nil, err
	}
	opt.Progress = progress(arg(args, 3))
	return b.cancellable(intArg(args, 0), func(ctx context.Context) (any, error) {
		img, inFormat, err := b.photoToRestore(arg(args, 1))
		if err != nil {
			return nil, err
		}
		start := time.Now()
		res, rep, err := b.r.Restore(ctx, img, opt)
		if err != nil {
			return nil, err
		}
		return answer(res, rep, out, inFormat, start)
	})
}

// prepare(width, height, options) readies the program a restore of that
// size would build first (restore.Prepare), while the user looks at the
// photo; it waits for a running job.
func (b *bridge) prepare(args []js.Value) (any, error) {
	_, opt, err := restoreArgs(arg(args, 2))
	if err != nil {
		return nil, err
	}
	b.job.Lock()
	defer b.job.Unlock()
	start := time.Now()
	if err := b.r.Prepare(intArg(args, 0), intArg(args, 1), opt); err != nil {
		return nil, err
	}
	return millisSince(start), nil
}

// answer is restore's answer: the report and the encoded image. out is
// checked (restoreArgs), its Format the one written.
func answer(res *imageio.Image, rep restore.Report, out imageio.Output, inFormat string, start time.Time) (any, error) {
	v, err := encoded(res, out, "width", res.W, "height", res.H, "format", out.Format, "inputFormat", inFormat, "ms", millisSince(start))
	if err != nil {
		return nil, err
	}
	return js.Global().Get("Object").Call("assign", vert.ValueOf(rep).Value, v), nil
}

// restoreArgs decodes and checks a restore's options: JavaScript's
// numbers, ranges the app allows and the output (returned checked), all
// before a photo is decoded.
func restoreArgs(v js.Value) (imageio.Output, restore.Options, error) {
	var o restoreOptions
	if err := decode(v, &o); err != nil {
		return imageio.Output{}, restore.Options{}, err
	}
	ns := 1.0
	if o.NoiseScale != nil {
		ns = *o.NoiseScale
	}
	switch { // what JavaScript's numbers can hold that Options' fields cannot
	case o.Seed < 0 || o.Seed > 1<<53:
		return imageio.Output{}, restore.Options{}, errBadRequest.with("seed %v: want 0 to 2^53", o.Seed)
	case o.MemoryMiB < 0 || o.MemoryMiB > 1<<16:
		return imageio.Output{}, restore.Options{}, errBadRequest.with("memoryMiB %d: want 0 (no budget) to 65536", o.MemoryMiB)
	}
	mode, err := restore.ParseEqualize(o.Equalize)
	if err != nil {
		return imageio.Output{}, restore.Options{}, err
	}
	opt := restore.Options{Steps: o.Steps, Seed: uint64(o.Seed), NoiseScale: float32(ns), Equalize: mode, Tile: o.Tile,
		Overlap: o.Overlap, MemoryBudget: int64(o.MemoryMiB) << 20}
	if err := opt.Check(); err != nil {
		return imageio.Output{}, restore.Options{}, err
	}
	out, err := outputArg(v) // format, quality and depth of the same object
	return out, opt, err
}

// photoArg decodes a photo passed as bytes (bytesFrom) with the web's size
// limit.
func photoArg(v js.Value) (*imageio.Image, string, error) {
	data, err := bytesFrom(v)
	if err != nil {
		return nil, "", err
	}
	img, f, err := imageio.DecodeLimit(data, maxPixels)
	if err != nil && !errors.Is(err, imageio.ErrEmpty) && !errors.Is(err, imageio.ErrTooLarge) {
		return nil, "", errDecode.with("this file is not a photo the app can read (JPEG, PNG, WebP, GIF, BMP or TIFF): %w", err)
	}
	return img, f, err
}

// photoToRestore is photoArg for a restore: without a model it fails
// before the photo is decoded.
func (b *bridge) photoToRestore(v js.Value) (*imageio.Image, string, error) {
	if b.r.Model == nil {
		return nil, "", restore.ErrNoModel
	}
	return photoArg(v)
}

// outputArg decodes and checks the options of an encoded image, before a
// photo is decoded.
func outputArg(v js.Value) (imageio.Output, error) {
	var out imageio.Output
	if err := decode(v, &out); err != nil {
		return out, err
	}
	return out.Check()
}

// encode(image, {format, quality, depth}) re-encodes a photo: a restored
// PNG as a JPEG to download, or, as an 8-bit PNG, a photo the browser
// cannot show (TIFF, EXIF-rotated in old browsers) for the before view.
func (b *bridge) encode(args []js.Value) (any, error) {
	out, err := outputArg(arg(args, 1))
	if err != nil {
		return nil, err
	}
	img, f, err := photoArg(arg(args, 0))
	if err != nil {
		return nil, err
	}
	return encoded(img, out, "width", img.W, "height", img.H, "inputFormat", f)
}

// encoded is the answer of the calls that encode an image: {bytes, mime}
// and kv's keys and values.
func encoded(img *imageio.Image, out imageio.Output, kv ...any) (js.Value, error) {
	data, format, err := imageio.EncodeBytes(img, out)
	if err != nil {
		return js.Value{}, err
	}
	return object(append(kv, "bytes", bytesTo(data), "mime", "image/"+format)...), nil
}

// profile times one UNet pass at a tile size on the GPU (gpu.Backend.ProfileModel).
func (b *bridge) profile(args []js.Value) (any, error) {
	var o profileOptions
	if err := decode(arg(args, 0), &o); err != nil {
		return nil, err
	}
	if o.Width < 1 || o.Height < 1 || o.Width*o.Height > maxPixels {
		return nil, errBadRequest.with("profile size %dx%d: want a width and height of at least 1 and at most %d pixels", o.Width, o.Height, maxPixels)
	}
	if o.Reps < 0 || o.Reps > 100 {
		return nil, errBadRequest.with("profile reps %d: want 1 to 100 (0: 2)", o.Reps)
	}
	b.job.Lock()
	defer b.job.Unlock()
	switch {
	case b.r.Model == nil:
		return nil, restore.ErrNoModel
	case !b.r.Backend.Device().GPU || profileGPU == nil:
		return nil, errBackend.with("profile needs the GPU backend; this worker runs on the CPU (%s)", b.r.Reason)
	}
	b.r.Close() // the restorer's program would sit beside the profiled one
	p, err := profileGPU(b.r.Backend, b.r.Model, o.Width, o.Height, cmp.Or(o.Reps, 2))
	if err != nil {
		return nil, errBackend.with("profile: %w", err)
	}
	v := vert.ValueOf(p).Value
	v.Set("backend", vert.ValueOf(restore.Describe(b.r.Backend, b.r.Reason)).Value)
	return v, nil
}

func millisSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }
