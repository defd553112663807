package imageio

import (
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"testing"
)

// quadrantJPEG is a 64x32 JPEG with four flat 32x16 quadrants, aligned to
// the 16x16 MCUs so chroma subsampling does not bleed between them.
func quadrantJPEG(t *testing.T) []byte {
	m := image.NewRGBA(image.Rect(0, 0, 64, 32))
	cols := [2][2]color.RGBA{
		{{255, 0, 0, 255}, {0, 255, 0, 255}},     // top: red, green
		{{0, 0, 255, 255}, {255, 255, 255, 255}}, // bottom: blue, white
	}
	for y := range 32 {
		for x := range 64 {
			m.SetRGBA(x, y, cols[y/16][x/32])
		}
	}
	return jpegOf(t, m, 95)
}

func TestJPEGOrientation(t *testing.T) {
	red, green, blue, white := [3]float32{1, 0, 0}, [3]float32{0, 1, 0}, [3]float32{0, 0, 1}, [3]float32{1, 1, 1}
	// Stored: red green / blue white. Expected displayed quadrants TL, TR,
	// BL, BR, worked out by hand from the EXIF definitions.
	tests := []struct {
		orientation    uint16
		w, h           int
		tl, tr, bl, br [3]float32
	}{
		{1, 64, 32, red, green, blue, white},
		{2, 64, 32, green, red, white, blue}, // mirrored left-right
		{3, 64, 32, white, blue, green, red}, // rotated 180°
		{4, 64, 32, blue, white, red, green}, // mirrored top-bottom
		{5, 32, 64, red, blue, green, white}, // transposed
		{6, 32, 64, blue, red, white, green}, // rotated 90° clockwise
		{7, 32, 64, white, green, blue, red}, // transverse
		{8, 32, 64, green, white, red, blue}, // rotated 90° counter-clockwise
	}
	jpg := quadrantJPEG(t)
	for _, tc := range tests {
		for _, bo := range []byteOrder{binary.LittleEndian, binary.BigEndian} {
			t.Run(fmt.Sprintf("%v/%d", bo, tc.orientation), func(t *testing.T) {
				m, _, err := DecodeBytes(spliceAfterSOI(jpg, exifAPP1(bo, tc.orientation)))
				if err != nil {
					t.Fatal(err)
				}
				if m.W != tc.w || m.H != tc.h {
					t.Fatalf("size %dx%d, want %dx%d", m.W, m.H, tc.w, tc.h)
				}
				// Sample the centre of each displayed quadrant.
				qx, qy := m.W/4, m.H/4
				for _, c := range []struct {
					x, y int
					want [3]float32
				}{{qx, qy, tc.tl}, {3 * qx, qy, tc.tr}, {qx, 3 * qy, tc.bl}, {3 * qx, 3 * qy, tc.br}} {
					got := px(m, c.x, c.y)
					for k := range 3 {
						if math.Abs(float64(got[k]-c.want[k])) > 0.1 {
							t.Errorf("pixel (%d,%d) = %.2f, want %v", c.x, c.y, got[:3], c.want)
							break
						}
					}
				}
			})
		}
	}
}

func TestOrientPlanes(t *testing.T) {
	// Source 3x2 with value = index:  0 1 2 / 3 4 5.
	tests := []struct {
		o    int
		w, h int
		want []float32
	}{
		{1, 3, 2, []float32{0, 1, 2, 3, 4, 5}},
		{2, 3, 2, []float32{2, 1, 0, 5, 4, 3}},
		{3, 3, 2, []float32{5, 4, 3, 2, 1, 0}},
		{4, 3, 2, []float32{3, 4, 5, 0, 1, 2}},
		{5, 2, 3, []float32{0, 3, 1, 4, 2, 5}},
		{6, 2, 3, []float32{3, 0, 4, 1, 5, 2}},
		{7, 2, 3, []float32{5, 2, 4, 1, 3, 0}},
		{8, 2, 3, []float32{2, 5, 1, 4, 0, 3}},
		{9, 3, 2, []float32{0, 1, 2, 3, 4, 5}}, // invalid: ignored
	}
	for _, tc := range tests {
		src := []float32{0, 1, 2, 3, 4, 5}
		m := &Image{W: 3, H: 2, Alpha: slices.Clone(src), Depth: 8}
		for c := range 3 {
			for _, v := range src {
				m.RGB = append(m.RGB, v+float32(10*c))
			}
		}
		m.orient(tc.o)
		if m.W != tc.w || m.H != tc.h {
			t.Errorf("orientation %d: size %dx%d, want %dx%d", tc.o, m.W, m.H, tc.w, tc.h)
			continue
		}
		if !slices.Equal(m.Alpha, tc.want) {
			t.Errorf("orientation %d: alpha %v, want %v", tc.o, m.Alpha, tc.want)
		}
		for c := range 3 {
			for i, v := range tc.want {
				if got := m.RGB[c*6+i]; got != v+float32(10*c) {
					t.Errorf("orientation %d: channel %d = %v, want %v+%d", tc.o, c, m.RGB[c*6:c*6+6], tc.want, 10*c)
					break
				}
			}
		}
	}
}

