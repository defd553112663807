//go:build js && wasm

// Command wasm is the browser bridge of DiffUIR Web: built with GOOS=js
// GOARCH=wasm, it runs inside one dedicated module Web Worker
// (site/worker.js) and exposes globalThis.diffuirGo, whose calls all return
// Promises and do their work in goroutines:
//
//	init({backend: "auto"|"cpu"|"gpu", reason})    -> {version, backend, gpuBuilt}
//	loadModel(bytes, name)                         -> model info (a pack, or a checkpoint converted in memory)
//	restore(id, bytes, options, onProgress)        -> {bytes, width, height, mime, ...}
//	encode(resultId, format, quality)              -> {bytes, mime}
//	decode(bytes)                                  -> {bytes (PNG), width, height}
//	cancel(id)                                     -> true if a running restore was told to stop
//	release(resultId)
//	profile({width, height, reps})                 -> per-kernel times of one UNet pass (GPU only; profile.go)
//
// The worker's JavaScript speaks the message protocol (site/PROTOCOL.md); this
// package holds no model logic: it calls runtime/restore.
package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"strings"
	"sync"
	"syscall/js"
	"time"

	"github.com/norunners/vert"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/convert"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// version is set by build.sh (-ldflags -X main.version=...).
var version = "dev"

// maxPixels bounds the photos the browser accepts: memory for activations
// and float planes grows with the area, and a 32-bit wasm heap is small.
const maxPixels = 16_000_000

// newGPU, when the GPU backend is linked in (gpu.go), opens a WebGPU device.
var newGPU func() (backend.Backend, func() error, error)

type backendInfo struct {
	Kind   string `js:"kind"`   // "gpu" or "cpu"
	Name   string `js:"name"`   // adapter or CPU description
	Reason string `js:"reason"` // why the CPU runs it, when it does
}

type initOptions struct {
	Backend string `js:"backend"` // auto (default), cpu or gpu
	// Reason, with backend cpu, is why the worker chose the CPU: it makes the
	// automatic choice, as only it can see whether the adapter is software.
	Reason string `js:"reason"`
}

type initResult struct {
	Version   string      `js:"version"`
	GoVersion string      `js:"goVersion"`
	GPUBuilt  bool        `js:"gpuBuilt"`
	Backend   backendInfo `js:"backend"`
	MaxPixels int         `js:"maxPixels"`
}

type modelInfo struct {
	Name         string  `js:"name"`
	Label        string  `js:"label"`
	Dim          int     `js:"dim"`
	Mults        []int   `js:"mults"`
	DefaultSteps int     `js:"defaultSteps"`
	Params       int     `js:"params"`
	FileSize     int     `js:"fileSize"`
	SHA256       string  `js:"sha256"`
	Converted    bool    `js:"converted"`
	ConvertNote  string  `js:"convertNote"`
	Millis       float64 `js:"ms"`
}

type restoreOptions struct {
	Steps      int      `js:"steps"`
	Seed       float64  `js:"seed"`
	NoiseScale *float64 `js:"noiseScale"` // default 1, the authors' sampler
	Equalize   string   `js:"equalize"`   // auto (default), on, off
	Tile       int      `js:"tile"`       // 0: default 512, negative: whole image
	Overlap    int      `js:"overlap"`
	MemoryMiB  int      `js:"memoryMiB"` // activation memory budget of one tile; 0: none
	Format     string   `js:"format"`    // png (default) or jpeg
	Quality    int      `js:"quality"`
	Depth      int      `js:"depth"` // PNG bits per channel; 0 keeps the input's
}

type restoreResult struct {
	ResultID  int         `js:"resultId"`
	Width     int         `js:"width"`
	Height    int         `js:"height"`
	Format    string      `js:"format"`
	MIME      string      `js:"mime"`
	Input     string      `js:"inputFormat"`
	Equalized bool        `js:"equalized"`
	Tiles     int         `js:"tiles"`
	Steps     int         `js:"steps"`
	Millis    float64     `js:"ms"`
	Backend   backendInfo `js:"backend"`
	Fallback  string      `js:"fallback"` // set when the GPU failed and the CPU finished the job
}

type progressEvent struct {
	Tile     int     `js:"tile"`
	Tiles    int     `js:"tiles"`
	Step     int     `js:"step"`
	Steps    int     `js:"steps"`
	Fraction float64 `js:"fraction"`
}

