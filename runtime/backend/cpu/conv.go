package cpu

//go:generate go test -run ^TestGenerated$ -update

import (
	"errors"
	"fmt"
	"math"
)

// ConvSpec describes one convolution layer: planar CHW tensors, zero
// padding, PyTorch weight layout (Cout, Cin, K, K).
type ConvSpec struct {
	Cin, Cout, K, Stride, Pad int
	// Upsample makes the layer read its input nearest-neighbour upsampled
	// 2x, on the fly: the upsampled tensor is never materialised.
	Upsample bool
}

// PackedConv is a convolution with its weights repacked for the
// micro-kernels. It is immutable, so any number of goroutines may Run it.
//
// Every kernel computes a block of convCo output channels for a run of
// consecutive output pixels of one row, so the weights are stored as one
// [convCo]float32 per tap, tap-major within each block of output channels:
// w[(b*Cin+ci)*taps + (ky*s+p)*j + jj] holds the weights of kx = p + jj*s
// for channels b*convCo... Taps are grouped by input column phase p = kx%s,
// as the staged input rows are (see stageRow), and padded with zero weights
// to j = ceil(K/s) per phase so every staged row has the same taps.
type PackedConv struct {
	spec  ConvSpec
	j     int // taps per staged row: ceil(K/Stride)
	taps  int // taps per input channel: K*Stride*j
	nb    int // output channel blocks: ceil(Cout/convCo)
	w     [][convCo]float32
	bias  [][convCo]float32 // nb blocks, zero where the layer has none
	vrows int               // staged rows per input channel: K*Stride
	wino  *winoConv         // the Winograd form, where it serves (winograd.go)
}

// convCo is the number of output channels a micro-kernel computes at once.
const convCo = 4

const (
	// convMinTile and convMaxTile bound the run of output pixels computed
	// from one staging of the input.
	convMinTile = 64
	convMaxTile = 512
	// convStage is the stage buffer size in floats and convMaxTaps bounds
	// the taps of one kernel call. Both live in Run's frame, so that Run
	// does not allocate: convCall must stay below the compiler's 128 KiB
	// limit for stack variables (TestConvNoAlloc fails otherwise).
	convStage   = 25600
	convMaxTaps = 2048
	// convMaxChunk is the widest chunk of any kernel.
	convMaxChunk = 32
)

// PackConv repacks PyTorch-layout weights w (Cout, Cin, K, K) and an
// optional bias (Cout) for Run. It is meant to run once, at plan time.
func PackConv(spec ConvSpec, w, bias []float32) (*PackedConv, error) {
	if spec.Cin < 1 || spec.Cout < 1 || spec.K < 1 || spec.Stride < 1 || spec.Pad < 0 {
		return nil, fmt.Errorf("cpu: invalid convolution %+v", spec)
	}
	k, s := spec.K, spec.Stride
	j := (k + s - 1) / s
	// One input channel's taps and staged rows, for the widest kernel
	// chunk, must fit Run's scratch space.
	if k*s*j > convMaxTaps || k*s*(convMaxChunk+j-1) > convStage {
		return nil, fmt.Errorf("cpu: convolution kernel %dx%d stride %d too large", k, k, s)
	}
	if len(w) != spec.Cout*spec.Cin*k*k {
		return nil, fmt.Errorf("cpu: convolution %+v: %d weights, want %d", spec, len(w), spec.Cout*spec.Cin*k*k)
	}
	if bias != nil && len(bias) != spec.Cout {
		return nil, fmt.Errorf("cpu: convolution %+v: %d biases, want %d", spec, len(bias), spec.Cout)
	}
	p := &PackedConv{spec: spec, j: j, taps: k * s * j, nb: (spec.Cout + convCo - 1) / convCo, vrows: k * s}
	p.w = make([][convCo]float32, p.nb*spec.Cin*p.taps)
	p.bias = make([][convCo]float32, p.nb)
	for co := range spec.Cout {
		b, c := co/convCo, co%convCo
		if bias != nil {
			p.bias[b][c] = bias[co]
		}
		for ci := range spec.Cin {
			for ky := range k {
				for kx := range k {
					t := (ky*s+kx%s)*j + kx/s
					p.w[(b*spec.Cin+ci)*p.taps+t][c] = w[((co*spec.Cin+ci)*k+ky)*k+kx]
				}
			}
		}
	}
	if convWinograd {
		p.wino = packWinograd(spec, p.nb, w)
	}
	return p, nil
}

// OutSize gives the output size for an input of h x w as stored, before any
// upsampling; it is 0x0 when the kernel does not fit the padded input.
func (p *PackedConv) OutSize(h, w int) (ho, wo int) {
	sp := p.spec
	if sp.Upsample {
		h, w = 2*h, 2*w
	}
	ho = (h+2*sp.Pad-sp.K)/sp.Stride + 1
	wo = (w+2*sp.Pad-sp.K)/sp.Stride + 1
	if h+2*sp.Pad < sp.K || w+2*sp.Pad < sp.K {
		return 0, 0
	}
	return ho, wo
}

