package cpu

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
)

// BenchmarkConv times the Tiny model's convolutions at 256x256 with the
// rows split across GOMAXPROCS goroutines, for every kernel the build and
// CPU offer, the 3x3 layers also in the Winograd form. GMAC/s counts the
// multiply-adds of the direct convolution.
func BenchmarkConv(b *testing.B) {
	layers := []struct {
		name string
		spec ConvSpec
		ca   int
		h, w int // input size
	}{
		{"7x7_6-32", ConvSpec{Cin: 6, Cout: 32, K: 7, Stride: 1, Pad: 3}, 6, 256, 256},
		{"3x3_32-32", ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1}, 32, 256, 256},
		{"3x3_64-32_concat", ConvSpec{Cin: 64, Cout: 32, K: 3, Stride: 1, Pad: 1}, 32, 256, 256},
		{"1x1_32-384", ConvSpec{Cin: 32, Cout: 384, K: 1, Stride: 1}, 32, 256, 256},
		{"1x1_128-32", ConvSpec{Cin: 128, Cout: 32, K: 1, Stride: 1}, 128, 256, 256},
		{"4x4s2_32-32", ConvSpec{Cin: 32, Cout: 32, K: 4, Stride: 2, Pad: 1}, 32, 256, 256},
		{"up3x3_32-32", ConvSpec{Cin: 32, Cout: 32, K: 3, Stride: 1, Pad: 1, Upsample: true}, 32, 128, 128},
	}
	workers := runtime.GOMAXPROCS(0)
	for _, impl := range convImpls {
		for _, l := range layers {
			for _, wino := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s", impl, l.name)
				if wino {
					if winoTiles(l.spec) == 0 {
						continue
					}
					name = fmt.Sprintf("%s+winograd/%s", impl, l.name)
				}
				b.Run(name, func(b *testing.B) { benchConv(b, impl, wino, l.spec, l.ca, l.h, l.w, workers) })
			}
		}
	}
}

// benchConv times one layer with the kernel impl, in the Winograd form or not.
func benchConv(b *testing.B, impl convImpl, wino bool, sp ConvSpec, ca, h, w, workers int) {
	defer func(k convImpl, wn bool) { convKernel, convWinograd = k, wn }(convKernel, convWinograd)
	convKernel, convWinograd = impl, wino
	r := rand.New(rand.NewPCG(1, 2))
	p, err := PackConv(sp, convRandom(r, sp.Cout*sp.Cin*sp.K*sp.K), convRandom(r, sp.Cout))
	if err != nil {
		b.Fatal(err)
	}
	ho, wo := p.OutSize(h, w)
	inA := convRandom(r, ca*h*w)
	inB := convRandom(r, (sp.Cin-ca)*h*w)
	out := make([]float32, sp.Cout*ho*wo)
	var wg sync.WaitGroup
	for b.Loop() {
		for i := range workers {
			wg.Go(func() { p.Run(out, inA, inB, nil, ca, h, w, i*ho/workers, (i+1)*ho/workers) })
		}
		wg.Wait()
	}
	macs := float64(sp.Cout*sp.Cin*sp.K*sp.K) * float64(ho*wo)
	b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
}
