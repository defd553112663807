package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/tools/internal/degrade"
	"github.com/diffuir-web/diffuir/tools/internal/heldout"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
)

// Recipe families eval can degrade with: the training recipes
// (tools/internal/degrade, what mkshard makes training pairs with) and the
// held-out ones (tools/internal/heldout: other algorithms, never trained on).
const (
	familyTrain   = "train"
	familyHeldOut = "heldout"
)

func parseFamilies(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "held-out" {
			f = familyHeldOut
		}
		if f != familyTrain && f != familyHeldOut {
			return nil, fmt.Errorf("--recipes: unknown family %q (want train, heldout or both)", f)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// degradeWith degrades clean with one task of a recipe family.
func degradeWith(family string, clean *imageio.Image, task degrade.Task, seed uint64) (*imageio.Image, string, error) {
	if family == familyHeldOut {
		out, p, err := heldout.Apply(clean, string(task), seed)
		return out, p.Recipe, err
	}
	out, _, err := degrade.Apply(clean, task, seed)
	return out, "", err
}

// evalSeed is the degradation seed of photo i: the same for every task
// (degrade.Apply mixes the task into its stream).
func evalSeed(base uint64, i int) uint64 { return base*1_000_003 + uint64(i) }

// evalScore is one (photo, task) measurement; PSNR values are capped at
// metrics.PSNRCap (identical images: +Inf) so they average and encode.
type evalScore struct {
	Photo string `json:"photo,omitempty"`
	Task  string `json:"task"`
	// Recipes is the family that degraded the photo: "train" or "heldout"
	// (empty on the undegraded --clean rows); Recipe the held-out renderer.
	Recipes  string  `json:"recipes,omitempty"`
	Recipe   string  `json:"recipe,omitempty"`
	N        int     `json:"n,omitempty"`
	PSNRIn   float64 `json:"psnr_in"`
	PSNROut  float64 `json:"psnr_out"`
	PSNRGain float64 `json:"psnr_gain"`
	SSIMIn   float64 `json:"ssim_in"`
	SSIMOut  float64 `json:"ssim_out"`
	SSIMGain float64 `json:"ssim_gain"`
	// LumaShift is mean luma of the output minus that of the clean photo,
	// in 8-bit levels: a restorer that brightens or darkens shows here.
	LumaShift float64 `json:"luma_shift"`
	Equalized *bool   `json:"equalized,omitempty"`
	Seconds   float64 `json:"seconds,omitempty"`
}

type evalReport struct {
	Model     string   `json:"model"`
	ModelName string   `json:"model_name"`
	Steps     int      `json:"steps"`
	Seed      uint64   `json:"seed"`
	Noise     float64  `json:"noise_scale"`
	MaxSide   int      `json:"max_side"`
	PSNRCap   float64  `json:"psnr_cap"`
	Metric    string   `json:"metric"`
	Photos    []string `json:"photos"`
	// Families lists the recipe families scored (--recipes).
	Families []string `json:"recipes"`
	// Tasks and Average score the training recipes (absent without them);
	// HeldOut the held-out recipes on the same photos.
	Tasks   []evalScore `json:"tasks,omitempty"`
	Average *evalScore  `json:"average,omitempty"`
	HeldOut *evalTable  `json:"heldout,omitempty"`
	// Clean scores the photos restored as they are, with no degradation
	// (--clean): how much the model changes a photo that needs nothing.
	// Its per-photo rows are in PerPhoto with task "clean"; it is not part
	// of Average.
	Clean    *evalScore  `json:"clean,omitempty"`
	PerPhoto []evalScore `json:"per_photo"`
	Seconds  float64     `json:"seconds"`
}

// evalTable is one family's per-task means and their average.
type evalTable struct {
	Tasks   []evalScore `json:"tasks"`
	Average evalScore   `json:"average"`
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	photosDir := fs.String("photos", "", "directory of clean photos (e.g. data/photos/eval)")
	tasksFlag := fs.String("tasks", "haze,lowlight,rain,snow,blur", "comma-separated degradations to evaluate")
	rf := addRestoreFlags(fs, "base seed of the degradations and of the sampler noise")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	maxSide := fs.Int("max-side", 512, "downscale photos so the long side is at most this (0: full size)")
	limit := fs.Int("limit", 0, "use only the first N photos (0: all)")
	saveDir := fs.String("save", "", "also write clean, degraded and restored PNGs into this `directory`")
	quiet := fs.Bool("quiet", false, "no per-photo progress lines on standard error")
	sheetPath := fs.String("sheet", "", "also write a before/after contact sheet (JPEG, or PNG by extension) of one photo, a row per task, to this `file`")
	sheetPhoto := fs.String("sheet-photo", "", "the photo on the contact sheet (default: the first one)")
	sheetCell := fs.Int("sheet-cell", 200, "contact sheet: long side of each picture in pixels")
	cleanCheck := fs.Bool("clean", false, "also restore each photo undegraded and report how much the model changes it (not part of the average)")
	recipesFlag := fs.String("recipes", "train,heldout", "degradation recipes: train (tools/internal/degrade, the training recipes), heldout (tools/internal/heldout, never trained on) or both, comma-separated; the contact sheet shows the last")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || *photosDir == "" {
		return usagef("usage: diffuir eval --photos DIR [--tasks LIST] [--model PACK] [--steps N] [--json] [--max-side N] [--seed N] [--clean]")
	}
	tasks, err := degrade.ParseTasks(*tasksFlag)
	if err != nil {
		return usageError{err.Error()}
	}
	if *recipesFlag == "both" {
		*recipesFlag = "train,heldout"
	}
	families, err := parseFamilies(*recipesFlag)
	if err != nil {
		return usageError{err.Error()}
	}
	sheetFamily := families[len(families)-1]
	if *maxSide < 0 || *limit < 0 {
		return usagef("--max-side and --limit must not be negative")
	}
	opt, err := rf.options(restore.EqualizeAuto, 0)
	if err != nil {
		return err
	}
	names, err := imageio.ListImages(*photosDir) // sorted: the index seeds each photo's degradations
	if err != nil {
		return err
	}
	if *limit > 0 && *limit < len(names) {
		names = names[:*limit]
	}
	m, path, err := loadModel(*rf.model)
	if err != nil {
		return err
	}
	if *saveDir != "" {
		if err := os.MkdirAll(*saveDir, 0o755); err != nil {
			return err
		}
	}
	r := restore.New(m, &cpu.Backend{})
	defer r.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	rep := evalReport{Model: path, ModelName: m.Cfg.Name, Steps: cmp.Or(opt.Steps, m.Cfg.DefaultSteps), Seed: opt.Seed, Noise: *rf.noise, MaxSide: *maxSide,
		PSNRCap: metrics.PSNRCap, Metric: "BasicSR Y-channel PSNR (dB) / SSIM on 8-bit images, no border crop", Photos: names,
		Families: families}
	if *sheetPhoto == "" && len(names) > 0 {
		*sheetPhoto = names[0]
	}
	if *sheetPath != "" && !slices.Contains(names, *sheetPhoto) {
		return usagef("--sheet-photo %s: not among the photos evaluated", *sheetPhoto)
	}
	sheet := &contactSheet{cell: max(*sheetCell, 16)}
	start := time.Now()
	for i, name := range names {
		clean, err := imageio.ReadFile(filepath.Join(*photosDir, name))
		if err != nil {
			return err
		}
		clean = degrade.Downscale(clean, *maxSide)
		clean.Alpha = nil // scores are on colour; photos are opaque anyway
		metrics.Snap8(clean)
		if clean.W < 11 || clean.H < 11 {
			return fmt.Errorf("%s: %dx%d is too small for SSIM (11x11 window)", name, clean.W, clean.H)
		}
		cleanLuma := meanLuma(clean)
		type job struct {
			family string
			task   degrade.Task
		}
		var runs []job
		for _, fam := range families {
			for _, task := range tasks {
				runs = append(runs, job{fam, task})
			}
		}
		if *cleanCheck {
			runs = append(runs, job{"", cleanTask})
		}
		for _, jb := range runs {
			task := jb.task
			t0 := time.Now()
			deg := clean
			recipe := ""
			if task != cleanTask {
				if deg, recipe, err = degradeWith(jb.family, clean, task, evalSeed(opt.Seed, i)); err != nil {
					return err
				}
				metrics.Snap8(deg) // the degraded photo as a file would hold it
			}
			out, how, err := r.Restore(ctx, deg, opt)
			if err != nil {
				return fmt.Errorf("%s %s: %w", name, task, err)
			}
			s := evalScore{Photo: name, Task: string(task), Recipes: jb.family, Recipe: recipe}
			s.Equalized = &how.Equalized // the restore's own decision, not a second one
			if s.PSNRIn, err = metrics.PSNR(deg, clean); err != nil {
				return err
			}
			s.PSNROut, _ = metrics.PSNR(out, clean)
			s.SSIMIn, _ = metrics.SSIM(deg, clean)
			s.SSIMOut, _ = metrics.SSIM(out, clean)
			s.PSNRIn, s.PSNROut = metrics.Capped(s.PSNRIn), metrics.Capped(s.PSNROut)
			s.PSNRGain, s.SSIMGain = s.PSNROut-s.PSNRIn, s.SSIMOut-s.SSIMIn
			s.LumaShift = meanLuma(out) - cleanLuma
			s.Seconds = round3(time.Since(t0).Seconds())
			rep.PerPhoto = append(rep.PerPhoto, s)
			if *sheetPath != "" && name == *sheetPhoto && task != cleanTask && jb.family == sheetFamily {
				label := string(task)
				if jb.family == familyHeldOut {
					label += " (held-out)"
				}
				sheet.add(label, clean, deg, out, s.PSNRIn, s.PSNROut)
			}
			if !*quiet {
				fam := jb.family
				if fam == "" {
					fam = "-"
				}
				fmt.Fprintf(stderr, "eval %d/%d %-22s %-7s %-8s PSNR %6.2f -> %6.2f  SSIM %.4f -> %.4f  (%.1fs)\n",
					i+1, len(names), name, fam, task, s.PSNRIn, s.PSNROut, s.SSIMIn, s.SSIMOut, s.Seconds)
			}
			if *saveDir != "" {
				base := strings.TrimSuffix(name, filepath.Ext(name))
				tag := string(task)
				if jb.family == familyHeldOut {
					tag = "heldout-" + tag
				}
				for _, f := range []struct {
					suffix string
					img    *imageio.Image
				}{{"clean", clean}, {tag + "-in", deg}, {tag + "-out", out}} {
					if (f.suffix == "clean" && jb != runs[0]) || f.img == deg && task == cleanTask {
						continue // one copy of the clean photo
					}
					if err := writeImage(filepath.Join(*saveDir, base+"-"+f.suffix+".png"), f.img, imageio.Output{Depth: 8}); err != nil {
						return err
					}
				}
			}
		}
	}
	rep.Seconds = round3(time.Since(start).Seconds())
	if *sheetPath != "" {
		if err := sheet.write(*sheetPath, *sheetPhoto); err != nil {
			return err
		}
	}
	for _, fam := range families {
		rows, avg := summarize(rep.PerPhoto, tasks, fam)
		if fam == familyTrain {
			rep.Tasks, rep.Average = rows, &avg
		} else {
			rep.HeldOut = &evalTable{Tasks: rows, Average: avg}
		}
	}
	if *cleanCheck {
		c, _ := summarize(rep.PerPhoto, []degrade.Task{cleanTask}, "")
		rep.Clean = &c[0]
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "model   %s (%s, %d steps, noise scale %g, seed %d, equalize auto)\n", rep.Model, rep.ModelName, rep.Steps, rep.Noise, rep.Seed)
	fmt.Fprintf(stdout, "photos  %d from %s (long side <= %d), %s\n", len(names), *photosDir, *maxSide, rep.Metric)
	fmt.Fprintf(stdout, "        PSNR capped at %g dB per image (identical images)\n", metrics.PSNRCap)
	table := func(title string, rows []evalScore) {
		fmt.Fprintf(stdout, "\n%s\n", title)
		fmt.Fprintf(stdout, "%-9s %4s  %8s %8s %7s  %7s %7s %8s  %6s\n", "task", "n", "PSNR in", "PSNR out", "gain", "SSIM in", "SSIM out", "gain", "luma")
		for _, s := range rows {
			fmt.Fprintf(stdout, "%-9s %4d  %8.2f %8.2f %+7.2f  %7.4f %7.4f %+8.4f  %+6.1f\n", s.Task, s.N, s.PSNRIn, s.PSNROut, s.PSNRGain, s.SSIMIn, s.SSIMOut, s.SSIMGain, s.LumaShift)
		}
	}
	if rep.Average != nil {
		table("training recipes (tools/internal/degrade)", append(slices.Clip(rep.Tasks), *rep.Average))
	}
	if rep.HeldOut != nil {
		table("held-out recipes (tools/internal/heldout, never trained on)", append(slices.Clip(rep.HeldOut.Tasks), rep.HeldOut.Average))
	}
	if c := rep.Clean; c != nil {
		fmt.Fprintf(stdout, "\n%-9s %4d  %8s %8.2f %7s  %7s %7.4f %8s  %+6.1f  (undegraded photos; not in the average)\n", c.Task, c.N, "-", c.PSNROut, "", "-", c.SSIMOut, "", c.LumaShift)
	}
	fmt.Fprintf(stdout, "luma: mean luma of the output minus the clean photo's, in 8-bit levels\n")
	fmt.Fprintf(stdout, "\n%d restorations in %s\n", len(rep.PerPhoto), time.Duration(rep.Seconds*float64(time.Second)).Round(100*time.Millisecond))
	return nil
}

// summarize averages one family's per-photo scores per task (in the order
// given) and over every (photo, task) pair of that family.
func summarize(per []evalScore, tasks []degrade.Task, family string) ([]evalScore, evalScore) {
	mean := func(name string, keep func(evalScore) bool) evalScore {
		out := evalScore{Task: name, Recipes: family}
		for _, s := range per {
			if s.Recipes == family && keep(s) {
				out.N++
				out.PSNRIn += s.PSNRIn
				out.PSNROut += s.PSNROut
				out.SSIMIn += s.SSIMIn
				out.SSIMOut += s.SSIMOut
				out.LumaShift += s.LumaShift
			}
		}
		if out.N > 0 {
			k := float64(out.N)
			out.PSNRIn, out.PSNROut, out.SSIMIn, out.SSIMOut = out.PSNRIn/k, out.PSNROut/k, out.SSIMIn/k, out.SSIMOut/k
			out.LumaShift /= k
		}
		out.PSNRGain, out.SSIMGain = out.PSNROut-out.PSNRIn, out.SSIMOut-out.SSIMIn
		return out
	}
	var rows []evalScore
	for _, t := range tasks {
		rows = append(rows, mean(string(t), func(s evalScore) bool { return s.Task == string(t) }))
	}
	return rows, mean("average", func(s evalScore) bool { return s.Task != string(cleanTask) })
}

// cleanTask labels the --clean runs: the photo restored as it is.
const cleanTask degrade.Task = "clean"

// meanLuma is the mean BT.601 luma of img in 8-bit levels.
func meanLuma(img *imageio.Image) float64 {
	var sum float64
	y := metrics.Y(img)
	for _, v := range y {
		sum += v
	}
	return sum / float64(len(y))
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