var errConvArgs = errors.New("cpu: PackedConv.Run: tensor sizes do not match the layer")

// Run computes the output rows [y0, y1) of out (Cout, ho, wo) for an input
// of h x w pixels. Input channels 0..ca-1 come from inA (ca, h, w) and
// channels ca..Cin-1 from inB (Cin-ca, h, w), a channel concatenation
// without a copy (inB may be nil when ca == Cin). When res is not nil (same
// shape as out), out = conv + bias + res. out must not overlap the other
// tensors.
//
// Run does not allocate, reads only inside the given tensors and writes only
// the rows [y0, y1) of out, so goroutines may run disjoint row ranges of one
// layer concurrently. It panics when the sizes do not match the layer.
func (p *PackedConv) Run(out, inA, inB, res []float32, ca, h, w, y0, y1 int) {
	sp := p.spec
	ho, wo := p.OutSize(h, w)
	if h < 1 || w < 1 || ca < 0 || ca > sp.Cin || len(inA) < ca*h*w || len(inB) < (sp.Cin-ca)*h*w ||
		len(out) < sp.Cout*ho*wo || (res != nil && len(res) < sp.Cout*ho*wo) || y0 < 0 || y1 > ho {
		panic(errConvArgs)
	}
	if y0 >= y1 {
		return
	}
	if p.wino != nil && convWinograd {
		p.runWinograd(out, inA, inB, res, ca, h, w, y0, y1)
		return
	}
	c := convCall{p: p, inA: inA, inB: inB, res: res, ca: ca, h: h, w: w, y0: y0, y1: y1, vec: convKernel.chunk()}
	c.a = convArgs{w: p.w, wStride: sp.Cin * p.taps, nb: p.nb, cout: sp.Cout, out: out, plane: ho * wo, rowLen: wo}
	x0, x1 := 0, wo
	if sp.K == 1 && sp.Stride == 1 && sp.Pad == 0 && !sp.Upsample {
		// A pointwise layer is one long row of pixels: no partial chunks
		// at row ends, longer contiguous reads.
		c.h, c.w, c.y0, c.y1 = 1, h*w, 0, 1
		x0, x1 = y0*wo, y1*wo
	}
	// Tiles as wide as let all input channels fit the stage buffer at once,
	// so that no partial sums go back to memory, but not so narrow that the
	// per-tile work dominates.
	tw := (len(c.st)/(p.vrows*sp.Cin) - p.j + 1) / c.vec * c.vec
	for tw > c.vec && padStride(tw+p.j-1)*p.vrows*sp.Cin > len(c.st) {
		tw -= c.vec
	}
	tw = max(tw, convMinTile/c.vec*c.vec)
	tw = min(tw, convMaxTile, (len(c.st)/p.vrows-p.j+1)/c.vec*c.vec) // one channel must fit
	for xt := x0; xt < x1; xt += tw {
		c.tile(xt, min(tw, x1-xt))
	}
}

// convCall is one Run's arguments and scratch space. It lives on Run's
// stack: Run must not allocate, and each goroutine needs its own.
type convCall struct {
	p             *PackedConv
	inA, inB, res []float32
	ca, h, w      int
	y0, y1        int // output rows
	vec           int // output pixels per kernel chunk
	a             convArgs
	st            [convStage]float32
	offs          [convMaxTaps]int
}

// tile computes output pixels [xt, xt+nx) of rows [y0, y1), for all
// output channels, in blocks of input channels that fit the scratch space.
//
// The stage buffer holds, for each input channel of a block, a ring of K
// input rows (each as Stride column phases): going down one output row
// only stages the Stride rows that enter the window.
func (c *convCall) tile(xt, nx int) {
	p, sp := c.p, c.p.spec
	// A staged row holds the tile rounded up to whole chunks, plus the j-1
	// columns the further taps read.
	lp := padStride((nx+c.vec-1)/c.vec*c.vec + p.j - 1)
	maxCi := min(len(c.offs)/p.taps, len(c.st)/(p.vrows*lp))
	a := c.a // a local: storing slices of c.st through c would move c to the heap
	a.nx = nx
	for c0 := 0; c0 < sp.Cin; {
		// Blocks of equal size, none straddling the inA/inB boundary.
		end := sp.Cin
		if c0 < c.ca {
			end = c.ca
		}
		nblk := (end - c0 + maxCi - 1) / maxCi
		c1 := c0 + (end-c0+nblk-1)/nblk
		src, base := c.inA, c0
		if c0 >= c.ca {
			src, base = c.inB, c0-c.ca
		}
		a.src, a.wOff = c.st[:(c1-c0)*p.vrows*lp], c0*p.taps
		a.bias, a.res = nil, nil
		if c0 == 0 {
			a.bias = p.bias
		}
		if c1 == sp.Cin {
			a.res = c.res
		}
		next := math.MinInt // first input row not staged yet
		for y := c.y0; y < c.y1; y++ {
			top := y*sp.Stride - sp.Pad // first input row of the window
			for iy := max(next, top); iy < top+sp.K; iy++ {
				slot := (iy%sp.K + sp.K) % sp.K
				for ci := range c1 - c0 {
					for ph := range sp.Stride {
						r := (ci*sp.K+slot)*sp.Stride + ph
						stageRow(c.st[r*lp:(r+1)*lp], src, sp, c.h, c.w, base+ci, iy, xt*sp.Stride+ph-sp.Pad)
					}
				}
			}
			next = top + sp.K
			n := 0
			for ci := range c1 - c0 {
				for ky := range sp.K {
					slot := ((top+ky)%sp.K + sp.K) % sp.K
					for ph := range sp.Stride {
						r := (ci*sp.K+slot)*sp.Stride + ph
						for jj := range p.j {
							c.offs[n] = r*lp + jj
							n++
						}
					}
				}
			}
			a.offs = c.offs[:n]
			a.outOff = y*a.rowLen + xt
			a.run()
		}
		c0 = c1
	}
}

