// Command samples makes the web app's sample photos: small, openly licensed
// photos (committed in site/samples/, see site/README.md for sources and
// licences) degraded by the project's own training recipes
// (tools/internal/degrade), one per task, with a fixed seed each.
//
//	go run ./tools/samples -o dist/site/samples      write rain.jpg, snow.jpg, ... (build.sh does this)
//	go run ./tools/samples -score [-model PACK]       restore each with a model, print PSNR gains
//	go run ./tools/samples -psnr CLEAN DEGRADED OUT   Y-channel PSNR of two images against a clean one (JSON)
//	go run ./tools/samples -prepare SRC -o site/samples/NAME.jpg   downscale a source photo for committing
//
// The seeds were picked with -score against the bundled model so that each
// sample is one the model improves; -score shows the figures.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/tools/internal/degrade"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
)

// Sample is one sample photo of the page.
type Sample struct {
	Task   degrade.Task `json:"task"`
	Source string       `json:"source"` // the clean photo, in site/samples/
	Seed   uint64       `json:"seed"`   // degrade.Apply's seed
}

// Samples lists the page's samples, in the order of its buttons.
var Samples = []Sample{
	{Task: degrade.Rain, Source: "rocket.jpg", Seed: 2},
	{Task: degrade.Snow, Source: "flower.jpg", Seed: 1},
	{Task: degrade.Haze, Source: "china.jpg", Seed: 2},
	{Task: degrade.Blur, Source: "astronaut.jpg", Seed: 2},
	{Task: degrade.LowLight, Source: "chelsea.jpg", Seed: 2},
}

// sampleQuality is the JPEG quality of the degraded samples: high, so the
// page shows the recipe's degradation rather than compression.
const sampleQuality = 92

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "samples:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fl := flag.NewFlagSet("samples", flag.ContinueOnError)
	out := fl.String("o", "", "output folder (or file with -prepare)")
	src := fl.String("src", "site/samples", "folder of the clean photos")
	score := fl.Bool("score", false, "restore each sample with -model and print PSNR against the clean photo")
	modelPath := fl.String("model", "models/diffuir-tiny.duir", "model pack for -score")
	steps := fl.Int("steps", 0, "sampler steps for -score (0: the model's default)")
	try := fl.Int("try", 0, "with -score: score every photo in -src with every task and seeds 1..N instead (for picking)")
	psnr := fl.Bool("psnr", false, "args CLEAN IMAGE...: Y-channel PSNR of each image against CLEAN, as JSON")
	prepare := fl.String("prepare", "", "a source photo to downscale (long side -side) into -o as JPEG")
	side := fl.Int("side", 320, "long side for -prepare")
	err := fl.Parse(args)
	if err != nil {
		return err
	}
	switch {
	case *psnr:
		return psnrCmd(fl.Args(), stdout)
	case *prepare != "":
		if *out == "" {
			return errors.New("-prepare needs -o FILE.jpg")
		}
		img, err := imageio.ReadFile(*prepare)
		if err != nil {
			return err
		}
		img = degrade.Downscale(img, *side)
		img.Alpha = nil
		return writeJPEG(*out, img, 90)
	case *score:
		list := Samples
		if *try > 0 {
			if list, err = candidates(*src, *try); err != nil {
				return err
			}
		}
		return scoreCmd(*src, list, *modelPath, *steps, stdout)
	case *out != "":
		return write(*src, *out)
	}
	return errors.New("want -o DIR, -score, -psnr or -prepare (see the package comment)")
}

// Degraded returns sample s's clean photo (as decoded from its JPEG) and
// its degraded version, quantized to 8 bits as the file will hold it.
func Degraded(srcDir string, s Sample) (clean, deg *imageio.Image, err error) {
	clean, err = imageio.ReadFile(filepath.Join(srcDir, s.Source))
	if err != nil {
		return nil, nil, err
	}
	clean.Alpha = nil
	deg, _, err = degrade.Apply(clean, s.Task, s.Seed)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", s.Source, err)
	}
	return clean, deg, nil
}

