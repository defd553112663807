package cpu

import "sync"

// Winograd F(2x2, 3x3) for the 3x3, stride 1, padding 1 layers (with or
// without the fused upsample and concat): each 2x2 block of output pixels
// ("tile") comes from a 4x4 block of input through 16 products per input
// and output channel instead of 36, so the multiply-adds drop 2.25x. It
// pays where the multiply-adds are dear next to the transforms: in wasm,
// whose vector kernels run near their FMA limit, not on amd64 (see
// winogradDefault).
//
// A strip of tiles (one row of up to winoConv.ntx tiles) goes through
// three stages:
//
//   - in: the 4 input rows of the strip, staged with stageRow, become
//     V[xi][ci][tx] = (Bt d B)[xi] for each of the 16 positions xi;
//   - products: M[xi] = U[xi] V[xi] for each xi, a 1x1 convolution over
//     the tiles, by the micro-kernel the direct layers use (convArgs.run);
//   - out: Y = At M A, plus bias and residual, written to the output rows.
//
// with (Lavin and Gray's F(2,3), for cross-correlation)
//
//	Bt = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
//	G  = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1],  U = G g Gt
//	At = [1 1 1 0; 0 1 -1 -1]
type winoConv struct {
	u    [][convCo]float32 // U: 16 positions x nb blocks x Cin taps
	zero [][convCo]float32 // nb blocks of zeros: the products start from 0
	ntx  int               // most tiles per strip
}

// Scratch bounds, in floats: V and M of a strip stay within L2.
const (
	winoCapV = 1 << 16
	winoCapM = 1 << 16
)

// packWinograd transforms the PyTorch-layout weights w (Cout, Cin, 3, 3),
// or returns nil when the layer is not one Winograd serves.
func packWinograd(sp ConvSpec, nb int, w []float32) *winoConv {
	ntx := winoTiles(sp)
	if ntx == 0 {
		return nil
	}
	wc := &winoConv{u: make([][convCo]float32, 16*nb*sp.Cin), zero: make([][convCo]float32, nb), ntx: ntx}
	for co := range sp.Cout {
		for ci := range sp.Cin {
			g := w[(co*sp.Cin+ci)*9:][:9]
			// t = G g (4x3), then U = t Gt (4x4).
			var t [4][3]float32
			for j := range 3 {
				g0, g1, g2 := g[j], g[3+j], g[6+j]
				t[0][j], t[1][j], t[2][j], t[3][j] = g0, (g0+g1+g2)/2, (g0-g1+g2)/2, g2
			}
			for i := range 4 {
				g0, g1, g2 := t[i][0], t[i][1], t[i][2]
				for j, u := range [4]float32{g0, (g0 + g1 + g2) / 2, (g0 - g1 + g2) / 2, g2} {
					wc.u[((4*i+j)*nb+co/convCo)*sp.Cin+ci][co%convCo] = u
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
	for n := 8; 16*sp.Cin*padStride(n) <= winoCapV && 16*sp.Cout*padStride(n) <= winoCapM; n += 8 {
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
	// Output: out (Cout, ho, wo), rows y and y+1 (when rows is 2), columns
	// x0 = 2*tx0 up to wo; bias per block; res like out or nil.
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
	tiles := (wo + 1) / 2
	strips := (tiles + wc.ntx - 1) / wc.ntx
	ntx := ((tiles+strips-1)/strips + 7) &^ 7
	sc := winoScratches.Get().(*winoScratch)
	defer winoScratches.Put(sc)
	s := winoStrip{cin: sp.Cin, cout: sp.Cout, nb: p.nb, lp: padStride(2*ntx + 2), vrow: padStride(ntx), mrow: padStride(ntx),
		out: out, res: res, bias: p.bias, ho: ho, wo: wo}
	if n := 4 * sp.Cin * s.lp; cap(sc.stage) < n {
		sc.stage = make([]float32, n)
	}
	if cap(sc.offs) < sp.Cin {
		sc.offs = make([]int, sp.Cin)
	}
	s.stage, s.v, s.m = sc.stage[:4*sp.Cin*s.lp], sc.v, sc.m
	offs := sc.offs[:sp.Cin]
	for ci := range offs {
		offs[ci] = ci * s.vrow
	}
	vplane, mplane := sp.Cin*s.vrow, sp.Cout*s.mrow
	for s.y = y0; s.y < y1; s.y += 2 {
		s.rows = min(2, y1-s.y)
		for tx0 := 0; tx0 < tiles; tx0 += ntx {
			s.n = min(ntx, tiles-tx0)
			s.np = (s.n + 7) &^ 7
			s.x0 = 2 * tx0
			for ci := range sp.Cin {
				src, base := inA, ci
				if ci >= ca {
					src, base = inB, ci-ca
				}
				for r := range 4 {
					stageRow(s.stage[(4*ci+r)*s.lp:][:s.lp], src, sp, h, w, base, s.y-1+r, s.x0-1)
				}
			}
			s.in()
			for xi := range 16 {
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
		st := s.stage[4*ci*s.lp:][:4*s.lp]
		v := s.v[ci*s.vrow:]
		for tx := range s.np {
			var t [4][4]float32 // t = Bt d, one row of d per staged row
			for c := range 4 {
				d0, d1, d2, d3 := st[2*tx+c], st[s.lp+2*tx+c], st[2*s.lp+2*tx+c], st[3*s.lp+2*tx+c]
				t[0][c], t[1][c], t[2][c], t[3][c] = d0-d2, d1+d2, d2-d1, d1-d3
			}
			for i := range 4 {
				t0, t1, t2, t3 := t[i][0], t[i][1], t[i][2], t[i][3]
				o := 4 * i * vplane
				v[o+tx], v[o+vplane+tx], v[o+2*vplane+tx], v[o+3*vplane+tx] = t0-t2, t1+t2, t2-t1, t1-t3
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
			var t [2][4]float32 // t = At M
			for j := range 4 {
				m0, m1, m2, m3 := m[j*mplane+tx], m[(4+j)*mplane+tx], m[(8+j)*mplane+tx], m[(12+j)*mplane+tx]
				t[0][j], t[1][j] = m0+m1+m2, m1-m2-m3
			}
			x := s.x0 + 2*tx
			for r := range s.rows {
				y := [2]float32{t[r][0] + t[r][1] + t[r][2] + b, t[r][1] - t[r][2] - t[r][3] + b}
				for k := range min(2, s.wo-x) {
					i := o + r*s.wo + x + k
					if s.res != nil {
						y[k] += s.res[i]
					}
					s.out[i] = y[k]
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
