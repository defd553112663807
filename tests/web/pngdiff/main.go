// Command pngdiff compares two images pixel by pixel and prints one JSON
// line: {"width","height","pixels","over","maxDiff","fractionWithin"}, where
// over counts pixels with any channel more than -tol (in 1/255 units) apart.
// It exits 1 when the sizes differ or fewer than -min of the pixels are
// within tolerance, 2 on bad input.
//
//	go run ./tests/web/pngdiff -tol 1 -min 0.999 a.png b.png
//
// With -between, it checks that every channel of MID lies between LOW's and
// HIGH's (within -tol) and prints {"channels","outside","maxMidDiff"}:
// maxMidDiff is the largest distance from (LOW+HIGH)/2, in 1/255 units.
//
//	go run ./tests/web/pngdiff -between -tol 1 low.png high.png mid.png
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"image"
	_ "image/jpeg"
	_ "image/png"
	"os"
)

func load(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, _, err := image.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return img, nil
}

func main() {
	tol := flag.Float64("tol", 1, "tolerance per channel, in 1/255 units")
	minFrac := flag.Float64("min", 0.999, "fraction of pixels that must be within tolerance")
	between := flag.Bool("between", false, "LOW HIGH MID: every channel of MID between LOW's and HIGH's")
	flag.Parse()
	if *between {
		if flag.NArg() != 3 {
			fmt.Fprintln(os.Stderr, "usage: pngdiff -between [-tol N] LOW HIGH MID")
			os.Exit(2)
		}
		var imgs [3]image.Image
		for i := range imgs {
			var err error
			if imgs[i], err = load(flag.Arg(i)); err != nil {
				fmt.Fprintln(os.Stderr, "pngdiff:", err)
				os.Exit(2)
			}
		}
		os.Exit(checkBetween(imgs[0], imgs[1], imgs[2], *tol))
	}
	if flag.NArg() != 2 {
		fmt.Fprintln(os.Stderr, "usage: pngdiff [-tol N] [-min F] A B")
		os.Exit(2)
	}
	a, err := load(flag.Arg(0))
	if err == nil {
		var b image.Image
		if b, err = load(flag.Arg(1)); err == nil {
			os.Exit(compare(a, b, *tol, *minFrac))
		}
	}
	fmt.Fprintln(os.Stderr, "pngdiff:", err)
	os.Exit(2)
}

func compare(a, b image.Image, tol, minFrac float64) int {
	ra, rb := a.Bounds(), b.Bounds()
	res := map[string]any{"width": ra.Dx(), "height": ra.Dy()}
	if ra.Dx() != rb.Dx() || ra.Dy() != rb.Dy() {
		res["error"] = fmt.Sprintf("size %dx%d vs %dx%d", ra.Dx(), ra.Dy(), rb.Dx(), rb.Dy())
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
		return 1
	}
	over, maxDiff := 0, 0.0
	for y := 0; y < ra.Dy(); y++ {
		for x := 0; x < ra.Dx(); x++ {
			r1, g1, b1, _ := a.At(ra.Min.X+x, ra.Min.Y+y).RGBA()
			r2, g2, b2, _ := b.At(rb.Min.X+x, rb.Min.Y+y).RGBA()
			d := 0.0
			for _, p := range [][2]uint32{{r1, r2}, {g1, g2}, {b1, b2}} {
				v := (float64(p[0]) - float64(p[1])) / 257
				if v < 0 {
					v = -v
				}
				d = max(d, v)
			}
			maxDiff = max(maxDiff, d)
			if d > tol+1e-9 {
				over++
			}
		}
	}
	n := ra.Dx() * ra.Dy()
	frac := float64(n-over) / float64(n)
	res["pixels"], res["over"], res["maxDiff"], res["fractionWithin"] = n, over, maxDiff, frac
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if frac < minFrac {
		return 1
	}
	return 0
}

func checkBetween(lo, hi, mid image.Image, tol float64) int {
	r := lo.Bounds()
	res := map[string]any{"width": r.Dx(), "height": r.Dy()}
	if hi.Bounds().Size() != r.Size() || mid.Bounds().Size() != r.Size() {
		res["error"] = "sizes differ"
		out, _ := json.Marshal(res)
		fmt.Println(string(out))
		return 1
	}
	channels, outside, maxMid := 0, 0, 0.0
	for y := 0; y < r.Dy(); y++ {
		for x := 0; x < r.Dx(); x++ {
			at := func(m image.Image) [3]float64 {
				b := m.Bounds()
				r, g, bl, _ := m.At(b.Min.X+x, b.Min.Y+y).RGBA()
				return [3]float64{float64(r) / 257, float64(g) / 257, float64(bl) / 257}
			}
			l, h, m := at(lo), at(hi), at(mid)
			for c := range 3 {
				channels++
				if m[c] < min(l[c], h[c])-tol-1e-9 || m[c] > max(l[c], h[c])+tol+1e-9 {
					outside++
				}
				d := m[c] - (l[c]+h[c])/2
				if d < 0 {
					d = -d
				}
				maxMid = max(maxMid, d)
			}
		}
	}
	res["channels"], res["outside"], res["maxMidDiff"] = channels, outside, maxMid
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
	if outside > 0 {
		return 1
	}
	return 0
}