// bridge is the worker's state. Jobs (load, restore, encode) run one at a
// time under job; cancel only touches cancels.
type bridge struct {
	job sync.Mutex

	be       backend.Backend
	beInfo   backendInfo
	closeGPU func() error

	model    *model.Model
	packData []byte // the pack model aliases
	info     modelInfo
	r        *restore.Restorer

	results  map[int]*imageio.Image
	order    []int
	nextRes  int
	cmu      sync.Mutex
	cancels  map[int]context.CancelFunc
	canceled map[int]bool // cancel arrived before the restore started
}

func main() {
	b := &bridge{results: map[int]*imageio.Image{}, cancels: map[int]context.CancelFunc{}, canceled: map[int]bool{}}
	b.useCPU("not initialised")
	api := js.Global().Get("Object").New()
	export := func(name string, fn func(args []js.Value) (any, error)) {
		api.Set(name, js.FuncOf(func(_ js.Value, args []js.Value) any {
			return promise(func() (any, error) { return fn(args) })
		}))
	}
	export("init", b.init)
	export("loadModel", b.loadModel)
	export("restore", b.restore)
	export("encode", b.encode)
	export("decode", b.decode)
	export("profile", b.profile)
	api.Set("cancel", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) < 1 {
			return false
		}
		return b.cancel(args[0].Int())
	}))
	api.Set("release", js.FuncOf(func(_ js.Value, args []js.Value) any {
		if len(args) > 0 {
			b.cmu.Lock()
			delete(b.results, args[0].Int())
			b.cmu.Unlock()
		}
		return nil
	}))
	api.Set("version", version)
	js.Global().Set("diffuirGo", api)
	if ready := js.Global().Get("diffuirGoReady"); ready.Type() == js.TypeFunction {
		ready.Invoke(api)
	}
	select {}
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

func (b *bridge) useCPU(reason string) {
	c := &cpu.Backend{}
	b.be = c
	b.beInfo = backendInfo{Kind: "cpu", Name: c.Name(), Reason: reason}
}

// init opens the backend: for auto or gpu, the GPU when it is linked in, the
// browser has WebGPU and an adapter opens; the CPU otherwise, with the
// reason. The worker has already turned auto into cpu on a software adapter
// (worker.js chooseBackend).
func (b *bridge) init(args []js.Value) (any, error) {
	var opt initOptions
	if v := arg(args, 0); v.Type() == js.TypeObject {
		if err := vert.ValueOf(v).AssignTo(&opt); err != nil {
			return nil, coded(ErrBadRequest, "init: "+err.Error(), err)
		}
	}
	b.job.Lock()
	defer b.job.Unlock()
	b.dropRestorer()
	if b.closeGPU != nil {
		_ = b.closeGPU()
		b.closeGPU = nil
	}
	switch opt.Backend {
	case "cpu":
		b.useCPU(cmp.Or(opt.Reason, "requested"))
	case "", "auto", "gpu":
		b.tryGPU()
	default:
		return nil, coded(ErrBadRequest, fmt.Sprintf("init: backend %q: want auto, cpu or gpu", opt.Backend), nil)
	}
	return vert.ValueOf(initResult{Version: version, GoVersion: runtime.Version(), GPUBuilt: newGPU != nil,
		Backend: b.beInfo, MaxPixels: maxPixels}).Value, nil
}

func (b *bridge) tryGPU() {
	switch {
	case newGPU == nil:
		b.useCPU("this build has no GPU backend")
		return
	case !js.Global().Get("navigator").Get("gpu").Truthy():
		b.useCPU("this browser has no WebGPU")
		return
	}
	be, closeFn, err := func() (be backend.Backend, c func() error, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("%v", r)
			}
		}()
		return newGPU()
	}()
	if err != nil {
		if strings.Contains(err.Error(), "no adapter") || strings.Contains(err.Error(), "no suitable") {
			b.useCPU("no WebGPU adapter")
		} else {
			b.useCPU("WebGPU failed: " + err.Error())
		}
		return
	}
	b.be, b.closeGPU = be, closeFn
	b.beInfo = backendInfo{Kind: "gpu", Name: be.Name()}
}

func (b *bridge) dropRestorer() {
	if b.r != nil {
		_ = b.r.Close()
		b.r = nil
	}
}

