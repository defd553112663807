package imageio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"io"
	"math"
	"strings"
	"testing"
)

// px returns the straight RGBA of pixel (x, y), alpha 1 when m is opaque.
func px(m *Image, x, y int) [4]float32 {
	n, i := m.W*m.H, y*m.W+x
	a := float32(1)
	if m.Alpha != nil {
		a = m.Alpha[i]
	}
	return [4]float32{m.RGB[i], m.RGB[n+i], m.RGB[2*n+i], a}
}

type pixelCheck struct {
	x, y int
	want [4]float32 // straight RGBA in [0,1]
}

func rgba8(r, g, b, a float32) [4]float32 { return [4]float32{r / 255, g / 255, b / 255, a / 255} }

func TestDecodeFormats(t *testing.T) {
	nrgba := sample3x2(true)
	opaque := sample3x2(false)

	gray := image.NewGray(image.Rect(0, 0, 2, 2))
	copy(gray.Pix, []uint8{0, 64, 128, 255})

	gray16 := image.NewGray16(image.Rect(0, 0, 2, 1))
	gray16.SetGray16(0, 0, color.Gray16{Y: 0x1234})
	gray16.SetGray16(1, 0, color.Gray16{Y: 0xffff})

	nrgba64 := image.NewNRGBA64(image.Rect(0, 0, 2, 1))
	nrgba64.SetNRGBA64(0, 0, color.NRGBA64{R: 0x0101, G: 0x8000, B: 0xfffe, A: 0x4000})
	nrgba64.SetNRGBA64(1, 0, color.NRGBA64{R: 1, G: 2, B: 3, A: 0xffff})

	rgba64 := image.NewRGBA64(image.Rect(0, 0, 2, 1))
	rgba64.SetRGBA64(0, 0, color.RGBA64{R: 0x1234, G: 0x5678, B: 0x9abc, A: 0xffff})
	rgba64.SetRGBA64(1, 0, color.RGBA64{A: 0xffff})

	pal := image.NewPaletted(image.Rect(0, 0, 3, 1), color.Palette{
		color.NRGBA{255, 0, 0, 255}, color.NRGBA{0, 0, 255, 128}, color.NRGBA{0, 0, 0, 0},
	})
	copy(pal.Pix, []uint8{0, 1, 2})

	gifPal := color.Palette{color.RGBA{255, 0, 0, 255}, color.RGBA{0, 0, 255, 255}, color.RGBA{0, 255, 0, 255}}
	frame1 := image.NewPaletted(image.Rect(0, 0, 4, 2), gifPal)
	copy(frame1.Pix, []uint8{0, 0, 1, 1, 1, 1, 0, 0})
	frame2 := image.NewPaletted(image.Rect(0, 0, 4, 2), gifPal)
	copy(frame2.Pix, []uint8{2, 2, 2, 2, 2, 2, 2, 2})

	flat := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := 0; i < len(flat.Pix); i += 4 {
		copy(flat.Pix[i:], []uint8{200, 80, 40, 255})
	}
	grayJPEG := image.NewGray(image.Rect(0, 0, 16, 8))
	for i := range grayJPEG.Pix {
		grayJPEG.Pix[i] = 100
	}

	// LZW TIFF: 2x2 RGB
	lzwRGB := []byte{255, 0, 0, 0, 255, 0, 0, 0, 255, 7, 8, 9}

	tests := []struct {
		name   string
		data   []byte
		format string
		w, h   int
		depth  int
		alpha  bool
		tol    float32
		checks []pixelCheck
	}{
		{"png nrgba", pngOf(t, nrgba), "png", 3, 2, 8, true, 1e-6, []pixelCheck{
			{0, 0, rgba8(255, 0, 0, 255)}, {1, 0, rgba8(0, 255, 0, 128)}, {2, 0, rgba8(0, 0, 255, 0)},
			{0, 1, rgba8(10, 20, 30, 255)}, {1, 1, rgba8(200, 100, 50, 255)},
		}},
		{"png rgb", pngOf(t, opaque), "png", 3, 2, 8, false, 1e-6, []pixelCheck{
			{1, 0, rgba8(0, 255, 0, 255)}, {0, 1, rgba8(10, 20, 30, 255)},
		}},
		{"png gray", pngOf(t, gray), "png", 2, 2, 8, false, 1e-6, []pixelCheck{
			{1, 0, rgba8(64, 64, 64, 255)}, {1, 1, rgba8(255, 255, 255, 255)},
		}},
		{"png gray16", pngOf(t, gray16), "png", 2, 1, 16, false, 1e-6, []pixelCheck{
			{0, 0, [4]float32{0x1234 / 65535., 0x1234 / 65535., 0x1234 / 65535., 1}},
		}},
		{"png nrgba64", pngOf(t, nrgba64), "png", 2, 1, 16, true, 1e-6, []pixelCheck{
			{0, 0, [4]float32{0x0101 / 65535., 0x8000 / 65535., 0xfffe / 65535., 0x4000 / 65535.}},
			{1, 0, [4]float32{1 / 65535., 2 / 65535., 3 / 65535., 1}},
		}},
		{"png rgba64", pngOf(t, rgba64), "png", 2, 1, 16, false, 1e-6, []pixelCheck{
			{0, 0, [4]float32{0x1234 / 65535., 0x5678 / 65535., 0x9abc / 65535., 1}},
		}},
		{"png palette", pngOf(t, pal), "png", 3, 1, 8, true, 1e-6, []pixelCheck{
			{0, 0, rgba8(255, 0, 0, 255)}, {1, 0, rgba8(0, 0, 255, 128)}, {2, 0, rgba8(0, 0, 0, 0)},
		}},
		{"png gray+alpha 8", rawPNG(2, 1, 4, 8, []byte{50, 255, 200, 100}), "png", 2, 1, 8, true, 1e-6, []pixelCheck{
			{0, 0, rgba8(50, 50, 50, 255)}, {1, 0, rgba8(200, 200, 200, 100)},
		}},
		{"png gray+alpha 16", rawPNG(1, 1, 4, 16, []byte{0x12, 0x34, 0x80, 0x00}), "png", 1, 1, 16, true, 1e-6, []pixelCheck{
			{0, 0, [4]float32{0x1234 / 65535., 0x1234 / 65535., 0x1234 / 65535., 0x8000 / 65535.}},
		}},
		{"gif first frame", gifOf(t, frame1, frame2), "gif", 4, 2, 8, false, 1e-6, []pixelCheck{
			{0, 0, rgba8(255, 0, 0, 255)}, {2, 0, rgba8(0, 0, 255, 255)}, {3, 1, rgba8(255, 0, 0, 255)},
		}},
		{"bmp", bmpOf(t, opaque), "bmp", 3, 2, 8, false, 1e-6, []pixelCheck{
			{0, 1, rgba8(10, 20, 30, 255)}, {1, 1, rgba8(200, 100, 50, 255)},
		}},
		{"tiff nrgba deflate", tiffOf(t, nrgba), "tiff", 3, 2, 8, true, 1e-6, []pixelCheck{
			{1, 0, rgba8(0, 255, 0, 128)}, {1, 1, rgba8(200, 100, 50, 255)},
		}},
		{"tiff 16-bit", tiffOf(t, rgba64), "tiff", 2, 1, 16, false, 1e-6, []pixelCheck{
			{0, 0, [4]float32{0x1234 / 65535., 0x5678 / 65535., 0x9abc / 65535., 1}},
		}},
		{"tiff lzw", lzwTIFF(2, 2, lzwRGB), "tiff", 2, 2, 8, false, 1e-6, []pixelCheck{
			{0, 0, rgba8(255, 0, 0, 255)}, {1, 0, rgba8(0, 255, 0, 255)}, {1, 1, rgba8(7, 8, 9, 255)},
		}},
		{"tiff lzw multi-clear", lzwTIFF(30, 20, bytes.Repeat([]byte{1, 2, 3}, 600)), "tiff", 30, 20, 8, false, 1e-6, []pixelCheck{
			{29, 19, rgba8(1, 2, 3, 255)},
		}},
		{"webp lossless", webpTwoColour(5, 3, 10, 30, [2]uint8{20, 220}, func(x, y int) int { return (x + y) % 2 }),
			"webp", 5, 3, 8, false, 1e-6, []pixelCheck{
				{0, 0, rgba8(10, 20, 30, 255)}, {1, 0, rgba8(10, 220, 30, 255)}, {4, 2, rgba8(10, 20, 30, 255)},
			}},
		{"jpeg colour", jpegOf(t, flat, 95), "jpeg", 16, 16, 8, false, 0.03, []pixelCheck{
			{8, 8, rgba8(200, 80, 40, 255)},
		}},
		{"jpeg gray", jpegOf(t, grayJPEG, 95), "jpeg", 16, 8, 8, false, 0.01, []pixelCheck{
			{3, 3, rgba8(100, 100, 100, 255)},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, format, err := DecodeBytes(tc.data)
			if err != nil {
				t.Fatal(err)
			}
			if format != tc.format || m.W != tc.w || m.H != tc.h || m.Depth != tc.depth || (m.Alpha != nil) != tc.alpha {
				t.Fatalf("got %s %dx%d depth %d alpha %v, want %s %dx%d depth %d alpha %v",
					format, m.W, m.H, m.Depth, m.Alpha != nil, tc.format, tc.w, tc.h, tc.depth, tc.alpha)
			}
			if len(m.RGB) != 3*m.W*m.H {
				t.Fatalf("len(RGB) = %d, want %d", len(m.RGB), 3*m.W*m.H)
			}
			for _, c := range tc.checks {
				got := px(m, c.x, c.y)
				for k := range got {
					if math.Abs(float64(got[k]-c.want[k])) > float64(tc.tol) {
						t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, got, c.want)
						break
					}
				}
			}
		})
	}
}

