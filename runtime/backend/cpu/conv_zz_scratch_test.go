package cpu

import (
	"math/rand/v2"
	"syscall"
	"testing"
	"time"
)

func cpuNow() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkZZ(b *testing.B) {
	layers := []struct {
		name string
		spec ConvSpec
		h, w int
	}{
		{"7x7", ConvSpec{Cin: 6, Cout: 32, K: 7, Stride: 1, Pad: 3}, 256, 256},
		{"3x3", ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1}, 256, 256},
		{"3x3c", ConvSpec{Cin: 64, Cout: 32, K: 3, Stride: 1, Pad: 1}, 256, 256},
		{"1x1_384", ConvSpec{Cin: 32, Cout: 384, K: 1, Stride: 1}, 256, 256},
		{"1x1_128", ConvSpec{Cin: 128, Cout: 32, K: 1, Stride: 1}, 256, 256},
		{"4x4s2", ConvSpec{Cin: 32, Cout: 32, K: 4, Stride: 2, Pad: 1}, 256, 256},
		{"up3x3", ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1, Upsample: true}, 128, 128},
	}
	for _, l := range layers {
		b.Run(l.name, func(b *testing.B) {
			sp := l.spec
			r := rand.New(rand.NewPCG(1, 2))
			p, _ := PackConv(sp, convRandom(r, sp.Cout*sp.Cin*sp.K*sp.K), convRandom(r, sp.Cout))
			ho, wo := p.OutSize(l.h, l.w)
			in := convRandom(r, sp.Cin*l.h*l.w)
			out := make([]float32, sp.Cout*ho*wo)
			t0 := cpuNow()
			for b.Loop() {
				p.Run(out, in, nil, nil, sp.Cin, l.h, l.w, 0, ho)
			}
			macs := float64(sp.Cout*sp.Cin*sp.K*sp.K) * float64(ho*wo)
			b.ReportMetric(macs*float64(b.N)/(cpuNow()-t0).Seconds()/1e9, "cpuGMAC/s")
		})
	}
}
