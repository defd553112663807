package imageio

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strings"
)

// EncodePNG writes m as PNG with 8 or 16 bits per channel. Alpha, when
// present, is kept (non-premultiplied, as PNG stores it).
func (m *Image) EncodePNG(w io.Writer, depth int) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	n := m.W * m.H
	R, G, B := m.RGB[:n], m.RGB[n:2*n], m.RGB[2*n:]
	var img image.Image
	switch depth {
	case 8:
		out := image.NewNRGBA(image.Rect(0, 0, m.W, m.H))
		for i := range n {
			p := out.Pix[4*i : 4*i+4 : 4*i+4]
			p[0], p[1], p[2], p[3] = quant8(R[i]), quant8(G[i]), quant8(B[i]), 255
			if m.Alpha != nil {
				p[3] = quant8(m.Alpha[i])
			}
		}
		img = out
	case 16:
		out := image.NewNRGBA64(image.Rect(0, 0, m.W, m.H))
		for i := range n {
			a := uint16(0xffff)
			if m.Alpha != nil {
				a = quant16(m.Alpha[i])
			}
			p := out.Pix[8*i : 8*i+8 : 8*i+8]
			for k, v := range [4]uint16{quant16(R[i]), quant16(G[i]), quant16(B[i]), a} {
				p[2*k], p[2*k+1] = uint8(v>>8), uint8(v)
			}
		}
		img = out
	default:
		return fmt.Errorf("encode png: depth %d, want 8 or 16", depth)
	}
	// The encoder checks Opaque and then writes RGB without an alpha
	// channel, so opaque images do not pay for one.
	if err := png.Encode(w, img); err != nil {
		return fmt.Errorf("encode png: %w", err)
	}
	return nil
}

// EncodeJPEG writes m as baseline JPEG with quality 1..100. JPEG cannot
// store alpha, so translucent pixels are composited over white.
func (m *Image) EncodeJPEG(w io.Writer, quality int) error {
	if err := m.validate(); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	if quality < 1 || quality > 100 {
		return fmt.Errorf("encode jpeg: quality %d, want 1..100", quality)
	}
	n := m.W * m.H
	out := image.NewRGBA(image.Rect(0, 0, m.W, m.H))
	for i := range n {
		p := out.Pix[4*i : 4*i+4 : 4*i+4]
		for c := range 3 {
			v := m.RGB[c*n+i]
			if m.Alpha != nil {
				a := clamp01(m.Alpha[i])
				v = clamp01(v)*a + (1 - a)
			}
			p[c] = quant8(v)
		}
		p[3] = 255
	}
	if err := jpeg.Encode(w, out, &jpeg.Options{Quality: quality}); err != nil {
		return fmt.Errorf("encode jpeg: %w", err)
	}
	return nil
}

// Encode writes m in format "png" (using depth) or "jpeg" (using quality).
func Encode(w io.Writer, m *Image, format string, depth, quality int) error {
	switch format {
	case "png":
		return m.EncodePNG(w, depth)
	case "jpeg":
		return m.EncodeJPEG(w, quality)
	}
	return fmt.Errorf("encode %q: %w", format, ErrUnsupported)
}

// Output chooses how EncodeBytes writes an image; the zero value is PNG at
// the image's depth. The CLI and the browser's bridge (js tags) share it, so both
// read the same options the same way.
type Output struct {
	Format  string `js:"format"`  // "png" (or "") or "jpeg" (or "jpg")
	Depth   int    `js:"depth"`   // PNG bits per channel, 8 or 16; 0: the image's
	Quality int    `js:"quality"` // JPEG quality, 1 to 100; 0: DefaultQuality
}

// DefaultQuality is the JPEG quality of an Output that names none.
const DefaultQuality = 92

// ErrOutput reports an Output with an unknown format, depth or quality.
var ErrOutput = errors.New("bad output option")

// Check validates o and fills in its defaults (Format and Quality; a Depth
// of 0 stays, as it depends on the image), so callers can refuse bad
// options before a long restore rather than after it.
func (o Output) Check() (Output, error) {
	f := map[string]string{"": "png", "png": "png", "jpeg": "jpeg", "jpg": "jpeg"}[o.Format]
	o.Quality = cmp.Or(o.Quality, DefaultQuality)
	switch {
	case f == "":
		return o, fmt.Errorf("%w: format %q: want png or jpeg", ErrOutput, o.Format)
	case o.Depth != 0 && o.Depth != 8 && o.Depth != 16:
		return o, fmt.Errorf("%w: depth %d: want 8 or 16", ErrOutput, o.Depth)
	case o.Quality < 1 || o.Quality > 100:
		return o, fmt.Errorf("%w: quality %d: want 1 to 100", ErrOutput, o.Quality)
	}
	o.Format = f
	return o, nil
}

// EncodeBytes encodes m as o says and returns the bytes and the format
// written ("png" or "jpeg").
func EncodeBytes(m *Image, o Output) ([]byte, string, error) {
	o, err := o.Check()
	if err != nil {
		return nil, "", err
	}
	if o.Depth == 0 && m != nil && m.Depth == 16 {
		o.Depth = 16
	}
	var buf bytes.Buffer
	if err := Encode(&buf, m, o.Format, cmp.Or(o.Depth, 8), o.Quality); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), o.Format, nil
}

// FormatFromPath maps an output file name to the format name Encode takes.
func FormatFromPath(path string) (string, error) {
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".png":
		return "png", nil
	case ".jpg", ".jpeg":
		return "jpeg", nil
	}
	return "", fmt.Errorf("output %q: want .png, .jpg or .jpeg: %w", path, ErrUnsupported)
}

// validate guards the encoders against hand-built Images whose slices do
// not match W and H, which would otherwise index out of range.
func (m *Image) validate() error {
	switch {
	case m == nil || m.W <= 0 || m.H <= 0:
		return ErrEmpty
	case len(m.RGB) != 3*m.W*m.H:
		return fmt.Errorf("%dx%d image has %d RGB values, want %d", m.W, m.H, len(m.RGB), 3*m.W*m.H)
	case m.Alpha != nil && len(m.Alpha) != m.W*m.H:
		return fmt.Errorf("%dx%d image has %d alpha values, want %d", m.W, m.H, len(m.Alpha), m.W*m.H)
	}
	return nil
}

// clamp01 also maps NaN to 0 so that quantization never sees it.
func clamp01(v float32) float32 {
	switch {
	case !(v > 0):
		return 0
	case v > 1:
		return 1
	}
	return v
}

// quant8 is round(v*255) after clamping, rounding halves away from zero.
func quant8(v float32) uint8 {
	return uint8(math.Round(float64(clamp01(v)) * 255))
}

// quant16 is round(v*65535) after clamping.
func quant16(v float32) uint16 {
	return uint16(math.Round(float64(clamp01(v)) * 65535))
}