// hidden hides an image's concrete type (and RGBA64At) so that fromImage
// takes its slowest generic path, the reference for the fast paths.
type hidden struct{ image.Image }

func (h hidden) Opaque() bool { return h.Image.(interface{ Opaque() bool }).Opaque() }

func TestFastPathsMatchGeneric(t *testing.T) {
	r := image.Rect(1, 2, 8, 7) // non-zero origin exercises the offsets
	fill := func(set func(x, y int, v uint32)) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				set(x, y, uint32(x*7919+y*104729)) // cheap deterministic noise
			}
		}
	}
	nrgba := image.NewNRGBA(r)
	fill(func(x, y int, v uint32) {
		nrgba.SetNRGBA(x, y, color.NRGBA{uint8(v), uint8(v >> 3), uint8(v >> 6), uint8(v>>9) | 1})
	})
	rgba := image.NewRGBA(r)
	fill(func(x, y int, v uint32) {
		a := uint8(v >> 9)
		rgba.SetRGBA(x, y, color.RGBA{uint8(v) % (a + 1), uint8(v>>3) % (a + 1), a / 2, a})
	})
	nrgba64 := image.NewNRGBA64(r)
	fill(func(x, y int, v uint32) {
		nrgba64.SetNRGBA64(x, y, color.NRGBA64{uint16(v * 3), uint16(v * 5), uint16(v * 7), uint16(v * 11)})
	})
	rgba64 := image.NewRGBA64(r)
	fill(func(x, y int, v uint32) {
		a := uint16(v * 11)
		rgba64.SetRGBA64(x, y, color.RGBA64{uint16(v*3) % (a + 1), a / 3, a, a})
	})
	gray := image.NewGray(r)
	fill(func(x, y int, v uint32) { gray.SetGray(x, y, color.Gray{uint8(v)}) })
	gray16 := image.NewGray16(r)
	fill(func(x, y int, v uint32) { gray16.SetGray16(x, y, color.Gray16{uint16(v * 13)}) })
	cmyk := image.NewCMYK(r)
	fill(func(x, y int, v uint32) {
		cmyk.SetCMYK(x, y, color.CMYK{uint8(v), uint8(v >> 2), uint8(v >> 4), uint8(v >> 6)})
	})
	pal := image.NewPaletted(r, color.Palette{color.NRGBA{255, 0, 0, 255}, color.NRGBA{10, 200, 30, 77}, color.RGBA{40, 40, 40, 128}, color.Transparent})
	fill(func(x, y int, v uint32) { pal.SetColorIndex(x, y, uint8(v%4)) })
	ycc := image.NewYCbCr(r, image.YCbCrSubsampleRatio420)
	for i := range ycc.Y {
		ycc.Y[i] = uint8(i * 37)
	}
	for i := range ycc.Cb {
		ycc.Cb[i], ycc.Cr[i] = uint8(i*53), uint8(255-i*29)
	}

	tests := []struct {
		name string
		img  image.Image
		tol  float64
	}{
		{"nrgba", nrgba, 2e-5}, // generic path truncates c*a to 16 bits

		{"rgba", rgba, 1e-6},
		{"nrgba64", nrgba64, 2e-5},
		{"rgba64 via RGBA64At", rgba64, 1e-6},
		{"gray", gray, 1e-6},
		{"gray16 via RGBA64At", gray16, 1e-6},
		{"cmyk via RGBA64At", cmyk, 1e-6},
		{"paletted", pal, 1e-6},
		// The fast path uses 8-bit YCbCr->RGB like libjpeg; the generic
		// path keeps 16-bit intermediate precision.
		{"ycbcr", ycc, 1.5 / 255},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fast, slow := fromImage(tc.img), fromImage(hidden{tc.img})
			if fast.W != r.Dx() || fast.H != r.Dy() || (fast.Alpha == nil) != (slow.Alpha == nil) {
				t.Fatalf("shape: fast %dx%d alpha %v, slow alpha %v", fast.W, fast.H, fast.Alpha != nil, slow.Alpha != nil)
			}
			// Compare premultiplied colour: the generic path only sees
			// premultiplied 16-bit values, so straight colour under a tiny
			// alpha is not recoverable there, while the fast paths keep it.
			n := fast.W * fast.H
			for i := range fast.RGB {
				a := float32(1)
				if fast.Alpha != nil {
					a = fast.Alpha[i%n]
				}
				if d := math.Abs(float64(fast.RGB[i]*a - slow.RGB[i]*a)); d > tc.tol {
					t.Fatalf("RGB[%d]*alpha: fast %v, generic %v (alpha %v)", i, fast.RGB[i]*a, slow.RGB[i]*a, a)
				}
			}
			for i := range fast.Alpha {
				if fast.Alpha[i] != slow.Alpha[i] {
					t.Fatalf("Alpha[%d]: fast %v, generic %v", i, fast.Alpha[i], slow.Alpha[i])
				}
			}
		})
	}
}

