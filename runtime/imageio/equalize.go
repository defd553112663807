package imageio

import "math"

// EqualizeHist equalizes the histogram of each RGB channel independently,
// reproducing OpenCV's cv2.equalizeHist on the 8-bit quantization
// round(v*255) of each channel. Results are lut/255, so every output value
// lies on the 8-bit grid, including a constant channel, which OpenCV
// returns unchanged and therefore ends up as its quantized value. Alpha is
// not touched.
func EqualizeHist(m *Image) {
	if m == nil {
		return
	}
	// Planes are derived from the slice, not W and H, so an inconsistent
	// Image cannot cause an out-of-range access.
	n := len(m.RGB) / 3
	if n == 0 {
		return
	}
	q := make([]uint8, n)
	for c := range 3 {
		plane := m.RGB[c*n : (c+1)*n]
		var hist [256]int
		for i, v := range plane {
			q[i] = quant8(v)
			hist[q[i]]++
		}
		lut := equalizeLUT(&hist, n)
		for i, k := range q {
			plane[i] = lut8[lut[k]]
		}
	}
}

// equalizeLUT follows OpenCV's equalizeHist step by step, including its
// float32 arithmetic and round-half-to-even (cvRound), so results agree
// bit for bit with the Python reference.
func equalizeLUT(hist *[256]int, total int) (lut [256]uint8) {
	i := 0
	for hist[i] == 0 {
		i++
	}
	if hist[i] == total {
		// Constant image: OpenCV sets every pixel to i.
		lut[i] = uint8(i)
		return lut
	}
	scale := float32(255) / float32(total-hist[i])
	sum := 0
	for i++; i < 256; i++ {
		sum += hist[i]
		v := math.RoundToEven(float64(float32(sum) * scale))
		lut[i] = uint8(min(max(v, 0), 255))
	}
	return lut
}
