package main

// The vector helpers of runtime/backend/cpu (vec_generic.go names them),
// and two whole loops of its linear attention. Counts are in floats and
// must be multiples of the vector width each kernel states (the Go side
// does the tails); pointers and strides are in bytes.

func i32s(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = tI32
	}
	return b
}

// reduce leaves op (f32 add or max) over the four lanes of v on the stack,
// as (l0 op l1) op (l2 op l3).
func (f *fn) reduce(v uint32, op byte) {
	for l := range byte(4) {
		f.get(v)
		f.lane(l)
		if l%2 == 1 {
			f.op(op)
		}
	}
	f.op(op)
}

// dot4(k, v, vstride, ne, n, out, ostride): for each e < ne (a multiple of
// 4), out[e*ostride] += Σ_i<n k[i]·v[e*vstride + i], n a multiple of 4.
// Four rows of v at a time share the loads of k.
func dot4(relaxed bool) *fn {
	const k, v, vstride, ne, n, out, ostride = 0, 1, 2, 3, 4, 5, 6 // the parameters
	f := newFn("dot4", i32s(7), nil)
	e, kp, kEnd, vp, op := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	acc := f.vlocals(4)
	kv := f.local(tV128)
	f.endPtr(kEnd, k, n)
	f.forRange(e, ne, 4, func() {
		f.zero(acc...)
		// vp = v + e*vstride - k, so that row j's element is at kp + vp + j*vstride
		f.get(v)
		f.get(e)
		f.get(vstride)
		f.op(opI32Mul)
		f.op(opI32Add)
		f.get(k)
		f.op(opI32Sub)
		f.set(vp)
		f.forPtr(kp, k, kEnd, 16, func() {
			f.load(kp, 0)
			f.set(kv)
			for j, a := range acc {
				f.maddL(relaxed, a, func() { f.get(kv) }, func() {
					f.sum(kp, vp)
					if j > 0 {
						f.get(vstride)
						f.i32(int32(j))
						f.op(opI32Mul)
						f.op(opI32Add)
					}
					f.simdMem(v128Load, 2, 0)
				})
			}
		})
		for j, a := range acc {
			// op = out + (e+j)*ostride; *op += the sum of acc j's lanes
			f.get(out)
			f.get(e)
			f.i32(int32(j))
			f.op(opI32Add)
			f.get(ostride)
			f.op(opI32Mul)
			f.op(opI32Add)
			f.tee(op)
			f.get(op)
			f.mem(opF32Load, 2, 0)
			f.reduce(a, opF32Add)
			f.op(opF32Add)
			f.mem(opF32Store, 2, 0)
		}
	})
	return f
}

// gemvt(dst, c, nc, x, stride, n): dst[i] += Σ_k<nc c[k]·x[k*stride + i]
// for i < n, a multiple of 16: four vectors of dst stay in registers
// across the nc rows.
func gemvt(relaxed bool) *fn {
	const dst, c, nc, x, stride, n = 0, 1, 2, 3, 4, 5 // the parameters
	f := newFn("gemvt", i32s(6), nil)
	dp, dEnd, xp, cp, cEnd := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	s := f.vlocals(4)
	ck := f.local(tV128)
	f.endPtr(dEnd, dst, n)
	f.endPtr(cEnd, c, nc)
	f.forPtr(dp, dst, dEnd, 64, func() {
		for j, a := range s {
			f.load(dp, uint32(16*j))
			f.set(a)
		}
		// xp = x + (dp - dst)
		f.get(x)
		f.get(dp)
		f.get(dst)
		f.op(opI32Sub)
		f.op(opI32Add)
		f.set(xp)
		f.forPtr(cp, c, cEnd, 4, func() {
			f.get(cp)
			f.simdMem(v128Load32Splt, 2, 0)
			f.set(ck)
			for j, a := range s {
				f.maddL(relaxed, a, func() { f.get(ck) }, func() { f.load(xp, uint32(16*j)) })
			}
			f.sum(xp, stride)
			f.set(xp)
		})
		for j, a := range s {
			f.store(dp, a, uint32(16*j))
		}
	})
	return f
}

// expsub(x, n, m f32) f32: x[i] = exp(x[i]-m), returning their sum; n a
// multiple of 4.
func expsub() *fn {
	f := newFn("expsub", []byte{tI32, tI32, tF32}, []byte{tF32})
	const x, n, m = 0, 1, 2 // the parameters
	p, end := f.local(tI32), f.local(tI32)
	v, mv, sum, t1, t2 := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	f.endPtr(end, x, n)
	f.splat(mv, m)
	f.zero(sum)
	f.forPtr(p, x, end, 16, func() {
		f.load(p, 0)
		f.get(mv)
		f.simd(f32x4Sub)
		f.set(v)
		f.expV(v, t1, t2)
		f.store(p, v, 0)
		f.accV(sum, f32x4Add, func() { f.get(v) })
	})
	f.reduce(sum, opF32Add)
	return f
}