func TestPalettedIndexPastPalette(t *testing.T) {
	p := image.NewPaletted(image.Rect(0, 0, 2, 1), color.Palette{color.White})
	p.Pix[1] = 9 // no such entry: must not panic, reads as opaque black
	m := fromImage(p)
	if got := px(m, 1, 0); got != [4]float32{0, 0, 0, 1} {
		t.Errorf("pixel past palette = %v, want opaque black", got)
	}
}

func TestDecodeErrors(t *testing.T) {
	emptyGIF := []byte("GIF89a\x00\x00\x00\x00\x00\x00\x00\x3b")
	tests := []struct {
		name  string
		data  []byte
		want  error // nil: any error
		limit int   // DecodeLimit's; 0: DecodeBytes
	}{
		{"nil", nil, ErrEmpty, 0},
		{"zero-size gif screen", emptyGIF, ErrEmpty, 0},
		{"garbage", []byte("definitely not an image"), ErrUnsupported, 0},
		{"too many pixels", rawPNG(10000, 10000, 2, 8, nil), ErrTooLarge, 0},
		{"just over MaxPixels", rawPNG(10000, 5001, 2, 8, nil), ErrTooLarge, 0},
		{"side too long", rawPNG(70000, 1, 2, 8, nil), ErrTooLarge, 0},
		{"over the caller's limit", rawPNG(300, 200, 2, 8, nil), ErrTooLarge, 300*200 - 1},
		{"a limit above MaxPixels", rawPNG(10000, 5001, 2, 8, nil), ErrTooLarge, 2 * MaxPixels},
		{"png without IDAT", rawPNG(4, 4, 2, 8, nil), nil, 0},
		{"jpeg header only", []byte{0xFF, 0xD8, 0xFF}, nil, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, _, err := DecodeBytes(tc.data)
			if tc.limit != 0 {
				m, _, err = DecodeLimit(tc.data, tc.limit)
			}
			if err == nil {
				t.Fatalf("got %dx%d image, want error", m.W, m.H)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q is not %q", err, tc.want)
			}
		})
	}
}