// loadModel opens a weight pack (its header's size and SHA-256 are checked
// by weights.Open) or converts a PyTorch/safetensors checkpoint in memory.
func (b *bridge) loadModel(args []js.Value) (any, error) {
	data, err := bytesFrom(arg(args, 0))
	if err != nil {
		return nil, err
	}
	name := ""
	if v := arg(args, 1); v.Type() == js.TypeString {
		name = v.String()
	}
	b.job.Lock()
	defer b.job.Unlock()
	start := time.Now()
	info := modelInfo{Label: name}
	if !bytes.HasPrefix(data, []byte(weights.Magic)) {
		if len(data) < 4 {
			return nil, coded(ErrModelCorrupt, "model file is empty or truncated", nil)
		}
		yield()
		packed, rep, err := convert.Convert(data, convert.Options{DType: weights.F32, Steps: 3})
		if err != nil {
			return nil, coded(ErrModelInvalid, "not a weight pack, and not a checkpoint this app can convert: "+err.Error(), err)
		}
		data, info.Converted, info.ConvertNote = packed, true, rep.String()
	}
	p, err := weights.Open(data)
	if err != nil {
		if errors.Is(err, weights.ErrChecksum) {
			return nil, coded(ErrModelCorrupt, "the model file is damaged (SHA-256 mismatch); download it again", err)
		}
		if errors.Is(err, weights.ErrNotPack) {
			return nil, coded(ErrModelCorrupt, "not a DiffUIR weight pack", err)
		}
		return nil, coded(ErrModelCorrupt, "the model file is damaged or truncated: "+err.Error(), err)
	}
	m, err := model.FromPack(p)
	if err != nil {
		return nil, coded(ErrModelInvalid, "the model cannot be built: "+err.Error(), err)
	}
	b.dropRestorer()
	b.model, b.packData = m, data
	h := p.Header
	info.Name = h.Config.Name
	if info.Label == "" {
		info.Label = h.Config.Name
	}
	info.Dim, info.Mults, info.DefaultSteps = h.Config.Dim, h.Config.Mults, h.Config.DefaultSteps
	info.Params = model.ParamCount(h.Config)
	info.FileSize = int(h.FileSize)
	info.SHA256 = fmt.Sprintf("%x", h.SHA256)
	info.Millis = millisSince(start)
	b.info = info
	return vert.ValueOf(info).Value, nil
}

func (b *bridge) cancel(id int) bool {
	b.cmu.Lock()
	defer b.cmu.Unlock()
	if c, ok := b.cancels[id]; ok {
		c()
		return true
	}
	b.canceled[id] = true
	return false
}

// decodeImage decodes an uploaded photo with the web's size limit.
func decodeImage(data []byte) (*imageio.Image, string, error) {
	if len(data) == 0 {
		return nil, "", coded(ErrImageEmpty, "the file is empty", imageio.ErrEmpty)
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(data)); err == nil && cfg.Width*cfg.Height > maxPixels {
		return nil, "", coded(ErrImageTooLarge, fmt.Sprintf("the photo is %dx%d: this app handles up to %d megapixels",
			cfg.Width, cfg.Height, maxPixels/1_000_000), imageio.ErrTooLarge)
	}
	img, format, err := imageio.DecodeBytes(data)
	if err != nil {
		switch {
		case errors.Is(err, imageio.ErrTooLarge):
			return nil, "", coded(ErrImageTooLarge, "the photo is too large: "+err.Error(), err)
		case errors.Is(err, imageio.ErrEmpty):
			return nil, "", coded(ErrImageEmpty, "the photo has no pixels", err)
		}
		return nil, "", coded(ErrImageDecode, "this file is not a photo the app can read (JPEG, PNG, WebP, GIF, BMP or TIFF): "+err.Error(), err)
	}
	return img, format, nil
}

