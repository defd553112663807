package main

// Vector width of the convolution kernel: output pixels per chunk, two
// f32x4 vectors. runtime/backend/cpu stages its input rows in whole chunks
// of this many pixels (its convSIMD128 chunk).
const ConvChunk = 8

// conv emits the convolution micro-kernel, the SIMD128 twin of
// runtime/backend/cpu's convArgs.generic:
//
//	conv(src, offs, ntaps, w, wstride, nb, cout, out, plane, nx, bias, res, scratch)
//
// All arguments are i32; pointers are byte addresses in the shared memory.
// For each block b < nb of 4 output channels and each chunk of 8 output
// pixels x < nx, it sums over the taps t < ntaps
//
//	w[b*wstride + 16t + 4c] (a float) * src[offs[t] + 4x ... +8 floats]
//
// (offs holds i32 byte offsets), then finishes output channel co = 4b+c
// (skipped when co >= cout) at out + co*plane + 4x: bias (when not 0: 4
// floats per block) or the value already there, plus res at the same
// offsets when res is not 0. A last chunk of fewer than 8 pixels goes
// through scratch (32 bytes) and is written pixel by pixel, so nothing
// beyond nx is written. wstride and plane are in bytes.
//
// The 8 accumulators, two input vectors and a broadcast weight are 11 of
// the 16 vector registers of x86-64 (V8 keeps one as scratch), so the tap
// loop runs without spills. With relaxed, the multiply-add is
// f32x4.relaxed_madd (one FMA where the CPU has it).
func conv(relaxed bool) *fn {
	// The parameters, and how many.
	const src, offs, ntaps, w, wstride, nb, cout = 0, 1, 2, 3, 4, 5, 6
	const out, plane, nx, bias, res, scratch, nparams = 7, 8, 9, 10, 11, 12, 13
	f := newFn("conv", i32s(nparams), nil)
	b, x, sp, op, opEnd, wp, p, n, co, ob, rb, i := f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32),
		f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32), f.local(tI32)
	acc := f.vlocals(8)
	v0, v1, wc, r0, r1 := f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128), f.local(tV128)
	s := f.local(tF32)

	// taps sums block b's taps for the chunk at x into acc.
	taps := func() {
		// sp = src + 4x; wp = w + b*wstride; op = offs
		f.get(src)
		f.get(x)
		f.shl(2)
		f.op(opI32Add)
		f.set(sp)
		f.index(wp, w, b, wstride)
		f.mov(op, offs)
		// The tap loop (ntaps >= 1, checked by the caller).
		f.loop()
		f.get(sp)
		f.get(op)
		f.mem(opI32Load, 2, 0)
		f.op(opI32Add)
		f.tee(p)
		f.simdMem(v128Load, 2, 0)
		f.set(v0)
		f.load(p, 16)
		f.set(v1)
		for c := range 4 {
			f.get(wp)
			f.simdMem(v128Load32Splt, 2, uint32(4*c))
			f.set(wc)
			for k, v := range []uint32{v0, v1} {
				f.maddL(relaxed, acc[2*c+k], func() { f.get(wc) }, func() { f.get(v) })
			}
		}
		f.addTo(wp, 16)
		f.get(op)
		f.i32(4)
		f.op(opI32Add)
		f.tee(op)
		f.get(opEnd)
		f.op(opI32LtU)
		f.brIf(0)
		f.end()
	}

	// biasAt pushes the address of block b's 4 biases.
	biasAt := func() {
		f.get(bias)
		f.get(b)
		f.shl(4)
		f.op(opI32Add)
	}
	// addR adds the vectors push(0) and push(16) to r0 and r1.
	addR := func(push func(off uint32)) {
		for k, r := range []uint32{r0, r1} {
			f.accV(r, f32x4Add, func() { push(uint32(16 * k)) })
		}
	}
	// addS adds the float push leaves to s.
	addS := func(push func()) {
		f.get(s)
		push()
		f.op(opF32Add)
		f.set(s)
	}
	// finish writes output channel co = 4b+c of the chunk from acc: bias
	// (or what is there) plus res; nothing when co >= cout.
	finish := func(c int) {
		f.get(b)
		f.shl(2)
		f.i32(int32(c))
		f.op(opI32Add)
		f.tee(co)
		f.get(cout)
		f.op(opI32LtS)
		f.if_()
		// ob = out + co*plane + 4x, rb likewise from res
		f.get(co)
		f.get(plane)
		f.op(opI32Mul)
		f.get(x)
		f.shl(2)
		f.op(opI32Add)
		f.outAndRes(ob, rb, out, res)

		f.get(n)
		f.i32(ConvChunk)
		f.op(opI32GeS)
		f.if_() // a whole chunk: vector stores
		f.mov(r0, acc[2*c])
		f.mov(r1, acc[2*c+1])
		f.get(bias)
		f.if_()
		biasAt()
		f.simdMem(v128Load32Splt, 2, uint32(4*c))
		f.set(wc)
		addR(func(uint32) { f.get(wc) })
		f.else_()
		addR(func(off uint32) { f.load(ob, off) })
		f.end()
		f.get(res)
		f.if_()
		addR(func(off uint32) { f.load(rb, off) })
		f.end()
		f.store(ob, r0, 0)
		f.store(ob, r1, 16)

		f.else_() // the row's last, partial chunk: through scratch
		f.store(scratch, acc[2*c], 0)
		f.store(scratch, acc[2*c+1], 16)
		// i runs over the remaining pixels' byte offsets: 0, 4, ... 4(n-1)
		f.i32(0)
		f.set(i)
		f.loop()
		f.sum(scratch, i)
		f.mem(opF32Load, 2, 0)
		f.set(s)
		f.get(bias)
		f.if_()
		addS(func() { biasAt(); f.mem(opF32Load, 2, uint32(4*c)) })
		f.else_()
		addS(func() { f.sum(ob, i); f.mem(opF32Load, 2, 0) })
		f.end()
		f.get(res)
		f.if_()
		addS(func() { f.sum(rb, i); f.mem(opF32Load, 2, 0) })
		f.end()
		f.sum(ob, i)
		f.get(s)
		f.mem(opF32Store, 2, 0)
		f.get(i)
		f.i32(4)
		f.op(opI32Add)
		f.tee(i)
		f.get(n)
		f.shl(2)
		f.op(opI32LtS)
		f.brIf(0)
		f.end() // pixel loop
		f.end() // whole or partial chunk
		f.end() // co < cout
	}

	f.endPtr(opEnd, offs, ntaps)
	// Chunks outside, blocks of output channels inside: a chunk's taps
	// (at most a few KiB of the staged rows) stay in the L1 cache while
	// every block's weights stream through; the other way round, each
	// block re-read the whole staged tile from L2 (the 1x1 layers ran at
	// half the speed of the 3x3 ones).
	f.forRange(x, nx, ConvChunk, func() {
		f.forRange(b, nb, 1, func() {
			f.zero(acc...)
			taps()
			f.diff(n, nx, x) // pixels left in this chunk's row
			for c := range 4 {
				finish(c)
			}
		})
	})
	return f
}
