package backend

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/ref"
	"github.com/diffuir-web/diffuir/runtime/sampler"
)

// HostStepper is the Stepper of a program whose memory is the host's: it
// keeps x and the padded UNet input in Go slices and calls run once a step.
// The CPU backend embeds it; restore then drives every backend alike.
type HostStepper struct {
	run        func(input, time, out []float32) error
	ph, pw     int // the graph's padded size
	h, w       int // the tile's, set by Begin
	x, xin, r  []float32
	input, out []float32 // made at the first Begin, reused by later tiles
}

// NewHostStepper steps the graph g with run (a Program's Run).
func NewHostStepper(g *Graph, run func(input, time, out []float32) error) HostStepper {
	return HostStepper{run: run, ph: g.Input.H, pw: g.Input.W}
}

// Begin copies x and x_in and pads x_in into the input's channels 3..5,
// which stay the same for every step.
func (s *HostStepper) Begin(xin, x []float32, h, w int) error {
	if h <= 0 || w <= 0 || h > s.ph || w > s.pw || len(xin) != 3*h*w || len(x) != 3*h*w {
		return fmt.Errorf("begin: %dx%d with x_in %d, x %d values on a %dx%d graph", w, h, len(xin), len(x), s.pw, s.ph)
	}
	pn := s.ph * s.pw
	if s.input == nil {
		s.input, s.out = make([]float32, 6*pn), make([]float32, 3*pn)
	}
	s.h, s.w = h, w
	s.x = append(s.x[:0], x...)
	s.xin = append(s.xin[:0], xin...)
	s.r = make([]float32, len(x))
	ref.ReflectPad(s.input[3*pn:], s.xin, 3, h, w, s.ph-h, s.pw-w)
	return nil
}

// Step runs one UNet pass on the padded x and updates x.
func (s *HostStepper) Step(time []float32, alpha, delta float32, last bool) error {
	if s.x == nil {
		return fmt.Errorf("step before begin")
	}
	pn := s.ph * s.pw
	ref.ReflectPad(s.input[:3*pn], s.x, 3, s.h, s.w, s.ph-s.h, s.pw-s.w)
	if err := s.run(s.input, time, s.out); err != nil {
		return err
	}
	ref.Crop(s.r, s.out, 3, s.ph, s.pw, s.h, s.w)
	sampler.Update(sampler.Step{Alpha: alpha, Delta: delta, Last: last}, s.x, s.xin, s.r)
	return nil
}

// Result copies x out.
func (s *HostStepper) Result(x []float32) error {
	if len(x) != len(s.x) {
		return fmt.Errorf("result: %d values for a %dx%d tile", len(x), s.w, s.h)
	}
	copy(x, s.x)
	return nil
}