// expsubacc(x, m, s, n): x[i] = exp(x[i]-m[i]); s[i] += x[i]; n a
// multiple of 4.
func expsubacc() *fn {
	f := newFn("expsubacc", i32s(4), nil)
	const x, m, s, n = 0, 1, 2, 3 // the parameters
	p, end, off := f.local(tI32), f.local(tI32), f.local(tI32)
	v, t1, t2 := f.local(tV128), f.local(tV128), f.local(tV128)
	f.endPtr(end, x, n)
	f.forPtr(p, x, end, 16, func() {
		f.diff(off, p, x)
		f.load(p, 0)
		f.loadAt(m, off, 0)
		f.simd(f32x4Sub)
		f.set(v)
		f.expV(v, t1, t2)
		f.store(p, v, 0)
		// off becomes the address in s
		f.sum(s, off)
		f.tee(off)
		f.load(off, 0)
		f.get(v)
		f.simd(f32x4Add)
		f.simdMem(v128Store, 2, 0)
	})
	return f
}

// elementwise emits name(a, b, n): a[i] = a[i] op b[i], n a multiple of 4.
func elementwise(name string, op uint32) *fn {
	f := newFn(name, i32s(3), nil)
	const a, b, n = 0, 1, 2 // the parameters
	p, end := f.local(tI32), f.local(tI32)
	f.endPtr(end, a, n)
	f.forPtr(p, a, end, 16, func() {
		f.update(p, op, func() {
			// b + (p - a)
			f.get(b)
			f.get(p)
			f.get(a)
			f.op(opI32Sub)
			f.op(opI32Add)
			f.simdMem(v128Load, 2, 0)
		})
	})
	return f
}

// maxof(x, n) f32: the largest of x[0..n), n a positive multiple of 4.
func maxof() *fn {
	f := newFn("maxof", i32s(2), []byte{tF32})
	const x, n = 0, 1 // the parameters
	p, end := f.local(tI32), f.local(tI32)
	m := f.local(tV128)
	f.endPtr(end, x, n)
	f.load(x, 0)
	f.set(m)
	f.forPtr(p, x, end, 16, func() {
		f.accV(m, f32x4Max, func() { f.load(p, 0) })
	})
	f.reduce(m, opF32Max)
	return f
}

// scale(x, n, s f32): x[i] *= s, n a multiple of 4.
func scale() *fn {
	f := newFn("scale", []byte{tI32, tI32, tF32}, nil)
	const x, n, s = 0, 1, 2 // the parameters
	p, end := f.local(tI32), f.local(tI32)
	sv := f.local(tV128)
	f.endPtr(end, x, n)
	f.splat(sv, s)
	f.forPtr(p, x, end, 16, func() {
		f.update(p, f32x4Mul, func() { f.get(sv) })
	})
	return f
}

// affine(dst, src, res, n, a f32, b f32, silu i32): dst[i] = src[i]·a + b,
// through SiLU (v/(1+exp(-v))) when silu is not 0, plus res[i] when res
// is not 0; n a multiple of 4.
func affine() *fn {
	f := newFn("affine", []byte{tI32, tI32, tI32, tI32, tF32, tF32, tI32}, nil)
	const dst, src, res, n, a, b, silu = 0, 1, 2, 3, 4, 5, 6 // the parameters
	p, end, off := f.local(tI32), f.local(tI32), f.local(tI32)
	av, bv, v, e, t1, t2 := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	f.endPtr(end, dst, n)
	f.splat(av, a)
	f.splat(bv, b)
	f.forPtr(p, dst, end, 16, func() {
		f.diff(off, p, dst)
		f.loadAt(src, off, 0)
		f.get(av)
		f.simd(f32x4Mul)
		f.get(bv)
		f.simd(f32x4Add)
		f.set(v)
		f.get(silu)
		f.if_()
		// v / (1 + exp(-v))
		f.v128Zero()
		f.get(v)
		f.simd(f32x4Sub)
		f.set(e)
		f.expV(e, t1, t2)
		f.get(v)
		f.splatF(1)
		f.get(e)
		f.simd(f32x4Add)
		f.simd(f32x4Div)
		f.set(v)
		f.end()
		f.get(res)
		f.if_()
		f.accV(v, f32x4Add, func() { f.loadAt(res, off, 0) })
		f.end()
		f.store(p, v, 0)
	})
	return f
}

