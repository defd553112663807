// Command genassets draws the web app's icons, so the repository holds no
// binary icons (the sample photos come from tools/samples):
//
//	go run ./site/build/genassets -o dist/site
//
// It writes icons/icon-{32,192,512}.png and icons/maskable-512.png.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

func main() {
	out := flag.String("o", "dist/site", "output folder")
	flag.Parse()
	if err := run(*out); err != nil {
		fmt.Fprintln(os.Stderr, "genassets:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, s := range []int{32, 192, 512} {
		if err := save(filepath.Join(dir, "icons", fmt.Sprintf("icon-%d.png", s)), icon(s, false)); err != nil {
			return err
		}
	}
	if err := save(filepath.Join(dir, "icons", "maskable-512.png"), icon(512, true)); err != nil {
		return err
	}
	return nil
}

func save(path string, img image.Image) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func mix(a, b, t float64) float64 { return a + (b-a)*t }

func clamp(v float64) uint8 { return uint8(math.Max(0, math.Min(255, math.Round(v)))) }

// icon: a rounded tile, a sun behind a diagonal "restored" split.
func icon(s int, maskable bool) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, s, s))
	fs := float64(s)
	r := fs * 0.22 // corner radius
	if maskable {
		r = 0 // the platform applies its own mask; fill the safe zone
	}
	for y := 0; y < s; y++ {
		for x := 0; x < s; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			// rounded-rectangle coverage
			dx := math.Max(math.Max(r-fx, fx-(fs-r)), 0)
			dy := math.Max(math.Max(r-fy, fy-(fs-r)), 0)
			a := 1.0
			if r > 0 {
				a = math.Max(0, math.Min(1, r-math.Hypot(dx, dy)+0.5))
			}
			t := fy / fs
			R, G, B := mix(32, 14, t), mix(96, 40, t), mix(200, 110, t)
			// sun
			d := math.Hypot(fx-fs*0.5, fy-fs*0.46) / fs
			if d < 0.2 {
				R, G, B = 255, 200, 70
			} else if d < 0.24 {
				k := (d - 0.2) / 0.04
				R, G, B = mix(255, R, k), mix(200, G, k), mix(70, B, k)
			}
			// ground
			if fy > fs*(0.66+0.05*math.Sin(fx/fs*6)) {
				R, G, B = 30, 120, 80
			}
			// the lower-left half is "degraded": greyed and darker
			if fx+fy < fs {
				g := 0.3*R + 0.59*G + 0.11*B
				R, G, B = mix(R, g, 0.7)*0.7, mix(G, g, 0.7)*0.7, mix(B, g, 0.7)*0.7
			}
			if math.Abs(fx+fy-fs) < fs*0.012 {
				R, G, B = 255, 255, 255
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp(R), clamp(G), clamp(B), clamp(a * 255)})
		}
	}
	return img
}
