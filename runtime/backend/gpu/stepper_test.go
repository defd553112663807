package gpu

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/backend/cpu"
	"github.com/diffuir-web/diffuir/runtime/imageio"
	"github.com/diffuir-web/diffuir/runtime/restore"
)

// hostPath compiles on the GPU but replaces the Stepper by the host's
// (backend.HostStepper: pad, upload, run, read back, update on the CPU).
type hostPath struct{ *Backend }

type hostProgram struct {
	backend.Program
	host *backend.HostStepper
}

func (h hostProgram) Begin(xin, x []float32, height, width int) error {
	return h.host.Begin(xin, x, height, width)
}
func (h hostProgram) Step(time []float32, alpha, delta float32, last bool) error {
	return h.host.Step(time, alpha, delta, last)
}
func (h hostProgram) Result(x []float32) error { return h.host.Result(x) }

func (h hostPath) Compile(g *backend.Graph, w backend.Weights, taps bool) (backend.Program, error) {
	p, err := h.Backend.Compile(g, w, taps)
	if err != nil {
		return nil, err
	}
	host := backend.NewHostStepper(g, p.Run)
	return hostProgram{p, &host}, nil
}

// countingStepper wraps the GPU program and counts the Stepper calls, to
// prove restore takes the device path by default.
type countingStepper struct {
	*Program
	begins, steps, results int
}

func (c *countingStepper) Begin(xin, x []float32, h, w int) error {
	c.begins++
	return c.Program.Begin(xin, x, h, w)
}

func (c *countingStepper) Step(time []float32, alpha, delta float32, last bool) error {
	c.steps++
	return c.Program.Step(time, alpha, delta, last)
}

func (c *countingStepper) Result(x []float32) error {
	c.results++
	return c.Program.Result(x)
}

type countingBackend struct {
	*Backend
	progs []*countingStepper
}

func (b *countingBackend) Compile(g *backend.Graph, w backend.Weights, taps bool) (backend.Program, error) {
	p, err := b.Backend.Compile(g, w, taps)
	if err != nil {
		return nil, err
	}
	c := &countingStepper{Program: p.(*Program)}
	b.progs = append(b.progs, c)
	return c, nil
}

// TestRestoreMatchesCPU is the end-to-end check: whole restores through
// restore.Restorer on the CPU and on the GPU with each full-attention
// kernel, with the sampler on the device (Stepper) and once on the host: a tiny
// image padded far past its size (heavy reflection), an odd one and 45x37,
// with starting noise and more steps than the default, all within 1e-4.
func TestRestoreMatchesCPU(t *testing.T) {
	m := tinyModel(t, 3)
	for _, tc := range []struct{ w, h, steps int }{{5, 3, 4}, {1, 2, 2}, {45, 37, 3}} {
		t.Run(fmt.Sprintf("%dx%d", tc.w, tc.h), func(t *testing.T) {
			r := rand.New(rand.NewPCG(uint64(tc.w), uint64(tc.h)))
			xin := testImage(r, 3*tc.w*tc.h)
			restoreOn := func(b backend.Backend) []float32 {
				progress := 0
				opt := restore.Options{Steps: tc.steps, Seed: 5, NoiseScale: 1, Progress: func(restore.Progress) { progress++ }}
				rs := restore.New(m, b)
				out, err := rs.RestorePlanar(context.Background(), xin, restore.Region{X0: 3, Y0: 1, W: tc.w, H: tc.h}, opt)
				if err == nil {
					err = rs.Close()
				}
				if err != nil || progress != tc.steps {
					t.Fatalf("%s: %v, %d progress calls, want %d", b.Name(), err, progress, tc.steps)
				}
				return out
			}
			want := restoreOn(&cpu.Backend{})
			unclamped := 0
			for _, v := range want {
				if v > 0 && v < 1 {
					unclamped++
				}
			}
			if unclamped < len(want)/4 {
				t.Fatalf("only %d of %d outputs inside (0,1): the comparison says little", unclamped, len(want))
			}
			for i, kern := range attnKernels {
				be := convBackend(t, convSetup{attn: kern})
				cb := &countingBackend{Backend: be}
				got := map[string][]float32{"device": restoreOn(cb)}
				if i == 0 { // the host sampler does not depend on the kernels
					got["host"] = restoreOn(hostPath{be})
				}
				if len(cb.progs) != 1 || cb.progs[0].begins != 1 || cb.progs[0].steps != tc.steps || cb.progs[0].results != 1 {
					t.Fatalf("%s: Stepper path not taken: %+v", kern, cb.progs)
				}
				for sampler, out := range got {
					d, _ := maxDiff(out, want)
					t.Logf("%s attention, %s sampler: max abs diff %.3g", kern, sampler, d)
					if d > 1e-4 {
						t.Errorf("%s attention, %s sampler: GPU and CPU restores differ by %.3g (max abs), want <= 1e-4", kern, sampler, d)
					}
				}
			}
		})
	}
}

// TestStepperTiles reuses one program (and its device sampler state) for
// tiles of different sizes sharing a padded size.
func TestStepperTiles(t *testing.T) {
	be := gpuBackend(t)
	m := tinyModel(t, 4)
	r := rand.New(rand.NewPCG(11, 11))
	const w, h = 45, 37
	img := &imageio.Image{W: w, H: h, RGB: make([]float32, 3*w*h), Depth: 8}
	for i := range img.RGB {
		img.RGB[i] = float32(r.Float64())
	}
	opt := restore.Options{Steps: 2, Tile: 28, Overlap: 6, Equalize: restore.EqualizeOff}
	cb := &countingBackend{Backend: be}
	var outs [2]*imageio.Image
	for i, b := range []backend.Backend{cb, hostPath{be}} {
		rs := restore.New(m, b)
		out, _, err := rs.Restore(context.Background(), img, opt)
		if err != nil {
			t.Fatalf("backend %d: %v", i, err)
		}
		rs.Close()
		outs[i] = out
	}
	begins := 0
	for _, p := range cb.progs {
		begins += p.begins
	}
	if begins < 2 || len(cb.progs) >= begins {
		t.Fatalf("%d programs, %d tiles: want a program reused across tiles", len(cb.progs), begins)
	}
	if d, _ := maxDiff(outs[0].RGB, outs[1].RGB); d > 1e-4 {
		t.Fatalf("device and host sampler differ by %.3g (max abs)", d)
	}
}