func TestExifOrientation(t *testing.T) {
	soi := []byte{0xFF, 0xD8}
	join := func(parts ...[]byte) []byte { return slices.Concat(parts...) }
	le := binary.LittleEndian
	ok6 := exifAPP1(le, 6)
	// corrupt returns an APP1 Exif segment with its TIFF bytes edited.
	corrupt := func(edit func(tiff []byte) []byte) []byte {
		tiff := slices.Clone(ok6[4+6:])
		return segment(0xE1, append([]byte("Exif\x00\x00"), edit(tiff)...))
	}
	jfif := segment(0xE0, []byte("JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"))
	xmp := segment(0xE1, []byte("http://ns.adobe.com/xap/1.0/\x00<x/>"))
	sos := []byte{0xFF, 0xDA, 0x00, 0x02}

	tests := []struct {
		name string
		data []byte
		want int
	}{
		{"little endian", join(soi, ok6), 6},
		{"big endian", join(soi, exifAPP1(binary.BigEndian, 8)), 8},
		{"after JFIF and XMP", join(soi, jfif, xmp, ok6), 6},
		{"fill bytes", join(soi, []byte{0xFF, 0xFF}, ok6), 6},
		{"no exif", join(soi, jfif, sos), 1},
		{"exif after scan", join(soi, sos, ok6), 1},
		{"not a jpeg", join([]byte{0x89, 'P'}, ok6), 1},
		{"empty", nil, 1},
		{"soi only", soi, 1},
		{"no orientation tag", join(soi, corrupt(func(b []byte) []byte { le.PutUint16(b[8+2+12:], 0x0113); return b })), 1},
		{"segment overruns file", join(soi, ok6[:len(ok6)-3]), 1},
		{"bad segment length", join(soi, []byte{0xFF, 0xE1, 0x00, 0x01}, ok6), 1},
		{"garbage between segments", join(soi, []byte{0x00}, ok6), 1},
		{"bad tiff magic", join(soi, corrupt(func(b []byte) []byte { b[2] = 0; return b })), 1},
		{"short tiff header", join(soi, corrupt(func(b []byte) []byte { return b[:6] })), 1},
		{"ifd offset past end", join(soi, corrupt(func(b []byte) []byte { le.PutUint32(b[4:], 1000); return b })), 1},
		{"ifd offset overflow", join(soi, corrupt(func(b []byte) []byte { le.PutUint32(b[4:], math.MaxUint32); return b })), 1},
		{"entry count past end", join(soi, corrupt(func(b []byte) []byte { return b[:8+2+12+6] })), 1},
		{"huge entry count", join(soi, corrupt(func(b []byte) []byte { le.PutUint16(b[8:], 0xFFFF); b = b[:8+2+12]; return b })), 1},
		{"orientation 0", join(soi, exifAPP1(le, 0)), 1},
		{"orientation 9", join(soi, exifAPP1(le, 9)), 1},
		{"orientation as LONG", join(soi, corrupt(func(b []byte) []byte { le.PutUint16(b[8+2+12+2:], 4); return b })), 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exifOrientation(tc.data); got != tc.want {
				t.Errorf("exifOrientation = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestCorruptExifStillDecodes(t *testing.T) {
	jpg := quadrantJPEG(t)
	bad := exifAPP1(binary.LittleEndian, 6)
	bad = bad[:len(bad)-8] // cut into the Orientation entry
	bad[2], bad[3] = 0, byte(len(bad)-2)
	m, _, err := DecodeBytes(spliceAfterSOI(jpg, bad))
	if err != nil {
		t.Fatal(err)
	}
	if m.W != 64 || m.H != 32 {
		t.Errorf("size %dx%d: broken EXIF must be ignored", m.W, m.H)
	}
}
