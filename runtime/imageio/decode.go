package imageio

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"

	// Decoders register themselves with package image; importing them here
	// makes the supported set explicit instead of depending on what other
	// packages in the binary happen to import.
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// Image is a decoded photo as planar float32 RGB in [0,1] plus optional alpha.
type Image struct {
	W, H  int
	RGB   []float32 // 3*W*H, planar: R plane then G then B, row-major
	Alpha []float32 // W*H in [0,1], nil when the source is opaque
	Depth int       // 8 or 16: the source's bits per channel
}

const (
	// MaxPixels is the largest W*H that DecodeBytes accepts. At 12 bytes per
	// pixel of float RGB plus the decoder's own buffer this is already
	// close to a gigabyte, the practical ceiling for a browser tab.
	MaxPixels = 50_000_000
	// MaxSide is the largest width or height that DecodeBytes accepts, the JPEG
	// format limit; it also keeps W*H far from integer overflow.
	MaxSide = 65535
)

var (
	// ErrTooLarge reports an image beyond MaxPixels or MaxSide.
	ErrTooLarge = errors.New("image too large")
	// ErrUnsupported reports an unknown image or output format.
	ErrUnsupported = errors.New("unsupported image format")
	// ErrEmpty reports empty input or an image with zero width or height.
	ErrEmpty = errors.New("empty image")
)

// DecodeBytes decodes an encoded image and returns it with its format name
// ("jpeg", "png", "gif", "webp", "bmp" or "tiff").
func DecodeBytes(b []byte) (*Image, string, error) {
	return DecodeLimit(b, MaxPixels)
}

// DecodeLimit is DecodeBytes refusing images over maxPixels (at most
// MaxPixels) with ErrTooLarge, read from the header before any pixel
// memory is allocated: for an app with less memory than MaxPixels needs.
func DecodeLimit(b []byte, maxPixels int) (*Image, string, error) {
	maxPixels = min(maxPixels, MaxPixels)
	if len(b) == 0 {
		return nil, "", fmt.Errorf("decode: %w", ErrEmpty)
	}
	cfg, format, err := safeDecodeConfig(b)
	if err != nil {
		if errors.Is(err, image.ErrFormat) {
			return nil, "", fmt.Errorf("decode: %w", ErrUnsupported)
		}
		return nil, "", fmt.Errorf("decode header: %w", err)
	}
	if err := checkSize(cfg.Width, cfg.Height, maxPixels); err != nil {
		return nil, format, fmt.Errorf("decode %s: %w", format, err)
	}
	img, err := safeDecode(b)
	if err != nil {
		return nil, format, fmt.Errorf("decode %s: %w", format, err)
	}
	// The header was checked, but a decoder may still return other bounds
	// (a GIF frame smaller than its screen, or an empty one).
	r := img.Bounds()
	if err := checkSize(r.Dx(), r.Dy(), maxPixels); err != nil {
		return nil, format, fmt.Errorf("decode %s: %w", format, err)
	}
	m := fromImage(img)
	if format == "jpeg" {
		m.orient(exifOrientation(b))
	}
	return m, format, nil
}

func checkSize(w, h, maxPixels int) error {
	if w <= 0 || h <= 0 {
		return fmt.Errorf("%dx%d: %w", w, h, ErrEmpty)
	}
	if w > MaxSide || h > MaxSide || w*h > maxPixels {
		return fmt.Errorf("%dx%d exceeds %d pixels or %d per side: %w", w, h, maxPixels, MaxSide, ErrTooLarge)
	}
	return nil
}

// safeDecodeConfig and safeDecode turn a decoder panic into an error: the
// third-party decoders are not hardened against every malformed file, and
// a user's file must not take down the browser tab.
func safeDecodeConfig(b []byte) (cfg image.Config, format string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panicked: %v", p)
		}
	}()
	return image.DecodeConfig(bytes.NewReader(b))
}

func safeDecode(b []byte) (img image.Image, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("decoder panicked: %v", p)
		}
	}()
	img, _, err = image.Decode(bytes.NewReader(b))
	return img, err
}