// padStride lengthens a staged row of n floats by one cache line when
// rows n floats apart would share L1 cache sets: the kernels read the same
// pixels of every staged row, and rows a multiple of 256 bytes apart fall
// into at most 16 of the 64 sets and evict each other (the 1x1 layers,
// 32 rows of 512 pixels, ran at under half the speed of the 3x3 ones).
func padStride(n int) int {
	if n%64 == 0 {
		n += 16
	}
	return n
}

// stageRow fills dst[i] with the (virtual, upsampled when the layer sp
// says so) pixel (ci, iy, ix0+i*Stride) of the input src (C, h, w), or 0
// outside it.
func stageRow(dst, src []float32, sp ConvSpec, h, w, ci, iy, ix0 int) {
	s, up := sp.Stride, sp.Upsample
	hv, wv := h, w
	if up {
		hv, wv = 2*hv, 2*wv
	}
	if iy < 0 || iy >= hv {
		clear(dst)
		return
	}
	if up {
		iy /= 2
	}
	row := src[(ci*h+iy)*w : (ci*h+iy+1)*w]
	lo, hi := 0, 0 // dst[lo:hi] maps inside the row
	if ix0 < 0 {
		lo = (s - 1 - ix0) / s
	}
	if ix0 < wv {
		hi = (wv - ix0 + s - 1) / s
	}
	hi = min(hi, len(dst))
	lo = min(lo, hi)
	clear(dst[:lo])
	clear(dst[hi:])
	switch {
	case up:
		for i := lo; i < hi; i++ {
			dst[i] = row[(ix0+i*s)>>1]
		}
	case s == 1:
		copy(dst[lo:hi], row[ix0+lo:])
	default:
		for i := lo; i < hi; i++ {
			dst[i] = row[ix0+i*s]
		}
	}
}

// convArgs is one micro-kernel call: all output channel blocks, output
// pixels [0, nx) of a tile, the input channels of offs.
type convArgs struct {
	// src[offs[t]+x] is the input that tap t multiplies into output pixel x
	// of the tile; the taps are in packed weight order.
	src  []float32
	offs []int
	// Output channel block b uses weights w[b*wStride+wOff:][:len(offs)].
	w             [][convCo]float32
	wStride, wOff int
	nb, cout      int
	// out[outOff+co*plane+x] is output pixel x of the tile in channel co;
	// rows are rowLen long.
	out                   []float32
	outOff, plane, rowLen int
	nx                    int
	// bias starts the sums when not nil, otherwise they continue from out
	// (a later block of input channels); res is added at the end if not nil.
	bias [][convCo]float32
	res  []float32
}

// convImpl names a micro-kernel implementation.
type convImpl int

const (
	convGeneric convImpl = iota
	convAVX2
	convAVX512
	convSIMD128 // WebAssembly SIMD128, in tools/wasmsimd's module (build tag simd128)
)

// convKernel is the implementation Run uses: the best one the CPU supports
// (see convImpls), set once at init; tests switch it to cover them all.
var convKernel = convImpls[len(convImpls)-1]

// convWinograd makes PackConv and Run use the Winograd form where it
// serves. Only with the SIMD128 kernels: there it cuts the 3x3 layers'
// time (BenchmarkConv in Node), while the portable kernels in wasm and
// amd64's wider vectors make the direct form cheaper than the transforms.
// Tests switch it to cover both.
var convWinograd = convKernel == convSIMD128

func (k convImpl) String() string {
	switch k {
	case convAVX2:
		return "avx2"
	case convAVX512:
		return "avx512"
	case convSIMD128:
		return "simd128"
	}
	return "portable"
}

// KernelName names the convolution micro-kernel in use: "portable",
// "avx2" or "avx512" (the latter two with GOEXPERIMENT=simd on amd64), or
// "simd128" (wasm built with the tag simd128, where the host offers it).
func KernelName() string { return convKernel.String() }
