package sampler

import (
	"math"
	"testing"
)

// Reference values from the authors' code (diffuir-spec.md).
func TestStepsMatchReference(t *testing.T) {
	s := NewSchedule(1000, 1.8e-3)
	for _, tc := range []struct {
		n     int
		pairs [][2]int
		times []float32
		alpha []float32
		delta []float32
	}{
		{3, [][2]int{{999, 665}, {665, 332}, {332, -1}}, []float32{993.647156, 894.486755, 433.621338},
			[]float32{0.09916037, 0.46086544}, []float32{0.50105566, 0.29956669}},
		{4, [][2]int{{999, 749}, {749, 499}, {499, 249}, {249, -1}}, []float32{993.647156, 942.116089, 719.665833, 276.062561}, nil, nil},
		{5, [][2]int{{999, 799}, {799, 599}, {599, 399}, {399, 199}, {199, -1}}, nil, nil, nil},
		{1, [][2]int{{999, -1}}, []float32{993.647156}, nil, nil},
	} {
		steps, err := s.Steps(tc.n)
		if err != nil {
			t.Fatal(err)
		}
		for i, st := range steps {
			if st.T != tc.pairs[i][0] || st.Next != tc.pairs[i][1] {
				t.Errorf("n=%d step %d: pair (%d,%d), want %v", tc.n, i, st.T, st.Next, tc.pairs[i])
			}
			if st.Last != (i == tc.n-1) {
				t.Errorf("n=%d step %d: last=%v", tc.n, i, st.Last)
			}
			if i < len(tc.times) && math.Abs(float64(st.TimeInput-tc.times[i])) > 1e-3 {
				t.Errorf("n=%d step %d: time %v, want %v", tc.n, i, st.TimeInput, tc.times[i])
			}
			if i < len(tc.alpha) && math.Abs(float64(st.Alpha-tc.alpha[i])) > 1e-6 {
				t.Errorf("n=%d step %d: alpha %v, want %v", tc.n, i, st.Alpha, tc.alpha[i])
			}
			if i < len(tc.delta) && math.Abs(float64(st.Delta-tc.delta[i])) > 1e-6 {
				t.Errorf("n=%d step %d: delta %v, want %v", tc.n, i, st.Delta, tc.delta[i])
			}
		}
	}
	if c := s.InitCoeff(); math.Abs(float64(c)-0.0995) > 1e-3 {
		t.Errorf("init coefficient %v, want about 0.0995", c)
	}
}

func TestStepsRejectsBadCounts(t *testing.T) {
	s := NewSchedule(1000, 1.8e-3)
	for _, n := range []int{0, -1, 21} {
		if _, err := s.Steps(n); err == nil {
			t.Errorf("Steps(%d) accepted", n)
		}
	}
}

func TestUpdate(t *testing.T) {
	x := []float32{0.5, -0.5}
	xin := []float32{0.2, 0.4}
	r := []float32{2, -0.25} // 2 is clamped to 1
	Update(Step{Alpha: 0.5, Delta: 0.25}, x, xin, r)
	want := []float32{0.5 - 0.5*1 + 0.25*0.2, -0.5 + 0.5*0.25 + 0.25*0.4}
	for i := range x {
		if math.Abs(float64(x[i]-want[i])) > 1e-7 {
			t.Errorf("x[%d] = %v, want %v", i, x[i], want[i])
		}
	}
	Update(Step{Last: true}, x, xin, []float32{-0.9, 0.1})
	if x[0] != 1 || math.Abs(float64(x[1]-0.3)) > 1e-7 {
		t.Errorf("last step gave %v, want [1 0.3]", x)
	}
}
