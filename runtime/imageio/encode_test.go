package imageio

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"
)

func TestQuantize(t *testing.T) {
	tests := []struct {
		v   float32
		q8  uint8
		q16 uint16
	}{
		{0, 0, 0},
		{1, 255, 65535},
		{-0.1, 0, 0},
		{1.5, 255, 65535},
		{float32(math.NaN()), 0, 0},
		{float32(math.Inf(1)), 255, 65535},
		{0.5, 128, 32768}, // 127.5 and 32767.5 round half away from zero
		{1.0 / 255, 1, 257},
		{254.0 / 255, 254, 65278},
	}
	for _, tc := range tests {
		if got := quant8(tc.v); got != tc.q8 {
			t.Errorf("quant8(%v) = %d, want %d", tc.v, got, tc.q8)
		}
		if got := quant16(tc.v); got != tc.q16 {
			t.Errorf("quant16(%v) = %d, want %d", tc.v, got, tc.q16)
		}
	}
}

func TestPNGRoundTrip(t *testing.T) {
	grid := func(v, scale int) float32 { return float32(v%(scale+1)) / float32(scale) }
	tests := []struct {
		name  string
		depth int
		alpha bool
		scale int // values lie on this grid, so they survive exactly
	}{
		{"8-bit opaque", 8, false, 255},
		{"8-bit alpha", 8, true, 255},
		{"16-bit opaque", 16, false, 65535},
		{"16-bit alpha", 16, true, 65535},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const w, h = 7, 5
			m := &Image{W: w, H: h, RGB: make([]float32, 3*w*h), Depth: tc.depth}
			for i := range m.RGB {
				m.RGB[i] = grid(i*7919, tc.scale)
			}
			if tc.alpha {
				m.Alpha = make([]float32, w*h)
				for i := range m.Alpha {
					// Keep alpha > 0: colour under zero alpha is not
					// meaningful and decoders may drop it.
					m.Alpha[i] = max(grid(i*104729, tc.scale), 1/float32(tc.scale))
				}
			}
			var buf bytes.Buffer
			if err := Encode(&buf, m, "png", tc.depth, 0); err != nil {
				t.Fatal(err)
			}
			got, format, err := DecodeBytes(buf.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			if format != "png" || got.W != w || got.H != h || got.Depth != tc.depth || (got.Alpha != nil) != tc.alpha {
				t.Fatalf("got %s %dx%d depth %d alpha %v", format, got.W, got.H, got.Depth, got.Alpha != nil)
			}
			for i := range m.RGB {
				if math.Abs(float64(got.RGB[i]-m.RGB[i])) > 1e-6 {
					t.Fatalf("RGB[%d] = %v, want %v", i, got.RGB[i], m.RGB[i])
				}
			}
			for i := range m.Alpha {
				if math.Abs(float64(got.Alpha[i]-m.Alpha[i])) > 1e-6 {
					t.Fatalf("Alpha[%d] = %v, want %v", i, got.Alpha[i], m.Alpha[i])
				}
			}
		})
	}
}