func (b *bridge) restore(args []js.Value) (any, error) {
	id := arg(args, 0).Int()
	data, err := bytesFrom(arg(args, 1))
	if err != nil {
		return nil, err
	}
	var o restoreOptions
	if v := arg(args, 2); v.Type() == js.TypeObject {
		if err := vert.ValueOf(v).AssignTo(&o); err != nil {
			return nil, coded(ErrBadRequest, "restore options: "+err.Error(), err)
		}
	}
	onProgress := arg(args, 3)
	opt, format, quality, err := o.toOptions()
	if err != nil {
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.cmu.Lock()
	if b.canceled[id] {
		delete(b.canceled, id)
		b.cmu.Unlock()
		return nil, coded(ErrCancelled, "cancelled", context.Canceled)
	}
	b.cancels[id] = cancel
	b.cmu.Unlock()
	defer func() {
		b.cmu.Lock()
		delete(b.cancels, id)
		b.cmu.Unlock()
	}()

	b.job.Lock()
	defer b.job.Unlock()
	if b.model == nil {
		return nil, coded(ErrNoModel, "no model is loaded", nil)
	}
	img, inFormat, err := decodeImage(data)
	if err != nil {
		return nil, err
	}
	tiles := 0
	opt.Progress = func(p restore.Progress) {
		tiles = p.Tiles
		if onProgress.Type() == js.TypeFunction {
			done := (p.Tile-1)*p.Steps + p.Step
			onProgress.Invoke(vert.ValueOf(progressEvent{Tile: p.Tile, Tiles: p.Tiles, Step: p.Step, Steps: p.Steps,
				Fraction: float64(done) / float64(p.Tiles*p.Steps)}).Value)
		}
		yield() // lets a cancel message in
	}
	yield()
	if err := ctx.Err(); err != nil {
		return nil, coded(ErrCancelled, "cancelled", err)
	}
	start := time.Now()
	res, fallback, err := b.run(ctx, img, opt)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, coded(ErrCancelled, "cancelled", err)
		}
		return nil, err
	}
	ms := millisSince(start)
	out, mime, err := encodeImage(res, format, o.Depth, quality)
	if err != nil {
		return nil, err
	}
	rid := b.keep(res)
	steps := opt.Steps
	if steps == 0 {
		steps = b.model.Cfg.DefaultSteps
	}
	eq := opt.Equalize == restore.EqualizeOn || (opt.Equalize == restore.EqualizeAuto && restore.ShouldEqualize(img))
	v := vert.ValueOf(restoreResult{ResultID: rid, Width: res.W, Height: res.H, Format: format, MIME: mime, Input: inFormat,
		Equalized: eq, Tiles: tiles, Steps: steps, Millis: ms, Backend: b.beInfo, Fallback: fallback}).Value
	v.Set("bytes", bytesTo(out))
	return v, nil
}

// run restores on the chosen backend; if the GPU fails (limits, device
// lost), it switches to the CPU for good and runs the job again there.
func (b *bridge) run(ctx context.Context, img *imageio.Image, opt restore.Options) (*imageio.Image, string, error) {
	if b.r == nil {
		b.r = restore.New(b.model, b.be)
	}
	res, err := b.r.Restore(ctx, img, opt)
	if err == nil || b.beInfo.Kind != "gpu" || errors.Is(err, context.Canceled) || ctx.Err() != nil ||
		errors.Is(err, restore.ErrBudget) { // the caller's budget: the CPU would refuse it too
		return res, "", err
	}
	reason := fmt.Sprintf("the GPU failed (%v); finished on the CPU", err)
	b.dropRestorer()
	if b.closeGPU != nil {
		_ = b.closeGPU()
		b.closeGPU = nil
	}
	b.useCPU(reason)
	b.r = restore.New(b.model, b.be)
	res, err = b.r.Restore(ctx, img, opt)
	return res, reason, err
}

