package main

// The transforms of runtime/backend/cpu's Winograd F(4x4, 3x3) layers
// (winograd.go there has the portable twins and the matrices). Four
// neighbouring tiles share a vector, one tile per lane; pointers and
// strides are in bytes.

const i8x16Shuffle = 0x0d

// shuffle emits i8x16.shuffle picking the 32-bit lanes l of the two
// vectors on the stack (0-3 the first, 4-7 the second).
func (f *fn) shuffle(l [4]byte) {
	f.simd(i8x16Shuffle)
	for _, x := range l {
		for b := range byte(4) {
			f.op(4*x + b)
		}
	}
}

// shuffleL emits dst = shuffle(a, b) of v128 locals.
func (f *fn) shuffleL(dst, a, b uint32, l [4]byte) {
	f.get(a)
	f.get(b)
	f.shuffle(l)
	f.set(dst)
}

// transpose emits dst[k][c] = x[c][k]: the 4x4 matrix of lanes of x
// transposed, through the scratch locals t.
func (f *fn) transpose(dst, x, t []uint32) {
	lo, hi := [4]byte{0, 4, 1, 5}, [4]byte{2, 6, 3, 7}
	f.shuffleL(t[0], x[0], x[1], lo)
	f.shuffleL(t[1], x[0], x[1], hi)
	f.shuffleL(t[2], x[2], x[3], lo)
	f.shuffleL(t[3], x[2], x[3], hi)
	f.shuffleL(dst[0], t[0], t[2], [4]byte{0, 1, 4, 5})
	f.shuffleL(dst[1], t[0], t[2], [4]byte{2, 3, 6, 7})
	f.shuffleL(dst[2], t[1], t[3], [4]byte{0, 1, 4, 5})
	f.shuffleL(dst[3], t[1], t[3], [4]byte{2, 3, 6, 7})
}

// at pushes p + k*stride (i32 locals, k a constant).
func (f *fn) at(p, stride uint32, k int32) {
	f.get(p)
	if k != 0 {
		f.get(stride)
		f.i32(k)
		f.op(opI32Mul)
		f.op(opI32Add)
	}
}

// vop pushes a op b for v128 locals.
func (f *fn) vop(a uint32, op uint32, b uint32) {
	f.get(a)
	f.get(b)
	f.simd(op)
}

// winoConsts are the v128 locals holding the transforms' splatted factors.
type winoConsts struct{ two, four, eight uint32 }

func (f *fn) winoConsts() winoConsts {
	c := winoConsts{f.local(tV128), f.local(tV128), f.local(tV128)}
	for _, x := range []struct {
		l uint32
		v float32
	}{{c.two, 2}, {c.four, 4}, {c.eight, 8}} {
		f.splatF(x.v)
		f.set(x.l)
	}
	return c
}

// bt emits Bt x for the six v128 locals x, handing each result i to out
// as an emitter that pushes it; t are three scratch locals.
//
//	v0 = (x4-x2) + 4(x0-x2)    v1 = (x4+x3) - 4(x1+x2)    v2 = (x4-x3) + 4(x1-x2)
//	v3 = (x4-x2) + 2(x3-x1)    v4 = (x4-x2) - 2(x3-x1)    v5 = (x5-x3) + 4(x1-x3)
func (f *fn) bt(x, t []uint32, k winoConsts, out func(i int, push func())) {
	p, q := t[0], t[1]
	f.vop(x[4], f32x4Sub, x[2])
	f.set(p)
	f.vop(x[3], f32x4Sub, x[1])
	f.get(k.two)
	f.simd(f32x4Mul)
	f.set(q)
	// scaled pushes a op1 b + factor*(c op2 d).
	scaled := func(a uint32, op1 uint32, b uint32, sign uint32, factor, c uint32, op2 uint32, d uint32) func() {
		return func() {
			f.vop(a, op1, b)
			f.vop(c, op2, d)
			f.get(factor)
			f.simd(f32x4Mul)
			f.simd(sign)
		}
	}
	out(0, func() { f.get(p); f.vop(x[0], f32x4Sub, x[2]); f.get(k.four); f.simd(f32x4Mul); f.simd(f32x4Add) })
	out(1, scaled(x[4], f32x4Add, x[3], f32x4Sub, k.four, x[1], f32x4Add, x[2]))
	out(2, scaled(x[4], f32x4Sub, x[3], f32x4Add, k.four, x[1], f32x4Sub, x[2]))
	out(3, func() { f.vop(p, f32x4Add, q) })
	out(4, func() { f.vop(p, f32x4Sub, q) })
	out(5, scaled(x[5], f32x4Sub, x[3], f32x4Add, k.four, x[1], f32x4Sub, x[3]))
}

