// Command genassets draws the web app's icons and sample photos, so the
// repository holds no binary images:
//
//	go run ./site/build/genassets -o dist/site
//
// It writes icons/icon-{32,192,512}.png, icons/maskable-512.png and
// samples/{rain,haze,lowlight,snow}.png (small synthetic scenes, degraded
// the way DiffUIR's tasks are, sized so that even the single-threaded CPU
// fallback restores one in seconds).
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
	const w, h = 96, 72
	for name, f := range map[string]func(*image.NRGBA){"rain": rain, "haze": haze, "lowlight": lowlight, "snow": snow} {
		img := scene(w, h)
		f(img)
		if err := save(filepath.Join(dir, "samples", name+".png"), img); err != nil {
			return err
		}
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

// scene: sky, sun, hills, a house: a little landscape with edges and flat areas.
func scene(w, h int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	fw, fh := float64(w), float64(h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			fx, fy := float64(x)+0.5, float64(y)+0.5
			t := fy / fh
			R, G, B := mix(90, 190, t), mix(150, 220, t), mix(235, 250, t)
			if math.Hypot(fx-fw*0.78, fy-fh*0.22) < fh*0.11 {
				R, G, B = 255, 225, 120
			}
			hill := fh * (0.62 + 0.08*math.Sin(fx/fw*5+1))
			if fy > hill {
				k := (fy - hill) / (fh - hill)
				R, G, B = mix(70, 40, k), mix(150, 100, k), mix(60, 40, k)
			}
			// house
			hx, hy, hw, hh := fw*0.22, fh*0.5, fw*0.22, fh*0.24
			if fx > hx && fx < hx+hw && fy > hy && fy < hy+hh {
				R, G, B = 200, 80, 60
				if fx > hx+hw*0.4 && fx < hx+hw*0.6 && fy > hy+hh*0.45 {
					R, G, B = 90, 50, 30
				}
			}
			if fy <= hy && fy > hy-hh*0.6 && math.Abs(fx-(hx+hw/2)) < (fy-(hy-hh*0.6))/(hh*0.6)*hw*0.6 {
				R, G, B = 110, 40, 40
			}
			img.SetNRGBA(x, y, color.NRGBA{clamp(R), clamp(G), clamp(B), 255})
		}
	}
	return img
}

func each(img *image.NRGBA, f func(x, y int, c [3]float64) [3]float64) {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := img.NRGBAAt(x, y)
			o := f(x, y, [3]float64{float64(c.R), float64(c.G), float64(c.B)})
			img.SetNRGBA(x, y, color.NRGBA{clamp(o[0]), clamp(o[1]), clamp(o[2]), 255})
		}
	}
}

// hash is a small deterministic pseudo-random value in [0, 1).
func hash(x, y, k int) float64 {
	v := uint32(x)*374761393 + uint32(y)*668265263 + uint32(k)*2147483647
	v = (v ^ (v >> 13)) * 1274126177
	return float64(v^(v>>16)) / (1 << 32)
}

func rain(img *image.NRGBA) {
	each(img, func(x, y int, c [3]float64) [3]float64 {
		// streaks along a slanted line: x - y/3 constant
		s := (x*3 - y + 300) / 3
		if hash(s, 0, 1) < 0.18 && hash(s, y/6, 2) < 0.7 {
			return [3]float64{mix(c[0], 235, 0.55), mix(c[1], 235, 0.55), mix(c[2], 240, 0.55)}
		}
		return [3]float64{c[0] * 0.9, c[1] * 0.9, c[2] * 0.92}
	})
}

func haze(img *image.NRGBA) {
	each(img, func(x, y int, c [3]float64) [3]float64 {
		t := 0.55 + 0.15*float64(y)/72
		return [3]float64{mix(c[0], 215, t), mix(c[1], 215, t), mix(c[2], 220, t)}
	})
}

func lowlight(img *image.NRGBA) {
	each(img, func(x, y int, c [3]float64) [3]float64 {
		n := (hash(x, y, 3) - 0.5) * 6
		f := func(v float64) float64 { return 255*math.Pow(v/255, 1.8)*0.35 + n }
		return [3]float64{f(c[0]), f(c[1]), f(c[2])}
	})
}

func snow(img *image.NRGBA) {
	each(img, func(x, y int, c [3]float64) [3]float64 {
		if hash(x/2, y/2, 4) < 0.06 || hash(x, y, 5) < 0.03 {
			return [3]float64{245, 245, 250}
		}
		return [3]float64{mix(c[0], 200, 0.2), mix(c[1], 200, 0.2), mix(c[2], 210, 0.2)}
	})
}
