package sampler

import (
	"fmt"
	"math"
)

// SumScale is the variance of the noise added to the input at the start of
// sampling (the authors' sum_scale for conditional models).
const SumScale = 0.01

// Schedule holds the per-timestep coefficients, recomputed in float32 as the
// authors' code does (never read from a checkpoint).
type Schedule struct {
	AlphaBar []float32 // ᾱ_t = 1 - sqrt(acp_t): weight of the residual
	DeltaBar []float32 // δ̄_t = clip(cumsum(linspace(1e-6, deltaEnd)), 0, 1): weight of the input
}

// linspace matches torch.linspace in float32: start + i*step for the first
// half and end - (n-1-i)*step for the second half.
func linspace(start, end float32, n int) []float32 {
	out := make([]float32, n)
	if n == 1 {
		out[0] = start
		return out
	}
	step := (end - start) / float32(n-1)
	half := n / 2
	for i := 0; i < n; i++ {
		if i < half {
			out[i] = start + step*float32(i)
		} else {
			out[i] = end - step*float32(n-1-i)
		}
	}
	return out
}

// NewSchedule builds the schedule for T timesteps and the given delta end.
func NewSchedule(timesteps int, deltaEnd float32) *Schedule {
	betas := linspace(1e-4, 0.02, timesteps)
	s := &Schedule{AlphaBar: make([]float32, timesteps), DeltaBar: make([]float32, timesteps)}
	acp := float32(1)
	for i, b := range betas {
		acp *= 1 - b
		s.AlphaBar[i] = 1 - float32(math.Sqrt(float64(acp)))
	}
	var sum float32
	for i, d := range linspace(1e-6, deltaEnd, timesteps) {
		sum += d
		s.DeltaBar[i] = min(max(sum, 0), 1)
	}
	return s
}

// Step is one sampler iteration: run the UNet at time T (network time input
// TimeInput = ᾱ_T·1000), then update x with Alpha and Delta, or, when Last,
// finish with x = clamp(x_in - r).
type Step struct {
	T, Next   int
	TimeInput float32
	Alpha     float32 // ᾱ_T - ᾱ_Next
	Delta     float32 // δ̄_T - δ̄_Next
	Last      bool
}

// MaxSteps bounds the step count a caller may ask for.
const MaxSteps = 20

// Steps returns the sampling plan for n steps: times = reverse(trunc(
// linspace(-1, T-1, n+1))) paired as (t, t_next).
func (s *Schedule) Steps(n int) ([]Step, error) {
	T := len(s.AlphaBar)
	if n < 1 || n > MaxSteps || n >= T {
		return nil, fmt.Errorf("sampler: %d steps, want 1..%d", n, min(MaxSteps, T-1))
	}
	lin := linspace(-1, float32(T-1), n+1)
	times := make([]int, n+1)
	for i, v := range lin {
		times[n-i] = int(v) // truncation toward zero, as torch's .int()
	}
	steps := make([]Step, n)
	for i := 0; i < n; i++ {
		t, next := times[i], times[i+1]
		st := Step{T: t, Next: next, TimeInput: s.AlphaBar[t] * float32(T)}
		if next < 0 {
			st.Last = true
		} else {
			st.Alpha = s.AlphaBar[t] - s.AlphaBar[next]
			st.Delta = s.DeltaBar[t] - s.DeltaBar[next]
		}
		steps[i] = st
	}
	return steps, nil
}

// InitCoeff is the weight of x_in in the starting point
// x = (1 - δ̄_{T-1})·x_in + sqrt(SumScale)·noise·noiseScale.
func (s *Schedule) InitCoeff() float32 { return 1 - s.DeltaBar[len(s.DeltaBar)-1] }

// Init writes the starting point into x.
func (s *Schedule) Init(x, xin, noise []float32, noiseScale float32) {
	c := s.InitCoeff()
	ns := float32(math.Sqrt(SumScale)) * noiseScale
	for i := range x {
		x[i] = c * xin[i]
		if noise != nil {
			x[i] += ns * noise[i]
		}
	}
}

// Update applies one step in place: r is the raw UNet output, clamped here
// to [-1, 1]. For the last step x becomes clamp(x_in - r, -1, 1).
func Update(st Step, x, xin, r []float32) {
	if st.Last {
		for i := range x {
			x[i] = clamp1(xin[i] - clamp1(r[i]))
		}
		return
	}
	for i := range x {
		x[i] = x[i] - st.Alpha*clamp1(r[i]) + st.Delta*xin[i]
	}
}

func clamp1(v float32) float32 { return min(max(v, -1), 1) }