// dot(x, y, n) f32: Σ x[i]·y[i], n a multiple of 8, in two vectors of
// partial sums (lanes i%8), added up as ((s0+s1)+(s2+s3))+((s4+s5)+(s6+s7))
// like the portable dot.
func dot(relaxed bool) *fn {
	f := newFn("dot", i32s(3), []byte{tF32})
	const x, y, n = 0, 1, 2 // the parameters
	p, end, d := f.local(tI32), f.local(tI32), f.local(tI32)
	s0, s1 := f.local(tV128), f.local(tV128)
	f.endPtr(end, x, n)
	f.diff(d, y, x)
	f.zero(s0, s1)
	f.forPtr(p, x, end, 32, func() {
		for j, s := range []uint32{s0, s1} {
			off := uint32(16 * j)
			f.maddL(relaxed, s, func() { f.load(p, off) }, func() { f.loadAt(p, d, off) })
		}
	})
	f.reduce(s0, opF32Add)
	f.reduce(s1, opF32Add)
	f.op(opF32Add)
	return f
}

// stat64(x, n, mean f64, dev i32) f64: Σ float64(x[i]), or with dev not 0
// Σ (float64(x[i]) - mean)², n a multiple of 4: group norm's statistics,
// in float64 as the portable code has them. Two floats at a time are
// widened to an f64x2; two sums hide the add latency.
func stat64() *fn {
	f := newFn("stat64", []byte{tI32, tI32, tF64, tI32}, []byte{tF64})
	const x, n, mean, dev = 0, 1, 2, 3 // the parameters
	p, end := f.local(tI32), f.local(tI32)
	mv, a0, a1, d := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	f.endPtr(end, x, n)
	f.get(mean)
	f.simd(f64x2Splat)
	f.set(mv)
	f.zero(a0, a1)
	f.mov(p, x)
	// One loop with the squared deviation and one without, so that
	// neither branches per element.
	loop := func(sq bool) {
		f.loopUntil(p, end, 16, func() {
			for j, a := range []uint32{a0, a1} {
				f.get(p)
				f.simdMem(v128Load64Z, 3, uint32(8*j))
				f.simd(f64x2Promote)
				if sq {
					f.get(mv)
					f.simd(f64x2Sub)
					f.tee(d)
					f.get(d)
					f.simd(f64x2Mul)
				}
				f.get(a)
				f.simd(f64x2Add)
				f.set(a)
			}
		})
	}
	f.get(dev)
	f.if_()
	loop(true)
	f.else_()
	loop(false)
	f.end()
	f.accV(a0, f64x2Add, func() { f.get(a1) })
	f.get(a0)
	f.simd(f64x2ExtractL)
	f.op(0)
	f.get(a0)
	f.simd(f64x2ExtractL)
	f.op(1)
	f.op(opF64Add)
	return f
}

// sqdevacc(acc, x, mean, n): acc[i] += (x[i]-mean[i])², n a multiple of 4
// (layer norm's variance over channels, per pixel).
func sqdevacc() *fn {
	f := newFn("sqdevacc", i32s(4), nil)
	const acc, x, mean, n = 0, 1, 2, 3 // the parameters
	p, end, off := f.local(tI32), f.local(tI32), f.local(tI32)
	d := f.local(tV128)
	f.endPtr(end, acc, n)
	f.forPtr(p, acc, end, 16, func() {
		f.diff(off, p, acc)
		f.loadAt(x, off, 0)
		f.loadAt(mean, off, 0)
		f.simd(f32x4Sub)
		f.set(d)
		f.update(p, f32x4Add, func() {
			f.get(d)
			f.get(d)
			f.simd(f32x4Mul)
		})
	})
	return f
}

// lnapply(dst, src, mean, inv, n, g f32): dst[i] = (src[i]-mean[i])·inv[i]·g,
// n a multiple of 4 (layer norm's output for one channel).
func lnapply() *fn {
	f := newFn("lnapply", []byte{tI32, tI32, tI32, tI32, tI32, tF32}, nil)
	const dst, src, mean, inv, n, g = 0, 1, 2, 3, 4, 5 // the parameters
	p, end, off := f.local(tI32), f.local(tI32), f.local(tI32)
	gv := f.local(tV128)
	f.endPtr(end, dst, n)
	f.splat(gv, g)
	f.forPtr(p, dst, end, 16, func() {
		f.diff(off, p, dst)
		f.put(p, 0, func() {
			f.loadAt(src, off, 0)
			f.loadAt(mean, off, 0)
			f.simd(f32x4Sub)
			f.loadAt(inv, off, 0)
			f.simd(f32x4Mul)
			f.get(gv)
			f.simd(f32x4Mul)
		})
	})
	return f
}