func write(srcDir, outDir string) error {
	type entry struct {
		Sample
		File  string `json:"file"`  // the degraded photo, beside samples.json
		Clean string `json:"clean"` // the clean one, likewise
	}
	var index []entry
	for _, s := range Samples {
		index = append(index, entry{s, string(s.Task) + ".jpg", "clean/" + s.Source})
		_, deg, err := Degraded(srcDir, s)
		if err != nil {
			return err
		}
		if err := writeJPEG(filepath.Join(outDir, string(s.Task)+".jpg"), deg, sampleQuality); err != nil {
			return err
		}
		// The clean photo beside it, for comparing against (and the browser test's PSNR).
		b, err := os.ReadFile(filepath.Join(srcDir, s.Source))
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Join(outDir, "clean"), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(outDir, "clean", s.Source), b, 0o644); err != nil {
			return err
		}
	}
	// samples.json: what each file is (the browser test scores them from it).
	b, err := json.MarshalIndent(index, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(outDir, "samples.json"), append(b, '\n'), 0o644)
}

// scoreCmd degrades each sample, stores it as the page will (JPEG), restores
// it with the model on the CPU as the page does by default (auto
// equalization, seed 0, noise scale 1) and prints the PSNR before and after.
func scoreCmd(srcDir string, list []Sample, modelPath string, steps int, stdout io.Writer) error {
	data, err := os.ReadFile(modelPath)
	if err != nil {
		return err
	}
	m, _, err := restore.Load(data, restore.LoadOptions{})
	if err != nil {
		return fmt.Errorf("%s: %w", modelPath, err)
	}
	r := restore.New(m, &cpu.Backend{})
	defer r.Close()
	for _, s := range list {
		clean, deg, err := Degraded(srcDir, s)
		if err != nil {
			return err
		}
		var buf bytes.Buffer
		if err := deg.EncodeJPEG(&buf, sampleQuality); err != nil {
			return err
		}
		in, _, err := imageio.DecodeBytes(buf.Bytes())
		if err != nil {
			return err
		}
		out, _, err := r.Restore(context.Background(), in, restore.Options{Steps: steps, NoiseScale: 1, Equalize: restore.EqualizeAuto})
		if err != nil {
			return err
		}
		pin, _ := metrics.PSNR(in, clean)
		pout, _ := metrics.PSNR(out, clean)
		fmt.Fprintf(stdout, "%-9s %-14s seed %-3d %dx%d  PSNR %6.2f -> %6.2f dB (%+.2f)\n", s.Task, s.Source, s.Seed, in.W, in.H, pin, pout, pout-pin)
	}
	return nil
}

func psnrCmd(args []string, stdout io.Writer) error {
	if len(args) < 2 {
		return errors.New("usage: -psnr CLEAN IMAGE [IMAGE ...]")
	}
	clean, err := imageio.ReadFile(args[0])
	if err != nil {
		return err
	}
	var res []float64
	for _, a := range args[1:] {
		img, err := imageio.ReadFile(a)
		if err != nil {
			return err
		}
		v, err := metrics.PSNR(img, clean)
		if err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
		res = append(res, metrics.Capped(v))
	}
	return json.NewEncoder(stdout).Encode(res)
}

func writeJPEG(path string, img *imageio.Image, q int) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := img.EncodeJPEG(&buf, q); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// candidates is every photo of srcDir with every task and seeds 1..n.
func candidates(srcDir string, n int) ([]Sample, error) {
	names, err := imageio.ListImages(srcDir)
	if err != nil {
		return nil, err
	}
	var out []Sample
	for _, t := range degrade.Tasks {
		for _, name := range names {
			for seed := 1; seed <= n; seed++ {
				out = append(out, Sample{Task: t, Source: filepath.Base(name), Seed: uint64(seed)})
			}
		}
	}
	return out, nil
}