// lut8 maps an 8-bit sample to [0,1]; it equals v16/65535 for v16 = v*257.
var lut8 = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// fromImage converts any decoded image to planar float RGB. The common
// decoder outputs get direct loops because the generic path costs an
// interface call per pixel, which matters at tens of megapixels.
func fromImage(img image.Image) *Image {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	n := w * h
	m := &Image{W: w, H: h, RGB: make([]float32, 3*n), Depth: 8}
	switch img.(type) {
	case *image.RGBA64, *image.NRGBA64, *image.Gray16:
		m.Depth = 16
	}
	// Every standard image type reports Opaque exactly, which avoids
	// allocating an alpha plane for the usual opaque photo.
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		m.Alpha = make([]float32, n)
	}
	R, G, B, A := m.RGB[:n], m.RGB[n:2*n], m.RGB[2*n:], m.Alpha
	i := 0
	switch s := img.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				ci := s.COffset(x, y)
				r, g, bl := color.YCbCrToRGB(s.Y[s.YOffset(x, y)], s.Cb[ci], s.Cr[ci])
				R[i], G[i], B[i] = lut8[r], lut8[g], lut8[bl]
				i++
			}
		}
	case *image.Gray:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:w]
			for _, v := range row {
				R[i], G[i], B[i] = lut8[v], lut8[v], lut8[v]
				i++
			}
		}
	case *image.NRGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:4*w]
			for p := 0; p < len(row); p += 4 {
				R[i], G[i], B[i] = lut8[row[p]], lut8[row[p+1]], lut8[row[p+2]]
				if A != nil {
					A[i] = lut8[row[p+3]]
				}
				i++
			}
		}
	case *image.RGBA:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:4*w]
			for p := 0; p < len(row); p += 4 {
				a := uint32(row[p+3])
				R[i], G[i], B[i] = unpremul(uint32(row[p]), a), unpremul(uint32(row[p+1]), a), unpremul(uint32(row[p+2]), a)
				if A != nil {
					A[i] = lut8[a]
				}
				i++
			}
		}
	case *image.NRGBA64:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:8*w]
			for p := 0; p < len(row); p += 8 {
				R[i], G[i], B[i] = be16(row[p:]), be16(row[p+2:]), be16(row[p+4:])
				if A != nil {
					A[i] = be16(row[p+6:])
				}
				i++
			}
		}
	case *image.Paletted:
		var pal [256][4]float32
		for k := range pal {
			// Indices past the palette read as opaque black, as the PNG
			// decoder pads short palettes.
			c := color.Color(color.Black)
			if k < len(s.Palette) {
				c = s.Palette[k]
			}
			r, g, bl, a := c.RGBA()
			pal[k] = [4]float32{unpremul(r, a), unpremul(g, a), unpremul(bl, a), float32(a) / 0xffff}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			row := s.Pix[s.PixOffset(b.Min.X, y):][:w]
			for _, k := range row {
				c := &pal[k]
				R[i], G[i], B[i] = c[0], c[1], c[2]
				if A != nil {
					A[i] = c[3]
				}
				i++
			}
		}
	default:
		// RGBA64At avoids allocating a color.Color per pixel; all standard
		// image types implement it.
		at := func(x, y int) (r, g, b, a uint32) { return img.At(x, y).RGBA() }
		if s, ok := img.(image.RGBA64Image); ok {
			at = func(x, y int) (r, g, b, a uint32) {
				c := s.RGBA64At(x, y)
				return uint32(c.R), uint32(c.G), uint32(c.B), uint32(c.A)
			}
		}
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bl, a := at(x, y)
				R[i], G[i], B[i] = unpremul(r, a), unpremul(g, a), unpremul(bl, a)
				if A != nil {
					A[i] = float32(a) / 0xffff
				}
				i++
			}
		}
	}
	return m
}

// unpremul recovers straight colour c/a from a premultiplied sample c with
// alpha a (same scale). Fully transparent pixels carry no colour and
// become 0; c > a cannot occur in valid data and is clamped.
func unpremul(c, a uint32) float32 {
	switch {
	case a == 0:
		return 0
	case c >= a:
		return 1
	}
	return float32(c) / float32(a)
}

func be16(p []byte) float32 {
	return float32(uint32(p[0])<<8|uint32(p[1])) / 0xffff
}
