package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/tools/internal/degrade"
)

// contactSheet collects one photo's degraded and restored versions per task
// and writes them as a small labelled JPEG (PNG if the name ends in .png): a row per task, columns
// degraded | restored | clean, each cell at most cell pixels on its long side.
type contactSheet struct {
	cell  int
	clean *imageio.Image
	rows  []sheetRow
}

type sheetRow struct {
	task            string
	in, out         *imageio.Image
	psnrIn, psnrOut float64
}

func (s *contactSheet) add(task string, clean, in, out *imageio.Image, psnrIn, psnrOut float64) {
	s.clean = clean
	s.rows = append(s.rows, sheetRow{task, in, out, psnrIn, psnrOut})
}

// sheetLabel is the height of the caption strip above each row.
const sheetLabel = 16

func (s *contactSheet) write(path, photo string) error {
	if s.clean == nil {
		return fmt.Errorf("contact sheet: photo %q was not evaluated", photo)
	}
	thumb := func(m *imageio.Image) *image.RGBA { return toRGBA(degrade.Downscale(m, s.cell)) }
	c := thumb(s.clean)
	cw, ch := c.Bounds().Dx(), c.Bounds().Dy()
	const gap = 4
	sheet := image.NewRGBA(image.Rect(0, 0, 3*cw+4*gap, len(s.rows)*(ch+sheetLabel+gap)+gap))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.RGBA{32, 32, 32, 255}), image.Point{}, draw.Src)
	for i, r := range s.rows {
		y := gap + i*(ch+sheetLabel+gap)
		caption(sheet, gap, y+12, fmt.Sprintf("%s: input %.1f dB", r.task, r.psnrIn))
		caption(sheet, 2*gap+cw, y+12, fmt.Sprintf("restored %.1f dB", r.psnrOut))
		caption(sheet, 3*gap+2*cw, y+12, "clean "+photo)
		for j, m := range []*image.RGBA{thumb(r.in), thumb(r.out), c} {
			at := image.Pt(gap+j*(cw+gap), y+sheetLabel)
			draw.Draw(sheet, image.Rectangle{Min: at, Max: at.Add(m.Bounds().Size())}, m, image.Point{}, draw.Src)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("contact sheet: %w", err)
	}
	if strings.EqualFold(filepath.Ext(path), ".png") {
		err = png.Encode(f, sheet)
	} else {
		err = jpeg.Encode(f, sheet, &jpeg.Options{Quality: 85})
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("contact sheet %s: %w", path, err)
	}
	return f.Close()
}

func caption(dst draw.Image, x, y int, text string) {
	d := font.Drawer{Dst: dst, Src: image.NewUniform(color.RGBA{230, 230, 230, 255}), Face: basicfont.Face7x13,
		Dot: fixed.P(x, y)}
	d.DrawString(text)
}

// toRGBA quantizes a planar float image for drawing (alpha is dropped: the
// evaluation photos are opaque).
func toRGBA(m *imageio.Image) *image.RGBA {
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	n := m.W * m.H
	for i := range n {
		o := 4 * i
		for c := range 3 {
			out.Pix[o+c] = uint8(min(max(m.RGB[c*n+i], 0), 1)*255 + 0.5)
		}
		out.Pix[o+3] = 255
	}
	return out
}
