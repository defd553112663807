package main

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/imageio"
)

// evalFixtures writes a random-weight Tiny pack and two small generated
// photos (one of them too wide for --max-side 40, so it gets downscaled).
func evalFixtures(t *testing.T) (pack, photos string) {
	t.Helper()
	dir := t.TempDir()
	pack, photos = tinyPack(t, dir), filepath.Join(dir, "photos")
	must(t, os.Mkdir(photos, 0o755))
	for k, sz := range [][2]int{{36, 28}, {60, 24}} {
		img := image.NewNRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for y := range sz[1] {
			for x := range sz[0] {
				img.Set(x, y, color.NRGBA{uint8(40 + 5*x + 30*k), uint8(60 + 6*y), uint8(120 + (x*y)%90), 255})
			}
		}
		var buf bytes.Buffer
		must(t, png.Encode(&buf, img))
		must(t, os.WriteFile(filepath.Join(photos, []string{"a.png", "b.png"}[k]), buf.Bytes(), 0o644))
	}
	must(t, os.WriteFile(filepath.Join(photos, "README.txt"), []byte("x"), 0o644)) // not a photo: ignored
	return pack, photos
}

func TestEvalText(t *testing.T) {
	pack, photos := evalFixtures(t)
	code, out, errs := runCLI("eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"haze ", "lowlight ", "rain ", "snow ", "blur ", "average ", "PSNR in", "training recipes",
		"held-out recipes", "20 restorations"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	n := 0
	for _, l := range strings.Split(errs, "\n") {
		if strings.HasPrefix(l, "eval ") {
			n++
		}
	}
	if n != 20 {
		t.Errorf("%d progress lines, want 20:\n%s", n, errs)
	}
	// one family alone
	code, out, _ = runCLI("eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40", "--recipes", "heldout",
		"--quiet", "--tasks", "blur")
	if code != 0 || strings.Contains(out, "training recipes") || !strings.Contains(out, "held-out recipes") ||
		!strings.Contains(out, "2 restorations") {
		t.Errorf("--recipes heldout: exit %d\n%s", code, out)
	}
}

func TestEvalJSON(t *testing.T) {
	pack, photos := evalFixtures(t)
	dir := t.TempDir()
	args := []string{"eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40", "--json",
		"--tasks", "rain,haze", "--seed", "7", "--quiet", "--save", dir}
	code, out, errs := runCLI(args...)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if errs != "" {
		t.Errorf("--quiet printed: %s", errs)
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if rep.Steps != 1 || rep.Seed != 7 || len(rep.Photos) != 2 || len(rep.Tasks) != 2 || rep.Tasks[0].Task != "rain" ||
		len(rep.PerPhoto) != 8 || rep.Average == nil || rep.Average.N != 4 || rep.Tasks[1].N != 2 || rep.HeldOut == nil ||
		rep.HeldOut.Average.N != 4 || len(rep.HeldOut.Tasks) != 2 || rep.HeldOut.Tasks[1].Task != "haze" ||
		strings.Join(rep.Families, ",") != "train,heldout" {
		t.Fatalf("report: %+v", rep)
	}
	// the two families degrade differently, so their inputs score differently
	if rep.HeldOut.Average.PSNRIn == rep.Average.PSNRIn {
		t.Errorf("held-out inputs score like the training ones: %+v", rep.HeldOut.Average)
	}
	for _, s := range rep.PerPhoto {
		if (s.Recipes == "heldout") != (s.Recipe != "") {
			t.Errorf("row %+v: only held-out rows name their recipe", s)
		}
	}
	for _, s := range append(rep.PerPhoto, *rep.Average, rep.HeldOut.Average) {
		for _, v := range []float64{s.PSNRIn, s.PSNROut, s.SSIMIn, s.SSIMOut} {
			if math.IsNaN(v) || v <= -1 || v > 100 {
				t.Errorf("score out of range: %+v", s)
			}
		}
		if math.Abs(s.PSNRGain-(s.PSNROut-s.PSNRIn)) > 1e-9 {
			t.Errorf("gain: %+v", s)
		}
	}
	// Repeatable: same seed, same numbers.
	code, out2, _ := runCLI(args...)
	var rep2 evalReport
	if code != 0 || json.Unmarshal([]byte(out2), &rep2) != nil || !sameScores(*rep2.Average, *rep.Average) ||
		!sameScores(rep2.HeldOut.Average, rep.HeldOut.Average) {
		t.Errorf("second run differs: %+v vs %+v", rep2.Average, rep.Average)
	}
	// --save wrote clean, degraded and restored images (b.png downscaled to 40x16).
	for _, f := range []string{"a-clean.png", "a-rain-in.png", "a-haze-out.png", "b-rain-out.png", "a-heldout-rain-in.png", "b-heldout-haze-out.png"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "b-clean.png"))
	if cfg, err := png.DecodeConfig(bytes.NewReader(data)); err != nil || cfg.Width != 40 || cfg.Height != 16 {
		t.Errorf("b-clean.png: %+v %v, want 40x16", cfg, err)
	}
}

func sameScores(a, b evalScore) bool {
	a.Seconds, b.Seconds = 0, 0
	return a.PSNRIn == b.PSNRIn && a.PSNROut == b.PSNROut && a.SSIMIn == b.SSIMIn && a.SSIMOut == b.SSIMOut
}

func TestEvalErrors(t *testing.T) {
	pack, photos := evalFixtures(t)
	old := defaultPackCandidates
	defer func() { defaultPackCandidates = old }()
	defaultPackCandidates = func() []string { return []string{filepath.Join(t.TempDir(), "models", defaultPackName)} }

	code, _, errs := runCLI("eval", "--photos", photos)
	if code != 1 || !strings.Contains(errs, "no bundled default model") {
		t.Errorf("no model: exit %d, %s", code, errs)
	}
	// The default pack is used when present.
	defaultPackCandidates = func() []string { return []string{"/nonexistent/x.duir", pack} }
	code, out, errs := runCLI("eval", "--photos", photos, "--steps", "1", "--max-side", "24", "--tasks", "blur", "--limit", "1")
	if code != 0 || !strings.Contains(out, pack) || !strings.Contains(out, "2 restorations") {
		t.Errorf("default pack: exit %d\n%s%s", code, out, errs)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval"}, 2, "usage"},
		{[]string{"eval", "--photos", photos, "--tasks", "fog"}, 2, "unknown task"},
		{[]string{"eval", "--photos", photos, "--recipes", "train,fog"}, 2, "unknown family"},
		{[]string{"eval", "--photos", t.TempDir(), "--model", pack}, 1, "no images"},
		{[]string{"eval", "--photos", photos, "--model", pack, "--max-side", "8"}, 1, "too small for SSIM"},
		{[]string{"eval", "--photos", photos, "--model", pack, "--tile", "-1"}, 2, "must not be negative"},
		{[]string{"eval", "--photos", photos, "--model", "/nonexistent.duir"}, 1, "load model"},
	} {
		code, _, errs := runCLI(c.args...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d (want %d), %q lacks %q", c.args, code, c.code, errs, c.want)
		}
	}
}

// TestDefaultModelAndSheet: restore falls back to the bundled pack like
// eval does, and eval --sheet writes a contact sheet of the chosen photo
// with a row per task.
func TestDefaultModelAndSheet(t *testing.T) {
	pack, photos := evalFixtures(t)
	old := defaultPackCandidates
	defer func() { defaultPackCandidates = old }()
	defaultPackCandidates = func() []string { return []string{pack} }

	out := filepath.Join(t.TempDir(), "out.png")
	if code, _, errs := runCLI("restore", filepath.Join(photos, "a.png"), "-o", out, "--steps", "1", "--backend", "cpu"); code != 0 {
		t.Fatalf("restore without --model: exit %d: %s", code, errs)
	}
	sheet := filepath.Join(t.TempDir(), "sheet.jpg")
	code, _, errs := runCLI("eval", "--photos", photos, "--steps", "1", "--max-side", "40", "--tasks", "haze,blur",
		"--sheet", sheet, "--sheet-photo", "b.png", "--sheet-cell", "20")
	if code != 0 {
		t.Fatalf("eval --sheet: exit %d: %s", code, errs)
	}
	f, err := os.Open(sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := jpeg.DecodeConfig(f)
	if err != nil {
		t.Fatalf("sheet: %v", err)
	}
	// b.png (60x24) is scored at 40x16: cells of 20x8, three columns and two rows with gaps and captions
	if want := (image.Point{3*20 + 4*4, 2*(8+sheetLabel+4) + 4}); cfg.Width != want.X || cfg.Height != want.Y {
		t.Errorf("sheet %dx%d, want %v", cfg.Width, cfg.Height, want)
	}
	if code, _, errs := runCLI("eval", "--photos", photos, "--steps", "1", "--max-side", "40", "--tasks", "blur",
		"--sheet", sheet, "--sheet-photo", "nosuch.png"); code != 2 || !strings.Contains(errs, "nosuch.png") {
		t.Errorf("unknown sheet photo: exit %d, %s", code, errs)
	}
}

// TestEvalClean: --clean restores the undegraded photos too, reports them
// apart from the average, and the luma shift is the mean luma difference
// of the written output and the clean photo.
func TestEvalClean(t *testing.T) {
	pack, photos := evalFixtures(t)
	dir := t.TempDir()
	code, out, errs := runCLI("eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40", "--json",
		"--tasks", "blur", "--clean", "--quiet", "--save", dir)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	var rep evalReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	if rep.Clean == nil || rep.Clean.N != 2 || rep.Average.N != 2 || len(rep.Tasks) != 1 || len(rep.PerPhoto) != 6 {
		t.Fatalf("report: %+v", rep)
	}
	var sum float64
	for _, s := range rep.PerPhoto {
		if s.Task != "clean" {
			continue
		}
		if s.PSNRIn != 100 || s.SSIMIn != 1 || s.PSNROut >= 100 {
			t.Errorf("clean row %+v: want input scores of identical images and a changed output", s)
		}
		base := strings.TrimSuffix(s.Photo, filepath.Ext(s.Photo))
		want := meanLuma(readPNG(t, filepath.Join(dir, base+"-clean-out.png"))) - meanLuma(readPNG(t, filepath.Join(dir, base+"-clean.png")))
		// 0.05 levels: the PNG encoder rounds halves away from zero, the metric's 8-bit grid to even
		if math.Abs(s.LumaShift-want) > 0.05 {
			t.Errorf("%s luma shift %v, want %v", s.Photo, s.LumaShift, want)
		}
		sum += s.LumaShift
	}
	if math.Abs(rep.Clean.LumaShift-sum/2) > 1e-9 {
		t.Errorf("clean summary luma %v, want %v", rep.Clean.LumaShift, sum/2)
	}
	if _, err := os.Stat(filepath.Join(dir, "a-clean-in.png")); err == nil {
		t.Error("a-clean-in.png written: a second copy of the clean photo")
	}
	code, text, _ := runCLI("eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40",
		"--tasks", "blur", "--clean", "--quiet")
	if code != 0 || !strings.Contains(text, "not in the average") || !strings.Contains(text, "6 restorations") {
		t.Errorf("text: exit %d\n%s", code, text)
	}
}

func readPNG(t *testing.T, path string) *imageio.Image {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, _, err := imageio.DecodeBytes(data)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestEvalTile: --tile reaches the restorer (tiles of 24 px score differently
// from one pass over the 40-px photos; --tile 0 is one pass like the default
// tile, which the photos fit in).
func TestEvalTile(t *testing.T) {
	pack, photos := evalFixtures(t)
	score := func(extra ...string) evalScore {
		t.Helper()
		args := append([]string{"eval", "--photos", photos, "--model", pack, "--steps", "1", "--max-side", "40", "--json",
			"--tasks", "haze", "--quiet"}, extra...)
		code, out, errs := runCLI(args...)
		var rep evalReport
		if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
			t.Fatalf("%v: exit %d\n%s%s", extra, code, out, errs)
		}
		return *rep.Average
	}
	whole, def, tiled := score("--tile", "0"), score(), score("--tile", "24", "--overlap", "8")
	if !sameScores(whole, def) {
		t.Errorf("--tile 0 %+v differs from the default tile %+v on photos smaller than it", whole, def)
	}
	if sameScores(whole, tiled) {
		t.Errorf("--tile 24 scored the same as one pass: %+v", tiled)
	}
}