// seedImages are small valid files of every format, shared by the
// truncation test and the fuzz target's seed corpus.
func seedImages(t testing.TB) map[string][]byte {
	pal := image.NewPaletted(image.Rect(0, 0, 8, 8), color.Palette{color.Black, color.White, color.Transparent})
	for i := range pal.Pix {
		pal.Pix[i] = uint8(i % 3)
	}
	nrgba := sample3x2(true)
	big := image.NewNRGBA(image.Rect(0, 0, 24, 16))
	for i := range big.Pix {
		big.Pix[i] = uint8(i * 31)
	}
	jpg := jpegOf(t, big, 80)
	return map[string][]byte{
		"png":      pngOf(t, big),
		"png16":    pngOf(t, image.NewNRGBA64(image.Rect(0, 0, 5, 3))),
		"pngpal":   pngOf(t, pal),
		"pnggray":  rawPNG(2, 1, 4, 8, []byte{50, 255, 200, 100}),
		"jpeg":     jpg,
		"jpegexif": spliceAfterSOI(jpg, exifAPP1(binary.BigEndian, 6)),
		"gif":      gifOf(t, pal),
		"bmp":      bmpOf(t, big),
		"tiff":     tiffOf(t, nrgba),
		"tifflzw":  lzwTIFF(4, 4, bytes.Repeat([]byte{9, 99, 199}, 16)),
		"webp":     webpTwoColour(7, 5, 1, 2, [2]uint8{3, 4}, func(x, y int) int { return x % 2 }),
	}
}

