package main

// The transforms of runtime/backend/cpu's Winograd F(2x2, 3x3) layers
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

// combine emits dst = a op b for v128 locals.
func (f *fn) combine(dst, a uint32, op uint32, b uint32) {
	f.get(a)
	f.get(b)
	f.simd(op)
	f.set(dst)
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

// winoin(stage, lp, cin, ngroups, v, vrow, vplane): for each input channel
// ci < cin, whose 4 staged rows start at stage + 4*ci*lp, lp apart, and
// each group g < ngroups of 4 tiles (tile t reads staged columns 2t..2t+3),
// writes V = Bt d B: position xi of tile 4g+k at
// v + xi*vplane + ci*vrow + 16g + 4k.
func winoin() *fn {
	const (
		stage = iota
		lp
		cin
		ngroups
		v
		vrow
		vplane
	)
	f := newFn("winoin", i32s(7), nil)
	ci, g, sp, vp, rp, op := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	a, b, c, d := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	u1, u2, u := f.vlocals(4), f.vlocals(4), f.vlocals(4)
	t := f.local(tV128)

	// row sets dst to Bt applied along staged row r of the group: the
	// columns d0..d3 of its 4 tiles, deinterleaved from 10 staged floats.
	row := func(r int32, dst []uint32) {
		f.at(sp, lp, r)
		f.set(rp)
		for i, x := range []uint32{a, b, c, d} {
			f.load(rp, uint32([]int{0, 16, 8, 24}[i]))
			f.set(x)
		}
		// d0 = a,b evens; d1 = a,b odds; d2 = c,d evens; d3 = c,d odds.
		col := func(x, y uint32, odd byte) {
			f.get(x)
			f.get(y)
			f.shuffle([4]byte{odd, 2 + odd, 4 + odd, 6 + odd})
		}
		col(a, b, 0) // d0
		col(c, d, 0) // d2
		f.simd(f32x4Sub)
		f.set(dst[0])
		col(a, b, 1) // d1
		f.set(t)
		col(c, d, 0) // d2
		f.set(a)
		f.combine(dst[1], t, f32x4Add, a)
		f.combine(dst[2], a, f32x4Sub, t)
		col(c, d, 1) // d3
		f.set(a)
		f.combine(dst[3], t, f32x4Sub, a)
	}
	// put stores x at position xi of the group.
	put := func(xi int32, push func()) {
		f.at(op, vplane, xi)
		push()
		f.simdMem(v128Store, 2, 0)
	}
	f.forRange(ci, cin, 1, func() {
		// sp = stage + 4*ci*lp; vp = v + ci*vrow
		f.get(stage)
		f.get(ci)
		f.get(lp)
		f.op(opI32Mul)
		f.shl(2)
		f.op(opI32Add)
		f.set(sp)
		f.get(v)
		f.get(ci)
		f.get(vrow)
		f.op(opI32Mul)
		f.op(opI32Add)
		f.set(vp)
		f.forRange(g, ngroups, 1, func() {
			f.get(vp)
			f.get(g)
			f.shl(4)
			f.op(opI32Add)
			f.set(op)
			// Bt down the rows: V row 0 = u0-u2, 1 = u1+u2, 2 = u2-u1,
			// 3 = u1-u3, with rows 1 and 2 computed first so that at
			// most three rows of u are live.
			row(1, u1)
			row(2, u2)
			for j := range 4 {
				put(int32(4+j), func() { f.get(u1[j]); f.get(u2[j]); f.simd(f32x4Add) })
				put(int32(8+j), func() { f.get(u2[j]); f.get(u1[j]); f.simd(f32x4Sub) })
			}
			row(0, u)
			for j := range 4 {
				put(int32(j), func() { f.get(u[j]); f.get(u2[j]); f.simd(f32x4Sub) })
			}
			row(3, u)
			for j := range 4 {
				put(int32(12+j), func() { f.get(u1[j]); f.get(u[j]); f.simd(f32x4Sub) })
			}
			f.addTo(sp, 32)
		})
	})
	return f
}

// winoout(m, mrow, mplane, cout, ngroups, out, ostride, oplane, bias, res,
// rows): for each output channel co < cout and group g < ngroups of 4
// tiles, Y = At M A from position xi of tile 4g+k at m + xi*mplane +
// co*mrow + 16g + 4k, plus the float bias + 4co, plus res (when not 0,
// laid out like out), written to output row r < rows (1 or 2) at out +
// co*oplane + r*ostride + 32g: the tiles' two columns interleaved.
func winoout() *fn {
	const (
		m = iota
		mrow
		mplane
		cout
		ngroups
		out
		ostride
		oplane
		bias
		res
		rows
	)
	f := newFn("winoout", i32s(11), nil)
	co, g, mp, ob, rb, gp := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	bv, x, y, z := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	s0, s1 := f.vlocals(4), f.vlocals(4)
	f.forRange(co, cout, 1, func() {
		f.get(m)
		f.get(co)
		f.get(mrow)
		f.op(opI32Mul)
		f.op(opI32Add)
		f.set(mp)
		f.get(co)
		f.get(oplane)
		f.op(opI32Mul)
		f.tee(rb)
		f.get(out)
		f.op(opI32Add)
		f.set(ob)
		f.sum(rb, res)
		f.set(rb)
		f.get(bias)
		f.get(co)
		f.shl(2)
		f.op(opI32Add)
		f.simdMem(v128Load32Splt, 2, 0)
		f.set(bv)
		f.forRange(g, ngroups, 1, func() {
			// At down the columns: s0 = m0+m1+m2, s1 = m1-m2-m3.
			f.get(mp)
			f.get(g)
			f.shl(4)
			f.op(opI32Add)
			f.set(gp)
			for j := range int32(4) {
				ld := func(i int32) { f.at(gp, mplane, 4*i+j); f.simdMem(v128Load, 2, 0) }
				ld(1)
				ld(2)
				f.simd(f32x4Sub)
				f.set(x) // m1-m2
				ld(0)
				ld(1)
				f.simd(f32x4Add)
				ld(2)
				f.simd(f32x4Add)
				f.set(s0[j])
				f.get(x)
				ld(3)
				f.simd(f32x4Sub)
				f.set(s1[j])
			}
			// One output row r from s: column 0 = s0+s1+s2 + bias,
			// column 1 = s1-s2-s3 + bias, interleaved, plus res.
			outRow := func(s []uint32, r int32) {
				f.get(s[0])
				f.get(s[1])
				f.simd(f32x4Add)
				f.get(s[2])
				f.simd(f32x4Add)
				f.get(bv)
				f.simd(f32x4Add)
				f.set(x)
				f.get(s[1])
				f.get(s[2])
				f.simd(f32x4Sub)
				f.get(s[3])
				f.simd(f32x4Sub)
				f.get(bv)
				f.simd(f32x4Add)
				f.set(y)
				for h, l := range [][4]byte{{0, 4, 1, 5}, {2, 6, 3, 7}} {
					// at base + r*ostride + 32g + 16h
					addr := func(base uint32) {
						f.at(base, ostride, r)
						f.get(g)
						f.shl(5)
						f.op(opI32Add)
					}
					f.get(x)
					f.get(y)
					f.shuffle(l)
					f.set(z)
					f.get(res)
					f.if_()
					f.accV(z, f32x4Add, func() { addr(rb); f.simdMem(v128Load, 2, uint32(16*h)) })
					f.end()
					addr(ob)
					f.get(z)
					f.simdMem(v128Store, 2, uint32(16*h))
				}
			}
			outRow(s0, 0)
			f.get(rows)
			f.i32(2)
			f.op(opI32GeS)
			f.if_()
			outRow(s1, 1)
			f.end()
		})
	})
	return f
}
