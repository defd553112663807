package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/backend/gpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// openGPU opens the native GPU backend for restore.OpenBackend.
func openGPU() (backend.Backend, error) { return gpu.New(gpu.Options{}) }

// restoreFlags are the model and sampler flags of restore and eval.
type restoreFlags struct {
	model         *string
	steps         *int
	seed          *uint64
	noise         *float64
	tile, overlap *int
}

func addRestoreFlags(fs *flag.FlagSet, seedDoc string) restoreFlags {
	return restoreFlags{
		model:   fs.String("model", "", "weight pack or PyTorch/safetensors checkpoint (default: the bundled models/"+defaultPackName+")"),
		steps:   fs.Int("steps", 0, "sampling steps, 1-20 (default: the model's)"),
		seed:    fs.Uint64("seed", 0, seedDoc),
		noise:   fs.Float64("noise-scale", 1, "starting-noise multiplier; 0 makes the result deterministic"),
		tile:    fs.Int("tile", restore.DefaultTile, "tile side in pixels; 0 processes the whole image at once"),
		overlap: fs.Int("overlap", restore.DefaultOverlap, "overlap between tiles in pixels"),
	}
}

// options are the restore.Options the flags give, checked: a value out of
// range is a usage error.
func (f restoreFlags) options(eq restore.EqualizeMode, budget int64) (restore.Options, error) {
	opt := restore.Options{Steps: *f.steps, Seed: *f.seed, NoiseScale: float32(*f.noise), Equalize: eq, Tile: *f.tile,
		Overlap: *f.overlap, MemoryBudget: budget}
	switch {
	case opt.Tile < 0: // restore.Options' spelling of one pass, not the flag's
		return opt, usagef("--tile %d must not be negative (0: the whole image in one pass)", opt.Tile)
	case opt.Tile == 0:
		opt.Tile = -1
	}
	if err := opt.Check(); err != nil {
		return opt, usageError{err.Error()}
	}
	return opt, nil
}

// equalizeFlag is a boolean-style flag with a third value: "--equalize"
// forces equalization on, "--equalize=off" off, "--equalize=auto" (the
// default) lets the runtime decide from the photo's exposure.
type equalizeFlag struct{ mode restore.EqualizeMode }

func (f *equalizeFlag) IsBoolFlag() bool { return true }

func (f *equalizeFlag) String() string {
	if f == nil {
		return "auto"
	}
	return f.mode.String()
}

func (f *equalizeFlag) Set(s string) (err error) {
	f.mode, err = restore.ParseEqualize(s)
	return err
}

func runRestore(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", stderr)
	out := fs.String("o", "", "output image `path` (.png or .jpg)")
	rf := addRestoreFlags(fs, "seed of the starting noise")
	var equalize equalizeFlag
	fs.Var(&equalize, "equalize", "low-light histogram equalization: --equalize (on), --equalize=off, --equalize=auto (default: on for underexposed photos)")
	budget := fs.Int("memory", 0, "activation memory budget of one tile in MiB (0: none); tiles shrink to fit it")
	depth := fs.Int("bit-depth", 0, "PNG output bits per channel, 8 or 16 (default: the input's)")
	quality := fs.Int("quality", 92, "JPEG output quality, 1-100")
	backendName := fs.String("backend", "auto", "auto, cpu or gpu")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || *out == "" {
		return usagef("usage: diffuir restore IN -o OUT [--model PACK] [options]")
	}
	format, err := imageio.FormatFromPath(*out)
	if err != nil {
		return usageError{err.Error()}
	}
	output, err := imageio.Output{Format: format, Depth: *depth, Quality: *quality}.Check()
	if err != nil { // before minutes of restoring
		return usagef("--bit-depth %d, --quality %d: %v", *depth, *quality, err)
	}
	opt, err := rf.options(equalize.mode, int64(*budget)<<20)
	if err != nil {
		return err
	}
	img, err := imageio.ReadFile(pos[0])
	if err != nil {
		return err
	}
	m, _, err := loadModel(*rf.model)
	if err != nil {
		return err
	}
	// --backend gpu means that GPU or an error; auto may take the CPU.
	be, why, err := restore.OpenBackend(restore.BackendOptions{Want: *backendName, OpenGPU: openGPU, Require: true})
	if errors.Is(err, restore.ErrBackendName) {
		return usageError{"--backend: " + err.Error()}
	}
	if err != nil {
		return fmt.Errorf("--backend %s: %w", *backendName, err)
	}
	defer be.Close()
	fmt.Fprintf(stderr, "backend: %s\n", describe(why))
	r := restore.New(m, be)
	r.Reason = why.Reason
	defer r.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bar := newProgressBar(stderr)
	opt.Progress = bar.update
	start := time.Now()
	res, rep, err := r.Restore(ctx, img, opt)
	bar.finish()
	for _, n := range append(rep.Notes, rep.Fallback) {
		if n != "" {
			fmt.Fprintf(stderr, "note: %s\n", n)
		}
	}
	if err != nil {
		return err
	}
	if err := writeImage(*out, res, output); err != nil {
		return err
	}
	note := ""
	if rep.Backend.Kind == "cpu" && cpu.KernelNote() != "" {
		note = "; " + cpu.KernelNote()
	}
	memory := "GPU"
	if rep.Backend.Kind == "cpu" {
		memory = "activation"
	}
	if rep.Equalized {
		note = ", equalized" + note
	}
	fmt.Fprintf(stdout, "restored %s -> %s (%dx%d, %d tiles x %d steps, %s, %s, %.1f MiB of %s memory%s)\n", pos[0], *out, img.W, img.H,
		rep.Tiles, rep.Steps, rep.Backend.Name, time.Since(start).Round(time.Millisecond), float64(rep.MemoryBytes)/(1<<20), memory, note)
	return nil
}

// writeImage encodes img as out says and writes it with writeFile.
func writeImage(path string, img *imageio.Image, out imageio.Output) error {
	data, _, err := imageio.EncodeBytes(img, out)
	if err != nil {
		return err
	}
	return writeFile(path, data)
}

// writeFile writes data beside path and renames it into place, so that a
// failure never leaves half a file.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".diffuir-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// describe is the backend's line on stderr: its name, and why the CPU runs
// the job when it does.
func describe(b restore.BackendInfo) string {
	if b.Reason == "" {
		return b.Name
	}
	return fmt.Sprintf("%s (%s)", b.Name, b.Reason)
}

// progressBar draws on a terminal and stays silent otherwise (logs, pipes).
type progressBar struct {
	w     io.Writer
	on    bool
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	return &progressBar{w: w, on: ok && term.IsTerminal(int(f.Fd()))}
}

func (b *progressBar) update(p restore.Progress) {
	if !b.on {
		return
	}
	done, total := p.Done()
	const width = 30
	n := done * width / total
	fmt.Fprintf(b.w, "\r[%s%s] %3d%%  tile %d/%d  step %d/%d", strings.Repeat("#", n), strings.Repeat(" ", width-n),
		done*100/total, p.Tile, p.Tiles, p.Step, p.Steps)
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}