// atx emits At x for the six v128 locals x, handing each result r to out;
// t are four scratch locals.
//
//	y0 = x0 + (x1+x2) + (x3+x4)    y1 = (x1-x2) + 2(x3-x4)
//	y2 = (x1+x2) + 4(x3+x4)        y3 = (x1-x2) + 8(x3-x4) + x5
func (f *fn) atx(x, t []uint32, k winoConsts, out func(r int, push func())) {
	a, b, c, d := t[0], t[1], t[2], t[3]
	f.vop(x[1], f32x4Add, x[2])
	f.set(a)
	f.vop(x[1], f32x4Sub, x[2])
	f.set(b)
	f.vop(x[3], f32x4Add, x[4])
	f.set(c)
	f.vop(x[3], f32x4Sub, x[4])
	f.set(d)
	plus := func(u, factor, v uint32) { f.get(u); f.vop(factor, f32x4Mul, v); f.simd(f32x4Add) }
	out(0, func() { f.vop(x[0], f32x4Add, a); f.get(c); f.simd(f32x4Add) })
	out(1, func() { plus(b, k.two, d) })
	out(2, func() { plus(a, k.four, c) })
	out(3, func() { plus(b, k.eight, d); f.get(x[5]); f.simd(f32x4Add) })
}

// winoin(stage, lp, cin, ngroups, v, vrow, vplane): for each input channel
// ci < cin, whose 6 staged rows start at stage + 6*ci*lp, lp apart, and
// each group g < ngroups of 4 tiles (tile t reads staged columns 4t..4t+5;
// a group reads 20 columns), writes V = Bt d B: position xi of tile 4g+k
// at v + xi*vplane + ci*vrow + 16g + 4k.
func winoin() *fn {
	const stage, lp, cin, ngroups, v, vrow, vplane = 0, 1, 2, 3, 4, 5, 6 // the parameters
	f := newFn("winoin", i32s(7), nil)
	ci, g, sp, vp, rp, op := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	k := f.winoConsts()
	ld, d, t := f.vlocals(5), f.vlocals(6), f.vlocals(4)
	u := make([][]uint32, 6) // u[r][j]: staged row r times B
	for r := range u {
		u[r] = f.vlocals(6)
	}
	col := make([]uint32, 6)
	f.forRange(ci, cin, 1, func() {
		// sp = stage + 6*ci*lp; vp = v + ci*vrow
		f.get(stage)
		f.get(ci)
		f.get(lp)
		f.op(opI32Mul)
		f.i32(6)
		f.op(opI32Mul)
		f.op(opI32Add)
		f.set(sp)
		f.index(vp, v, ci, vrow)
		f.forRange(g, ngroups, 1, func() {
			for r := range int32(6) {
				// Columns 0-3 of the 4 tiles are the transposed first 16
				// floats; columns 4 and 5 are lanes 0 and 1 of floats 4-19.
				f.at(sp, lp, r)
				f.get(g)
				f.shl(6)
				f.op(opI32Add)
				f.set(rp)
				for i, x := range ld {
					f.load(rp, uint32(16*i))
					f.set(x)
				}
				f.transpose(d[:4], ld[:4], t)
				f.shuffleL(t[0], ld[1], ld[2], [4]byte{0, 4, 1, 5})
				f.shuffleL(t[1], ld[3], ld[4], [4]byte{0, 4, 1, 5})
				f.shuffleL(d[4], t[0], t[1], [4]byte{0, 1, 4, 5})
				f.shuffleL(d[5], t[0], t[1], [4]byte{2, 3, 6, 7})
				f.bt(d, t, k, func(j int, push func()) { push(); f.set(u[r][j]) })
			}
			f.get(vp)
			f.get(g)
			f.shl(4)
			f.op(opI32Add)
			f.set(op)
			for j := range 6 {
				for r := range col {
					col[r] = u[r][j]
				}
				f.bt(col, t, k, func(i int, push func()) {
					f.at(op, vplane, int32(6*i+j))
					push()
					f.simdMem(v128Store, 2, 0)
				})
			}
		})
	})
	return f
}

