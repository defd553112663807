package cpu

import "sync"

// Winograd F(4x4, 3x3) for the 3x3, stride 1, padding 1 layers (with or
// without the fused upsample and concat): each 4x4 block of output pixels
// ("tile") comes from a 6x6 block of input through 36 products per input
// and output channel instead of 144, so the multiply-adds drop 4x. It pays
// where the multiply-adds are dear next to the transforms: in wasm with
// the SIMD128 kernels, which run near their FMA limit (see convWinograd).
// F(2x2, 3x3) (2.25x fewer) was measured too and is slower there
// (docs/BENCHMARKS.md).
//
// A strip of tiles (one row of up to winoConv.ntx tiles) goes through
// three stages:
//
//   - in: the 6 input rows of the strip, staged with stageRow, become
//     V[xi][ci][tx] = (Bt d B)[xi] for each of the 36 positions xi;
//   - products: M[xi] = U[xi] V[xi] for each xi, a 1x1 convolution over
//     the tiles, by the micro-kernel the direct layers use (convArgs.run);
//   - out: Y = At M A, plus bias and residual, written to the output rows.
//
// with the matrices below (Lavin and Gray's F(4,3), for cross-correlation),
// U = G g Gt.
const (
	winoM = 4         // output pixels per tile side
	winoA = winoM + 2 // input pixels per tile side
	winoP = winoA * winoA
)