func TestJPEGCompositesOverWhite(t *testing.T) {
	const w, h = 32, 16
	m := &Image{W: w, H: h, RGB: make([]float32, 3*w*h), Alpha: make([]float32, w*h), Depth: 8}
	for i := range w * h {
		m.RGB[i] = 1 // red everywhere
		if i%w < w/2 {
			m.Alpha[i] = 0.5 // left half: half-transparent red -> pink
		} // right half: fully transparent -> white
	}
	var buf bytes.Buffer
	if err := Encode(&buf, m, "jpeg", 0, 95); err != nil {
		t.Fatal(err)
	}
	got, _, err := DecodeBytes(buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if got.Alpha != nil {
		t.Fatal("JPEG output has alpha")
	}
	for _, c := range []pixelCheck{{4, 8, [4]float32{1, 0.5, 0.5, 1}}, {28, 8, [4]float32{1, 1, 1, 1}}} {
		p := px(got, c.x, c.y)
		for k := range 3 {
			if math.Abs(float64(p[k]-c.want[k])) > 0.03 {
				t.Errorf("pixel (%d,%d) = %v, want %v", c.x, c.y, p, c.want)
				break
			}
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := &Image{W: 2, H: 1, RGB: make([]float32, 6), Depth: 8}
	tests := []struct {
		name    string
		m       *Image
		format  string
		depth   int
		quality int
		want    error // nil: any error
	}{
		{"unknown format", ok, "gif", 8, 90, ErrUnsupported},
		{"png depth 12", ok, "png", 12, 0, nil},
		{"jpeg quality 0", ok, "jpeg", 0, 0, nil},
		{"jpeg quality 101", ok, "jpeg", 0, 101, nil},
		{"nil image png", nil, "png", 8, 0, ErrEmpty},
		{"nil image jpeg", nil, "jpeg", 0, 90, ErrEmpty},
		{"zero width", &Image{H: 1}, "png", 8, 0, ErrEmpty},
		{"short RGB", &Image{W: 2, H: 2, RGB: make([]float32, 6)}, "png", 16, 0, nil},
		{"short alpha", &Image{W: 2, H: 1, RGB: make([]float32, 6), Alpha: make([]float32, 1)}, "jpeg", 0, 90, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Encode(io.Discard, tc.m, tc.format, tc.depth, tc.quality)
			if err == nil {
				t.Fatal("no error")
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("error %q is not %q", err, tc.want)
			}
		})
	}
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, io.ErrShortWrite }

func TestEncodeWriteError(t *testing.T) {
	m := &Image{W: 2, H: 1, RGB: make([]float32, 6), Depth: 8}
	for _, format := range []string{"png", "jpeg"} {
		if err := Encode(failingWriter{}, m, format, 8, 90); !errors.Is(err, io.ErrShortWrite) {
			t.Errorf("%s: error %v, want wrapped io.ErrShortWrite", format, err)
		}
	}
}

func TestFormatFromPath(t *testing.T) {
	tests := []struct {
		path string
		want string // "" means ErrUnsupported
	}{
		{"out.png", "png"},
		{"dir/OUT.PNG", "png"},
		{"photo.jpg", "jpeg"},
		{"photo.JPEG", "jpeg"},
		{"photo.webp", ""},
		{"noext", ""},
		{"dir.png/file", ""},
	}
	for _, tc := range tests {
		got, err := FormatFromPath(tc.path)
		if tc.want == "" {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("FormatFromPath(%q) = %q, %v; want ErrUnsupported", tc.path, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("FormatFromPath(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func TestEncodeBytes(t *testing.T) {
	img := func(depth int) *Image { return &Image{W: 2, H: 1, RGB: []float32{0, 1, 0.5, 0.25, 1, 0}, Depth: depth} }
	tests := []struct {
		name      string
		m         *Image
		o         Output
		format    string // "": an error wrapping ErrOutput
		wantDepth int    // of the PNG decoded back
	}{
		{"zero value: PNG at the input's 8 bits", img(8), Output{}, "png", 8},
		{"zero value: PNG at the input's 16 bits", img(16), Output{}, "png", 16},
		{"16-bit input, 8 asked", img(16), Output{Format: "png", Depth: 8}, "png", 8},
		{"8-bit input, 16 asked", img(8), Output{Depth: 16}, "png", 16},
		{"jpg is jpeg", img(16), Output{Format: "jpg"}, "jpeg", 8},
		{"jpeg quality 1", img(8), Output{Format: "jpeg", Quality: 1}, "jpeg", 8},
		{"unknown format", img(8), Output{Format: "gif"}, "", 0},
		{"format names are lower case", img(8), Output{Format: "PNG"}, "", 0},
		{"depth 12", img(8), Output{Depth: 12}, "", 0},
		{"quality 101", img(8), Output{Format: "jpeg", Quality: 101}, "", 0},
		{"negative quality, even for PNG", img(8), Output{Quality: -1}, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, format, err := EncodeBytes(tc.m, tc.o)
			if tc.format == "" {
				if !errors.Is(err, ErrOutput) {
					t.Fatalf("error %v, want ErrOutput", err)
				}
				return
			}
			if err != nil || format != tc.format {
				t.Fatalf("EncodeBytes = %q, %v; want %q", format, err, tc.format)
			}
			back, got, err := DecodeBytes(b)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.format || back.Depth != tc.wantDepth {
				t.Fatalf("decoded back: %s depth %d, %v; want %s depth %d", got, back.Depth, err, tc.format, tc.wantDepth)
			}
		})
	}
}
