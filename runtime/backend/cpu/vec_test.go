package cpu

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestVecHelpers(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 14))
	for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 130, 257} {
		x, y := randVec(r, n, 1), randVec(r, n+3, 1)
		var want float64
		for i := range x {
			want += float64(x[i]) * float64(y[i])
		}
		if got := dot(x, y); math.Abs(float64(got)-want) > 1e-5*(1+float64(n)) {
			t.Fatalf("dot n=%d: %v, want %v", n, got, want)
		}
		for _, kn := range []int{1, 2, 3, 5, 32, 64} {
			stride := n + 5
			c := randVec(r, kn, 1)
			xs := randVec(r, (kn-1)*stride+n, 1)
			dst := randVec(r, n, 1)
			want := make([]float64, n)
			for i := range want {
				want[i] = float64(dst[i])
				for k := range c {
					want[i] += float64(c[k]) * float64(xs[k*stride+i])
				}
			}
			gemvT(dst, c, xs, stride)
			for i := range want {
				if math.Abs(float64(dst[i])-want[i]) > 1e-5*float64(1+kn) {
					t.Fatalf("gemvT n=%d k=%d: [%d] = %v, want %v", n, kn, i, dst[i], want[i])
				}
			}
		}
		e := randVec(r, n, 30)
		m := float32(0)
		if n > 0 {
			m = maxOf(e)
		}
		wantE := make([]float64, n)
		var wantS float64
		for i, v := range e {
			wantE[i] = math.Exp(float64(v - m))
			wantS += wantE[i]
		}
		s := expSub(e, m)
		for i := range e {
			if d := math.Abs(float64(e[i]) - wantE[i]); d > 1e-6*wantE[i] && d > 1e-37 {
				t.Fatalf("expSub n=%d: [%d] = %v, want %v", n, i, e[i], wantE[i])
			}
		}
		if math.Abs(float64(s)-wantS) > 1e-5*wantS {
			t.Fatalf("expSub n=%d: sum %v, want %v", n, s, wantS)
		}
	}
}

func TestVecElementwise(t *testing.T) {
	r := rand.New(rand.NewPCG(15, 16))
	for _, n := range []int{1, 3, 7, 8, 9, 31, 32, 33, 64, 65, 100} {
		x, y := randVec(r, n, 3), randVec(r, n, 3)
		want := x[0]
		for _, v := range x {
			want = max(want, v)
		}
		if got := maxOf(x); got != want {
			t.Fatalf("maxOf n=%d: %v, want %v", n, got, want)
		}
		m := append([]float32(nil), x...)
		maxInto(m, y)
		for i := range m {
			if m[i] != max(x[i], y[i]) {
				t.Fatalf("maxInto n=%d: [%d] = %v", n, i, m[i])
			}
		}
		p := append([]float32(nil), x...)
		mulInto(p, y)
		for i := range p {
			if p[i] != x[i]*y[i] {
				t.Fatalf("mulInto n=%d: [%d] = %v", n, i, p[i])
			}
		}
		s := randVec(r, n, 1)
		s0 := append([]float32(nil), s...)
		e := append([]float32(nil), x...)
		expSubAcc(e, m, s)
		for i := range e {
			w := math.Exp(float64(x[i] - m[i]))
			if math.Abs(float64(e[i])-w) > 1e-6*w || math.Abs(float64(s[i]-s0[i])-w) > 1e-6*(1+math.Abs(float64(s0[i]))) {
				t.Fatalf("expSubAcc n=%d: [%d] = %v, sum %v, want %v", n, i, e[i], s[i]-s0[i], w)
			}
		}
	}
}