// winoout(m, mrow, mplane, cout, ngroups, out, ostride, oplane, bias, res,
// rows): for each output channel co < cout and group g < ngroups of 4
// tiles, Y = At M A from position xi of tile 4g+k at m + xi*mplane +
// co*mrow + 16g + 4k, plus the float bias + 4co, plus res (when not 0,
// laid out like out), written to output rows r < rows (1 to 4) at out +
// co*oplane + r*ostride + 64g + 16k: tile k's four columns.
func winoout() *fn {
	// The parameters.
	const m, mrow, mplane, cout, ngroups = 0, 1, 2, 3, 4
	const out, ostride, oplane, bias, res, rows = 5, 6, 7, 8, 9, 10
	f := newFn("winoout", i32s(11), nil)
	co, g, mp, ob, rb, gp := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	orow, rrow := f.local(tI32), f.local(tI32) // output row r of the group, and its residual
	k := f.winoConsts()
	bv := f.local(tV128)
	x, y, z, t := f.vlocals(6), f.vlocals(4), f.vlocals(4), f.vlocals(4)
	s := make([][]uint32, 4) // s[r][j]: At times column j of M
	for r := range s {
		s[r] = f.vlocals(6)
	}
	f.forRange(co, cout, 1, func() {
		f.index(mp, m, co, mrow)
		f.get(co)
		f.get(oplane)
		f.op(opI32Mul)
		f.outAndRes(ob, rb, out, res)
		f.get(bias)
		f.get(co)
		f.shl(2)
		f.op(opI32Add)
		f.simdMem(v128Load32Splt, 2, 0)
		f.set(bv)
		f.forRange(g, ngroups, 1, func() {
			f.get(mp)
			f.get(g)
			f.shl(4)
			f.op(opI32Add)
			f.set(gp)
			for j := range int32(6) {
				for i := range int32(6) {
					f.at(gp, mplane, 6*i+j)
					f.simdMem(v128Load, 2, 0)
					f.set(x[i])
				}
				f.atx(x, t, k, func(r int, push func()) { push(); f.set(s[r][j]) })
			}
			for r := range int32(4) {
				if r > 0 {
					f.get(rows)
					f.i32(r + 1)
					f.op(opI32GeS)
					f.if_()
				}
				f.atx(s[r], t, k, func(c int, push func()) { push(); f.get(bv); f.simd(f32x4Add); f.set(y[c]) })
				f.transpose(z, y, t)
				// orow, rrow = ob, rb + r*ostride + 64g, once per row; tile k
				// at offset 16k
				f.get(g)
				f.shl(6)
				if r > 0 {
					f.get(ostride)
					f.i32(r)
					f.op(opI32Mul)
					f.op(opI32Add)
				}
				f.outAndRes(orow, rrow, ob, rb)
				for kk, zk := range z {
					f.get(res)
					f.if_()
					f.accV(zk, f32x4Add, func() { f.load(rrow, uint32(16*kk)) })
					f.end()
					f.store(orow, zk, uint32(16*kk))
				}
				if r > 0 {
					f.end()
				}
			}
		})
	})
	return f
}
