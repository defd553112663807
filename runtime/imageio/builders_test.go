package imageio

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"
)

// This file builds test images in code. Formats the standard encoders cannot
// produce (gray+alpha PNG, LZW TIFF, WebP) are assembled byte by byte.

// sample3x2 is a small NRGBA image with distinct colours; the top row has a
// half-transparent and a fully transparent pixel when withAlpha is set.
func sample3x2(withAlpha bool) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, 3, 2))
	px := []color.NRGBA{
		{255, 0, 0, 255}, {0, 255, 0, 128}, {0, 0, 255, 0},
		{10, 20, 30, 255}, {200, 100, 50, 255}, {255, 255, 255, 255},
	}
	for i, c := range px {
		if !withAlpha {
			c.A = 255
		}
		m.SetNRGBA(i%3, i/3, c)
	}
	return m
}

func encodeWith(t testing.TB, enc func(*bytes.Buffer) error) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := enc(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pngOf(t testing.TB, m image.Image) []byte {
	return encodeWith(t, func(b *bytes.Buffer) error { return png.Encode(b, m) })
}

func jpegOf(t testing.TB, m image.Image, q int) []byte {
	return encodeWith(t, func(b *bytes.Buffer) error { return jpeg.Encode(b, m, &jpeg.Options{Quality: q}) })
}

func bmpOf(t testing.TB, m image.Image) []byte {
	return encodeWith(t, func(b *bytes.Buffer) error { return bmp.Encode(b, m) })
}

func tiffOf(t testing.TB, m image.Image) []byte {
	return encodeWith(t, func(b *bytes.Buffer) error {
		return tiff.Encode(b, m, &tiff.Options{Compression: tiff.Deflate})
	})
}

func gifOf(t testing.TB, frames ...*image.Paletted) []byte {
	return encodeWith(t, func(b *bytes.Buffer) error {
		return gif.EncodeAll(b, &gif.GIF{Image: frames, Delay: make([]int, len(frames))})
	})
}

// rawPNG assembles a PNG with the given IHDR fields. raw holds unfiltered
// scanlines; nil writes no IDAT, which is enough for DecodeConfig.
func rawPNG(w, h uint32, colorType, bitDepth byte, raw []byte) []byte {
	out := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		out = binary.BigEndian.AppendUint32(out, uint32(len(data)))
		start := len(out)
		out = append(out, typ...)
		out = append(out, data...)
		out = binary.BigEndian.AppendUint32(out, crc32.ChecksumIEEE(out[start:]))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, bitDepth, colorType, 0, 0, 0))
	if raw != nil {
		stride := len(raw) / int(h)
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		for y := range int(h) {
			zw.Write([]byte{0}) // filter type None
			zw.Write(raw[y*stride : (y+1)*stride])
		}
		zw.Close()
		chunk("IDAT", z.Bytes())
	}
	chunk("IEND", nil)
	return out
}

// lzwTIFF assembles an 8-bit RGB TIFF whose single strip is LZW-compressed.
// The encoder emits only literal codes and clears the table every 200
// codes, so the code width stays at 9 bits and no dictionary logic is
// needed; any conforming decoder must still accept it.
func lzwTIFF(w, h int, rgb []byte) []byte {
	var strip []byte
	var acc uint32
	var nbits uint
	put := func(code uint32) { // MSB-first, 9 bits
		acc = acc<<9 | code
		nbits += 9
		for nbits >= 8 {
			strip = append(strip, byte(acc>>(nbits-8)))
			nbits -= 8
		}
	}
	for i, v := range rgb {
		if i%200 == 0 {
			put(256) // Clear
		}
		put(uint32(v))
	}
	put(257) // EOI
	if nbits > 0 {
		strip = append(strip, byte(acc<<(8-nbits)))
	}

	le := binary.LittleEndian
	const nTags = 9
	bpsOff := 8 + 2 + nTags*12 + 4
	stripOff := bpsOff + 6
	out := []byte("II*\x00")
	out = le.AppendUint32(out, 8)
	out = le.AppendUint16(out, nTags)
	tag := func(id, typ uint16, v uint32) {
		out = le.AppendUint16(out, id)
		out = le.AppendUint16(out, typ)
		n := uint32(1)
		if id == 258 {
			n = 3
		}
		out = le.AppendUint32(out, n)
		if typ == 3 && n == 1 {
			out = le.AppendUint16(out, uint16(v))
			out = le.AppendUint16(out, 0)
		} else {
			out = le.AppendUint32(out, v)
		}
	}
	const short, long = 3, 4
	tag(256, short, uint32(w))          // ImageWidth
	tag(257, short, uint32(h))          // ImageLength
	tag(258, short, uint32(bpsOff))     // BitsPerSample -> 8,8,8
	tag(259, short, 5)                  // Compression: LZW
	tag(262, short, 2)                  // Photometric: RGB
	tag(273, long, uint32(stripOff))    // StripOffsets
	tag(277, short, 3)                  // SamplesPerPixel
	tag(278, short, uint32(h))          // RowsPerStrip
	tag(279, long, uint32(len(strip)))  // StripByteCounts
	out = le.AppendUint32(out, 0)       // no next IFD
	out = append(out, 8, 0, 8, 0, 8, 0) // BitsPerSample values
	return append(out, strip...)
}