func TestTruncatedInputs(t *testing.T) {
	for name, data := range seedImages(t) {
		t.Run(name, func(t *testing.T) {
			for n := range len(data) {
				m, _, err := DecodeBytes(data[:n])
				if err == nil {
					checkInvariants(t, m) // a prefix may be a valid image (e.g. no GIF trailer)
				}
			}
			if _, _, err := DecodeBytes(data[:len(data)/2]); err == nil {
				t.Errorf("half of the file decoded without error")
			}
		})
	}
}

func checkInvariants(t testing.TB, m *Image) {
	t.Helper()
	n := m.W * m.H
	if m.W <= 0 || m.H <= 0 || len(m.RGB) != 3*n || (m.Alpha != nil && len(m.Alpha) != n) || (m.Depth != 8 && m.Depth != 16) {
		t.Fatalf("bad image: %dx%d len(RGB)=%d len(Alpha)=%d depth %d", m.W, m.H, len(m.RGB), len(m.Alpha), m.Depth)
	}
	for _, s := range [][]float32{m.RGB, m.Alpha} {
		for i, v := range s {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %d = %v outside [0,1]", i, v)
			}
		}
	}
}

// Fake formats, registered only in the test binary, stand in for decoder
// misbehaviour that the real decoders should not show.
func init() {
	oneByOne := func(io.Reader) (image.Config, error) { return image.Config{Width: 1, Height: 1}, nil }
	image.RegisterFormat("panicky", "PANIC!",
		func(io.Reader) (image.Image, error) { panic("boom") }, oneByOne)
	image.RegisterFormat("panickyconfig", "PANICCFG!",
		func(io.Reader) (image.Image, error) { return image.NewGray(image.Rect(0, 0, 1, 1)), nil },
		func(io.Reader) (image.Config, error) { panic("bang") })
	image.RegisterFormat("liar", "LIAR!",
		func(io.Reader) (image.Image, error) { return image.NewGray(image.Rect(0, 0, 0, 1)), nil }, oneByOne)
}

func TestMisbehavingDecoders(t *testing.T) {
	tests := []struct {
		data string
		want string
	}{
		{"PANIC!", "boom"},
		{"PANICCFG!", "bang"},
		{"LIAR!", ErrEmpty.Error()},
	}
	for _, tc := range tests {
		if _, _, err := DecodeBytes([]byte(tc.data)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one mentioning %q", tc.data, err, tc.want)
		}
	}
}