var (
	winoBt = [winoA][winoA]float32{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	winoG = [winoA][3]float64{
		{1. / 4, 0, 0},
		{-1. / 6, -1. / 6, -1. / 6},
		{-1. / 6, 1. / 6, -1. / 6},
		{1. / 24, 1. / 12, 1. / 6},
		{1. / 24, -1. / 12, 1. / 6},
		{0, 0, 1},
	}
	winoAt = [winoM][winoA]float32{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

type winoConv struct {
	u    [][convCo]float32 // U: 36 positions x nb blocks x Cin taps
	zero [][convCo]float32 // nb blocks of zeros: the products start from 0
	ntx  int               // most tiles per strip
}

// Scratch bounds, in floats: V and M of a strip stay within L2 (together
// about 0.8 MB per Run in flight, outside the memory plan).
const (
	winoCapV = 96 << 10
	winoCapM = 96 << 10
)

// packWinograd transforms the PyTorch-layout weights w (Cout, Cin, 3, 3),
// or returns nil when the layer is not one Winograd serves.
func packWinograd(sp ConvSpec, nb int, w []float32) *winoConv {
	ntx := winoTiles(sp)
	if ntx == 0 {
		return nil
	}
	wc := &winoConv{u: make([][convCo]float32, winoP*nb*sp.Cin), zero: make([][convCo]float32, nb), ntx: ntx}
	for co := range sp.Cout {
		for ci := range sp.Cin {
			g := w[(co*sp.Cin+ci)*9:][:9]
			// t = G g (6x3), then U = t Gt (6x6), in float64: the
			// fractions of G are not exact in float32.
			var t [winoA][3]float64
			for i := range winoA {
				for j := range 3 {
					for k := range 3 {
						t[i][j] += winoG[i][k] * float64(g[3*k+j])
					}
				}
			}
			for i := range winoA {
				for j := range winoA {
					var u float64
					for k := range 3 {
						u += t[i][k] * winoG[j][k]
					}
					wc.u[((winoA*i+j)*nb+co/convCo)*sp.Cin+ci][co%convCo] = float32(u)
				}
			}
		}
	}
	return wc
}

// winoTiles is the most tiles of a strip whose V and M fit the scratch
// (a multiple of 8, the kernels' chunk), or 0 when Winograd does not serve
// the layer.
func winoTiles(sp ConvSpec) int {
	if sp.K != 3 || sp.Stride != 1 || sp.Pad != 1 {
		return 0
	}
	ntx := 0
	for n := 8; winoP*sp.Cin*padStride(n) <= winoCapV && winoP*sp.Cout*padStride(n) <= winoCapM; n += 8 {
		ntx = n
	}
	return ntx
}

// winoScratch is one Run's staging and transform buffers. They are too
// large for the stack, so a pool keeps them: Run allocates only while more
// goroutines run Winograd layers at once than ever before.
type winoScratch struct {
	stage, v, m []float32
	offs        []int
}

var winoScratches = sync.Pool{New: func() any {
	// The slack lets the micro-kernels read whole chunks past a strip.
	return &winoScratch{v: make([]float32, winoCapV+convMaxChunk), m: make([]float32, winoCapM+convMaxChunk)}
}}

// winoStrip is one strip's geometry: tiles [tx0, tx0+n) of the tile row
// whose first output row is y; the stages process np >= n tiles (whole
// kernel chunks), the extra ones on staged zeros.
type winoStrip struct {
	cin, cout, nb  int
	stage, v, m    []float32
	lp, vrow, mrow int // staged row, V row and M row lengths (floats)
	n, np          int
	// Output: out (Cout, ho, wo), rows y up to y+rows (rows <= 4), columns
	// x0 = 4*tx0 up to wo; bias per block; res like out or nil.
	out, res []float32
	bias     [][convCo]float32
	ho, wo   int
	y, rows  int
	x0       int
}

// runWinograd is Run for a layer packWinograd served.
func (p *PackedConv) runWinograd(out, inA, inB, res []float32, ca, h, w, y0, y1 int) {
	sp, wc := p.spec, p.wino
	ho, wo := p.OutSize(h, w)
	tiles := (wo + winoM - 1) / winoM
	strips := (tiles + wc.ntx - 1) / wc.ntx
	ntx := ((tiles+strips-1)/strips + 7) &^ 7
	sc := winoScratches.Get().(*winoScratch)
	defer winoScratches.Put(sc)
	// The vector input transform reads 4 columns past the last tile's 6.
	s := winoStrip{cin: sp.Cin, cout: sp.Cout, nb: p.nb, lp: padStride(winoM*ntx + 4), vrow: padStride(ntx), mrow: padStride(ntx),
		out: out, res: res, bias: p.bias, ho: ho, wo: wo}
	if n := winoA * sp.Cin * s.lp; cap(sc.stage) < n {
		sc.stage = make([]float32, n)
	}
	if cap(sc.offs) < sp.Cin {
		sc.offs = make([]int, sp.Cin)
	}
	s.stage, s.v, s.m = sc.stage[:winoA*sp.Cin*s.lp], sc.v, sc.m
	offs := sc.offs[:sp.Cin]
	for ci := range offs {
		offs[ci] = ci * s.vrow
	}
	vplane, mplane := sp.Cin*s.vrow, sp.Cout*s.mrow
	for s.y = y0; s.y < y1; s.y += winoM {
		s.rows = min(winoM, y1-s.y)
		for tx0 := 0; tx0 < tiles; tx0 += ntx {
			s.n = min(ntx, tiles-tx0)
			s.np = (s.n + 7) &^ 7
			s.x0 = winoM * tx0
			for ci := range sp.Cin {
				src, base := inA, ci
				if ci >= ca {
					src, base = inB, ci-ca
				}
				for r := range winoA {
					stageRow(s.stage[(winoA*ci+r)*s.lp:][:s.lp], src, sp, h, w, base, s.y-1+r, s.x0-1)
				}
			}
			s.in()
			for xi := range winoP {
				a := convArgs{src: s.v[xi*vplane:], offs: offs, w: wc.u[xi*p.nb*sp.Cin:], wStride: sp.Cin, nb: p.nb,
					cout: sp.Cout, out: s.m[xi*mplane:], plane: s.mrow, nx: s.np, bias: wc.zero}
				a.run()
			}
			s.outTransform()
		}
	}
}

// inGo is the portable input transform: V[xi][ci][tx] for the strip's np
// tiles from the staged rows.
func (s *winoStrip) inGo() {
	vplane := s.cin * s.vrow
	for ci := range s.cin {
		st := s.stage[winoA*ci*s.lp:][:winoA*s.lp]
		v := s.v[ci*s.vrow:]
		for tx := range s.np {
			var t [winoA][winoA]float32 // t = Bt d
			for r := range winoA {
				d := st[r*s.lp+winoM*tx:][:winoA]
				for i := range winoA {
					for c, x := range d {
						t[i][c] += winoBt[i][r] * x
					}
				}
			}
			for i := range winoA {
				for j := range winoA {
					var x float32 // (t B)[i][j]
					for c, b := range winoBt[j] {
						x += t[i][c] * b
					}
					v[(winoA*i+j)*vplane+tx] = x
				}
			}
		}
	}
}

// outGo is the portable output transform of tiles [from, n) of the strip.
func (s *winoStrip) outGo(from int) {
	mplane := s.cout * s.mrow
	for co := range s.cout {
		b := s.bias[co/convCo][co%convCo]
		m := s.m[co*s.mrow:]
		o := co*s.ho*s.wo + s.y*s.wo
		for tx := from; tx < s.n; tx++ {
			var t [winoM][winoA]float32 // t = At M
			for i := range winoA {
				for j := range winoA {
					x := m[(winoA*i+j)*mplane+tx]
					for r := range winoM {
						t[r][j] += winoAt[r][i] * x
					}
				}
			}
			x0 := s.x0 + winoM*tx
			for r := range s.rows {
				for c := range min(winoM, s.wo-x0) {
					y := b
					for j, a := range winoAt[c] {
						y += t[r][j] * a
					}
					i := o + r*s.wo + x0 + c
					if s.res != nil {
						y += s.res[i]
					}
					s.out[i] = y
				}
			}
		}
	}
}

// in runs the input transform, in the vector module where there is one.
func (s *winoStrip) in() {
	if !s.inSIMD() {
		s.inGo()
	}
}

// outTransform runs the output transform: the vector module takes the
// tiles whose output columns all lie inside the row, outGo the rest.
func (s *winoStrip) outTransform() { s.outGo(s.outSIMD()) }