// webpTwoColour assembles a lossless (VP8L) WebP whose pixels are
// (red, green[pick(x,y)], blue, 255). Each Huffman tree is a "simple code"
// with one or two symbols, so a pixel costs exactly one bit.
func webpTwoColour(w, h int, red, blue uint8, green [2]uint8, pick func(x, y int) int) []byte {
	var data []byte
	var acc uint64
	var nbits uint
	put := func(v uint64, n uint) { // LSB-first
		acc |= v << nbits
		nbits += n
		for nbits >= 8 {
			data = append(data, byte(acc))
			acc >>= 8
			nbits -= 8
		}
	}
	put(0x2f, 8) // VP8L signature
	put(uint64(w-1), 14)
	put(uint64(h-1), 14)
	put(0, 1) // alpha hint
	put(0, 3) // version
	put(0, 1) // no transform
	put(0, 1) // no colour cache
	put(0, 1) // no meta prefix codes
	// green: simple code, two 8-bit symbols
	put(1, 1)
	put(1, 1)
	put(1, 1)
	put(uint64(green[0]), 8)
	put(uint64(green[1]), 8)
	for _, v := range []uint8{red, blue, 255} { // red, blue, alpha: one 8-bit symbol
		put(1, 1)
		put(0, 1)
		put(1, 1)
		put(uint64(v), 8)
	}
	// distance: one 1-bit symbol (0)
	put(1, 1)
	put(0, 1)
	put(0, 1)
	put(0, 1)
	for y := range h {
		for x := range w {
			put(uint64(pick(x, y)), 1)
		}
	}
	put(0, 32) // flush, with slack for the decoder's look-ahead
	le := binary.LittleEndian
	if len(data)%2 == 1 {
		data = append(data, 0)
	}
	out := []byte("RIFF")
	out = le.AppendUint32(out, uint32(4+8+len(data)))
	out = append(out, "WEBPVP8L"...)
	out = le.AppendUint32(out, uint32(len(data)))
	return append(out, data...)
}

// byteOrder is what binary.LittleEndian and binary.BigEndian both provide.
type byteOrder interface {
	binary.ByteOrder
	binary.AppendByteOrder
}

// exifAPP1 builds a complete APP1 segment holding an Exif TIFF structure
// whose IFD0 has an unrelated tag followed by Orientation.
func exifAPP1(bo byteOrder, orientation uint16) []byte {
	tiffData := []byte("II*\x00")
	if bo == binary.BigEndian {
		tiffData = []byte("MM\x00*")
	}
	tiffData = bo.AppendUint32(tiffData, 8)
	tiffData = bo.AppendUint16(tiffData, 2)
	// ImageWidth, LONG, 1, 64
	tiffData = bo.AppendUint16(tiffData, 0x0100)
	tiffData = bo.AppendUint16(tiffData, 4)
	tiffData = bo.AppendUint32(tiffData, 1)
	tiffData = bo.AppendUint32(tiffData, 64)
	// Orientation, SHORT, 1, value left-justified in the 4-byte field
	tiffData = bo.AppendUint16(tiffData, 0x0112)
	tiffData = bo.AppendUint16(tiffData, 3)
	tiffData = bo.AppendUint32(tiffData, 1)
	tiffData = bo.AppendUint16(tiffData, orientation)
	tiffData = bo.AppendUint16(tiffData, 0)
	tiffData = bo.AppendUint32(tiffData, 0) // no IFD1
	return segment(0xE1, append([]byte("Exif\x00\x00"), tiffData...))
}

// segment wraps payload in a JPEG marker segment.
func segment(marker byte, payload []byte) []byte {
	s := []byte{0xFF, marker}
	s = binary.BigEndian.AppendUint16(s, uint16(len(payload)+2))
	return append(s, payload...)
}

// spliceAfterSOI inserts segments right after a JPEG's SOI marker, where
// cameras put their APP segments.
func spliceAfterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}