func (o restoreOptions) toOptions() (opt restore.Options, format string, quality int, err error) {
	bad := func(f string, a ...any) error { return coded(ErrBadRequest, fmt.Sprintf(f, a...), nil) }
	if o.Steps < 0 || o.Steps > 20 {
		return opt, "", 0, bad("steps %d: want 1 to 20", o.Steps)
	}
	if o.Seed < 0 || o.Seed > 1<<53 {
		return opt, "", 0, bad("seed %v: want 0 to 2^53", o.Seed)
	}
	ns := 1.0
	if o.NoiseScale != nil {
		ns = *o.NoiseScale
	}
	if !(ns >= 0 && ns <= 10) {
		return opt, "", 0, bad("noise scale %v: want 0 to 10", ns)
	}
	if o.MemoryMiB < 0 || o.MemoryMiB > 1<<16 {
		return opt, "", 0, bad("memoryMiB %d: want 0 (no budget) to 65536", o.MemoryMiB)
	}
	opt = restore.Options{Steps: o.Steps, Seed: uint64(o.Seed), NoiseScale: float32(ns), Tile: o.Tile, Overlap: o.Overlap,
		MemoryBudget: int64(o.MemoryMiB) << 20}
	switch o.Equalize {
	case "", "auto":
		opt.Equalize = restore.EqualizeAuto
	case "on":
		opt.Equalize = restore.EqualizeOn
	case "off":
		opt.Equalize = restore.EqualizeOff
	default:
		return opt, "", 0, bad("equalize %q: want auto, on or off", o.Equalize)
	}
	if o.Tile > 0 && o.Tile < 32 {
		return opt, "", 0, bad("tile %d: want at least 32 pixels, 0 (default) or -1 (whole image)", o.Tile)
	}
	if o.Overlap < 0 {
		return opt, "", 0, bad("overlap %d must not be negative", o.Overlap)
	}
	format, quality, err = formatOf(o.Format, o.Quality)
	if o.Depth != 0 && o.Depth != 8 && o.Depth != 16 {
		return opt, "", 0, bad("depth %d: want 8 or 16", o.Depth)
	}
	return opt, format, quality, err
}

func formatOf(f string, q int) (string, int, error) {
	switch f {
	case "", "png":
		f = "png"
	case "jpeg", "jpg":
		f = "jpeg"
	default:
		return "", 0, coded(ErrBadRequest, fmt.Sprintf("format %q: want png or jpeg", f), nil)
	}
	if q == 0 {
		q = 92
	}
	if q < 1 || q > 100 {
		return "", 0, coded(ErrBadRequest, fmt.Sprintf("quality %d: want 1 to 100", q), nil)
	}
	return f, q, nil
}

func encodeImage(img *imageio.Image, format string, depth, quality int) ([]byte, string, error) {
	if depth == 0 {
		depth = img.Depth
	}
	if depth != 16 {
		depth = 8
	}
	var buf bytes.Buffer
	if err := imageio.Encode(&buf, img, format, depth, quality); err != nil {
		return nil, "", coded(ErrInternal, "encode: "+err.Error(), err)
	}
	return buf.Bytes(), "image/" + format, nil
}

// keep remembers the last few results for encode (download in another format).
func (b *bridge) keep(img *imageio.Image) int {
	b.cmu.Lock()
	defer b.cmu.Unlock()
	b.nextRes++
	b.results[b.nextRes] = img
	b.order = append(b.order, b.nextRes)
	for len(b.order) > 2 {
		delete(b.results, b.order[0])
		b.order = b.order[1:]
	}
	return b.nextRes
}

func (b *bridge) encode(args []js.Value) (any, error) {
	id := arg(args, 0).Int()
	format, quality, err := formatOf(arg(args, 1).String(), 0)
	if err != nil {
		return nil, err
	}
	if q := arg(args, 2); q.Type() == js.TypeNumber {
		if format, quality, err = formatOf(format, q.Int()); err != nil {
			return nil, err
		}
	}
	b.cmu.Lock()
	img := b.results[id]
	b.cmu.Unlock()
	if img == nil {
		return nil, coded(ErrNoResult, "that result is no longer in memory: restore the photo again", nil)
	}
	out, mime, err := encodeImage(img, format, 0, quality)
	if err != nil {
		return nil, err
	}
	v := js.Global().Get("Object").New()
	v.Set("bytes", bytesTo(out))
	v.Set("mime", mime)
	return v, nil
}

// decode turns a photo the browser cannot show (TIFF, EXIF-rotated in old
// browsers) into an 8-bit PNG for the before view.
func (b *bridge) decode(args []js.Value) (any, error) {
	data, err := bytesFrom(arg(args, 0))
	if err != nil {
		return nil, err
	}
	img, format, err := decodeImage(data)
	if err != nil {
		return nil, err
	}
	out, _, err := encodeImage(img, "png", 8, 0)
	if err != nil {
		return nil, err
	}
	v := js.Global().Get("Object").New()
	v.Set("bytes", bytesTo(out))
	v.Set("width", img.W)
	v.Set("height", img.H)
	v.Set("format", format)
	v.Set("mime", "image/png")
	return v, nil
}
