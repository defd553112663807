package imageio

import (
	"bytes"
	"encoding/binary"
)

// exifOrientation returns the EXIF orientation (1..8) stored in a JPEG's
// APP1 segment, or 1 when there is none. Broken metadata is common in the
// wild and must not make an otherwise good photo fail, so every malformed
// case also yields 1.
func exifOrientation(b []byte) int {
	if len(b) < 2 || b[0] != 0xFF || b[1] != 0xD8 {
		return 1
	}
	p := 2
	for p+4 <= len(b) {
		if b[p] != 0xFF {
			return 1
		}
		marker := b[p+1]
		switch {
		case marker == 0xFF: // fill byte before a marker
			p++
			continue
		case marker == 0xDA || marker == 0xD9: // SOS, EOI: metadata precedes the scan
			return 1
		}
		n := int(b[p+2])<<8 | int(b[p+3])
		if n < 2 || p+2+n > len(b) {
			return 1
		}
		seg := b[p+4 : p+2+n]
		// XMP also lives in APP1; only the Exif one carries a TIFF header.
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return tiffOrientation(seg[6:])
		}
		p += 2 + n
	}
	return 1
}

// tiffOrientation reads tag 0x0112 from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 1
	}
	var bo binary.ByteOrder
	switch string(t[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1
	}
	// uint64 arithmetic: offsets are attacker-controlled uint32s.
	off := uint64(bo.Uint32(t[4:]))
	if off+2 > uint64(len(t)) {
		return 1
	}
	count := uint64(bo.Uint16(t[off:]))
	for e := off + 2; e < off+2+12*count; e += 12 {
		if e+12 > uint64(len(t)) {
			return 1
		}
		if bo.Uint16(t[e:]) != 0x0112 {
			continue
		}
		typ, n, v := bo.Uint16(t[e+2:]), bo.Uint32(t[e+4:]), bo.Uint16(t[e+8:])
		if typ != 3 || n != 1 || v < 1 || v > 8 { // SHORT, one value, 1..8
			return 1
		}
		return int(v)
	}
	return 1
}

// orient rotates and flips m in place so that its pixels appear as EXIF
// orientation o asks for display; 5..8 swap W and H.
func (m *Image) orient(o int) {
	if o < 2 || o > 8 {
		return
	}
	w, h := m.W, m.H
	// Source coordinates of destination pixel (x, y) are affine:
	// sx = ax*x + bx*y + cx, sy = ay*x + by*y + cy.
	var ax, bx, cx, ay, by, cy int
	switch o {
	case 2: // mirror horizontally
		ax, cx, by = -1, w-1, 1
	case 3: // rotate 180°
		ax, cx, by, cy = -1, w-1, -1, h-1
	case 4: // mirror vertically
		ax, by, cy = 1, -1, h-1
	case 5: // transpose
		bx, ay = 1, 1
	case 6: // rotate 90° clockwise
		bx, ay, cy = 1, -1, h-1
	case 7: // transverse
		bx, cx, ay, cy = -1, w-1, -1, h-1
	case 8: // rotate 90° counter-clockwise
		bx, cx, ay = -1, w-1, 1
	}
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	step := ay*w + ax
	remap := func(dst, src []float32) {
		for y := range dh {
			s := (by*y+cy)*w + bx*y + cx
			row := dst[y*dw : (y+1)*dw]
			for x := range row {
				row[x] = src[s]
				s += step
			}
		}
	}
	n := w * h
	rgb := make([]float32, 3*n)
	for c := range 3 {
		remap(rgb[c*n:(c+1)*n], m.RGB[c*n:(c+1)*n])
	}
	m.RGB = rgb
	if m.Alpha != nil {
		a := make([]float32, n)
		remap(a, m.Alpha)
		m.Alpha = a
	}
	m.W, m.H = dw, dh
}
