package main

import (
	"bytes"
	"encoding/binary"
	"math"
)

// Value types and the opcodes the kernels use (WebAssembly 2.0 core, SIMD128
// and the relaxed-SIMD proposal). Only what is emitted is listed.
const (
	tI32  = 0x7f
	tF32  = 0x7d
	tF64  = 0x7c
	tV128 = 0x7b

	opBlock = 0x02
	opLoop  = 0x03
	opIf    = 0x04
	opElse  = 0x05
	opEnd   = 0x0b
	opBr    = 0x0c
	opBrIf  = 0x0d

	opLocalGet = 0x20
	opLocalSet = 0x21
	opLocalTee = 0x22

	opI32Load  = 0x28
	opF32Load  = 0x2a
	opF32Store = 0x38

	opI32Const = 0x41
	opF32Const = 0x43

	opI32LtS = 0x48
	opI32LtU = 0x49
	opI32GeS = 0x4e
	opI32GeU = 0x4f

	opI32Add = 0x6a
	opI32Sub = 0x6b
	opI32Mul = 0x6c
	opI32Shl = 0x74

	opF32Add = 0x92
	opF32Max = 0x97
	opF64Add = 0xa0

	simdPrefix = 0xfd
	// SIMD128 opcodes (after the 0xfd prefix, LEB128 encoded).
	v128Load       = 0x00
	v128Load32Splt = 0x09
	v128Store      = 0x0b
	v128Const      = 0x0c
	i32x4Splat     = 0x11
	f32x4Splat     = 0x13
	f64x2Splat     = 0x14
	f32x4ExtractL  = 0x1f
	f64x2ExtractL  = 0x21
	v128Load64Z    = 0x5d
	f64x2Promote   = 0x5f
	f32x4Floor     = 0x68
	i32x4Shl       = 0xab
	i32x4Add       = 0xae
	f32x4Add       = 0xe4
	f32x4Sub       = 0xe5
	f32x4Mul       = 0xe6
	f32x4Div       = 0xe7
	f32x4Max       = 0xe9
	f32x4Pmin      = 0xea
	f32x4Pmax      = 0xeb
	f64x2Add       = 0xf0
	f64x2Sub       = 0xf1
	f64x2Mul       = 0xf2
	i32x4TruncSatS = 0xf8
	f32x4RelMadd   = 0x105 // relaxed SIMD: a*b+c, fused or not as the CPU does it
)

func uleb(b *bytes.Buffer, v uint64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v != 0 {
			c |= 0x80
		}
		b.WriteByte(c)
		if v == 0 {
			return
		}
	}
}

func sleb(b *bytes.Buffer, v int64) {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		done := (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0)
		if !done {
			c |= 0x80
		}
		b.WriteByte(c)
		if done {
			return
		}
	}
}

// fn is one function body under construction. Locals are numbered after
// the parameters; each helper appends one instruction.
type fn struct {
	name    string
	params  []byte
	results []byte
	locals  []byte
	code    bytes.Buffer
	depth   int // open blocks, to check that the body is balanced
}

func newFn(name string, params, results []byte) *fn {
	return &fn{name: name, params: params, results: results}
}

// local adds a local of type t and returns its index.
func (f *fn) local(t byte) uint32 {
	f.locals = append(f.locals, t)
	return uint32(len(f.params) + len(f.locals) - 1)
}

// vlocals adds n v128 locals.
func (f *fn) vlocals(n int) []uint32 {
	vs := make([]uint32, n)
	for i := range vs {
		vs[i] = f.local(tV128)
	}
	return vs
}

func (f *fn) op(b ...byte) { f.code.Write(b) }

func (f *fn) get(i uint32) { f.op(opLocalGet); uleb(&f.code, uint64(i)) }
func (f *fn) set(i uint32) { f.op(opLocalSet); uleb(&f.code, uint64(i)) }
func (f *fn) tee(i uint32) { f.op(opLocalTee); uleb(&f.code, uint64(i)) }

func (f *fn) i32(v int32) { f.op(opI32Const); sleb(&f.code, int64(v)) }

func (f *fn) f32(v float32) {
	f.op(opF32Const)
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
	f.code.Write(b[:])
}

// mem emits a memory instruction with its alignment (log2 bytes) and
// constant byte offset.
func (f *fn) mem(op byte, align, off uint32) {
	f.op(op)
	uleb(&f.code, uint64(align))
	uleb(&f.code, uint64(off))
}

func (f *fn) simd(op uint32) {
	f.op(simdPrefix)
	uleb(&f.code, uint64(op))
}

func (f *fn) simdMem(op, align, off uint32) {
	f.simd(op)
	uleb(&f.code, uint64(align))
	uleb(&f.code, uint64(off))
}

func (f *fn) v128Zero() {
	f.simd(v128Const)
	f.code.Write(make([]byte, 16))
}

// Structured control flow; blocks have no results.
func (f *fn) block() { f.op(opBlock, 0x40); f.depth++ }
func (f *fn) loop()  { f.op(opLoop, 0x40); f.depth++ }
func (f *fn) if_()   { f.op(opIf, 0x40); f.depth++ }
func (f *fn) else_() { f.op(opElse) }
func (f *fn) end()   { f.op(opEnd); f.depth-- }
func (f *fn) br(d uint32) {
	f.op(opBr)
	uleb(&f.code, uint64(d))
}
func (f *fn) brIf(d uint32) {
	f.op(opBrIf)
	uleb(&f.code, uint64(d))
}

// addTo emits local i += c (i32).
func (f *fn) addTo(i uint32, c int32) {
	f.get(i)
	f.i32(c)
	f.op(opI32Add)
	f.set(i)
}

// mov emits dst = src.
func (f *fn) mov(dst, src uint32) { f.get(src); f.set(dst) }

// shl emits i32.shl by the constant k.
func (f *fn) shl(k int32) { f.i32(k); f.op(opI32Shl) }

// sum pushes the i32 a + b.
func (f *fn) sum(a, b uint32) { f.get(a); f.get(b); f.op(opI32Add) }

// diff emits dst = a - b (i32).
func (f *fn) diff(dst, a, b uint32) { f.get(a); f.get(b); f.op(opI32Sub); f.set(dst) }

// index emits dst = base + i*stride (i32 locals).
func (f *fn) index(dst, base, i, stride uint32) {
	f.get(base)
	f.get(i)
	f.get(stride)
	f.op(opI32Mul)
	f.op(opI32Add)
	f.set(dst)
}

// outAndRes sets ob = out + off and rb = res + off for the i32 offset on
// the stack: where a kernel writes and where it reads the residual.
func (f *fn) outAndRes(ob, rb, out, res uint32) {
	f.tee(rb)
	f.get(out)
	f.op(opI32Add)
	f.set(ob)
	f.sum(rb, res)
	f.set(rb)
}

// load pushes the vector at p + off; loadAt the one at a + b + off.
func (f *fn) load(p, off uint32)      { f.get(p); f.simdMem(v128Load, 2, off) }
func (f *fn) loadAt(a, b, off uint32) { f.sum(a, b); f.simdMem(v128Load, 2, off) }

// put stores the vector push leaves at p + off; store the v128 local v.
func (f *fn) put(p, off uint32, push func()) { f.get(p); push(); f.simdMem(v128Store, 2, off) }
func (f *fn) store(p, v, off uint32)         { f.put(p, off, func() { f.get(v) }) }

// zero sets the v128 locals to 0.
func (f *fn) zero(vs ...uint32) {
	for _, v := range vs {
		f.v128Zero()
		f.set(v)
	}
}

// splat emits the v128 local dst = f32x4.splat(the f32 local src).
func (f *fn) splat(dst, src uint32) { f.get(src); f.simd(f32x4Splat); f.set(dst) }

// accV emits acc = acc op x, x pushed by push (v128 locals, SIMD op);
// update the same for the vector at p.
func (f *fn) accV(acc uint32, op uint32, push func()) {
	f.get(acc)
	push()
	f.simd(op)
	f.set(acc)
}
func (f *fn) update(p uint32, op uint32, push func()) {
	f.put(p, 0, func() {
		f.load(p, 0)
		push()
		f.simd(op)
	})
}

// module assembles functions into a binary module that imports its memory
// as env.mem and exports every function under its name.
func module(fns []*fn) []byte {
	var m bytes.Buffer
	m.Write([]byte{0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00})
	section := func(id byte, body func(b *bytes.Buffer)) {
		var b bytes.Buffer
		body(&b)
		m.WriteByte(id)
		uleb(&m, uint64(b.Len()))
		m.Write(b.Bytes())
	}
	name := func(b *bytes.Buffer, s string) {
		uleb(b, uint64(len(s)))
		b.WriteString(s)
	}
	section(1, func(b *bytes.Buffer) { // types: one per function
		uleb(b, uint64(len(fns)))
		for _, f := range fns {
			b.WriteByte(0x60)
			uleb(b, uint64(len(f.params)))
			b.Write(f.params)
			uleb(b, uint64(len(f.results)))
			b.Write(f.results)
		}
	})
	section(2, func(b *bytes.Buffer) { // imports: the caller's memory
		uleb(b, 1)
		name(b, "env")
		name(b, "mem")
		b.WriteByte(0x02) // memory
		b.WriteByte(0x00) // limits: a minimum only
		uleb(b, 0)
	})
	section(3, func(b *bytes.Buffer) {
		uleb(b, uint64(len(fns)))
		for i := range fns {
			uleb(b, uint64(i))
		}
	})
	section(7, func(b *bytes.Buffer) {
		uleb(b, uint64(len(fns)))
		for i, f := range fns {
			name(b, f.name)
			b.WriteByte(0x00) // function
			uleb(b, uint64(i))
		}
	})
	section(10, func(b *bytes.Buffer) {
		uleb(b, uint64(len(fns)))
		for _, f := range fns {
			if f.depth != 0 {
				panic("wasmsimd: unbalanced blocks in " + f.name)
			}
			var body bytes.Buffer
			// Locals in runs of one type.
			var runs [][2]uint64
			for _, t := range f.locals {
				if n := len(runs); n > 0 && runs[n-1][1] == uint64(t) {
					runs[n-1][0]++
				} else {
					runs = append(runs, [2]uint64{1, uint64(t)})
				}
			}
			uleb(&body, uint64(len(runs)))
			for _, r := range runs {
				uleb(&body, r[0])
				body.WriteByte(byte(r[1]))
			}
			body.Write(f.code.Bytes())
			body.WriteByte(opEnd)
			uleb(b, uint64(body.Len()))
			b.Write(body.Bytes())
		}
	})
	return m.Bytes()
}

// lane emits f32x4.extract_lane l.
func (f *fn) lane(l byte) {
	f.simd(f32x4ExtractL)
	f.op(l)
}

// loopUntil emits `for ; p < end; p += step { body }` over byte pointers
// (i32 locals, unsigned compare).
func (f *fn) loopUntil(p, end uint32, step int32, body func()) {
	f.loopCmp(p, end, opI32GeU, step, body)
}

// forPtr emits `for p = start; p < end; p += step { body }` (bytes).
func (f *fn) forPtr(p, start, end uint32, step int32, body func()) {
	f.mov(p, start)
	f.loopUntil(p, end, step, body)
}

// forRange emits `for i = 0; i < n; i += step { body }` (signed counts).
func (f *fn) forRange(i, n uint32, step int32, body func()) {
	f.i32(0)
	f.set(i)
	f.loopCmp(i, n, opI32GeS, step, body)
}

// loopCmp is the loop of loopUntil and forRange: it leaves when i ge n.
func (f *fn) loopCmp(i, n uint32, ge byte, step int32, body func()) {
	f.block()
	f.loop()
	f.get(i)
	f.get(n)
	f.op(ge)
	f.brIf(1)
	body()
	f.addTo(i, step)
	f.br(0)
	f.end()
	f.end()
}

// endPtr sets e = p + 4*n (n a count of floats).
func (f *fn) endPtr(e, p, n uint32) {
	f.get(p)
	f.get(n)
	f.shl(2)
	f.op(opI32Add)
	f.set(e)
}

// splatF emits f32x4.splat of the f32 constant v.
func (f *fn) splatF(v float32) {
	f.f32(v)
	f.simd(f32x4Splat)
}

// maddL emits acc = a*b + acc for locals (a, b, acc are v128 locals; a or
// b may instead be pushed by the given emitters).
func (f *fn) maddL(relaxed bool, acc uint32, a, b func()) {
	if relaxed {
		a()
		b()
		f.get(acc)
		f.simd(f32x4RelMadd)
	} else {
		f.get(acc)
		a()
		b()
		f.simd(f32x4Mul)
		f.simd(f32x4Add)
	}
	f.set(acc)
}

// expV replaces the v128 local x by exp(x), lane-wise: x clamped to
// [-87.3, 88.3] (so exp(-100) is 1.2e-38, not 0, and exp(100) 2.2e38, not
// +Inf: the softmaxes and SiLU cannot tell), Cephes-style range reduction,
// e^r = 1 + r + r²·q(r) with q a cubic fitted for relative error on
// |r| <= ln2/2 (1.8e-7 at most, evaluated in float32; runtime/backend/cpu's
// portable expf takes a degree-7 one, whose extra accuracy float32 cannot
// hold), and 2^n put together in the exponent bits. t1, t2 are v128
// scratch locals.
func (f *fn) expV(x, t1, t2 uint32) {
	const (
		log2e = 1.44269504088896341
		c1    = 0.693359375
		c2    = -2.12194440e-4
	)
	// x = pmin(pmax(x, lo), hi): one instruction each, where min and max
	// take several (they order NaN and ±0).
	f.get(x)
	f.splatF(-87.3)
	f.simd(f32x4Pmax)
	f.splatF(88.3)
	f.simd(f32x4Pmin)
	f.set(x)
	// t1 = n = floor(x*log2e + 0.5)
	f.get(x)
	f.splatF(log2e)
	f.simd(f32x4Mul)
	f.splatF(0.5)
	f.simd(f32x4Add)
	f.simd(f32x4Floor)
	f.set(t1)
	// t2 = r = x - n*c1 - n*c2
	f.get(x)
	f.get(t1)
	f.splatF(c1)
	f.simd(f32x4Mul)
	f.simd(f32x4Sub)
	f.get(t1)
	f.splatF(c2)
	f.simd(f32x4Mul)
	f.simd(f32x4Sub)
	f.set(t2)
	// q = ((q3*r + q2)*r + q1)*r + q0, left on the stack
	f.splatF(8.31249e-3)
	for _, c := range []float32{4.189006e-2, 1.6667115e-1, 4.9999232e-1} {
		f.get(t2)
		f.simd(f32x4Mul)
		f.splatF(c)
		f.simd(f32x4Add)
	}
	// y = q*r*r + r + 1
	f.get(t2)
	f.simd(f32x4Mul)
	f.get(t2)
	f.simd(f32x4Mul)
	f.get(t2)
	f.simd(f32x4Add)
	f.splatF(1)
	f.simd(f32x4Add)
	// * 2^n: (int(n) + 127) << 23 as float bits
	f.get(t1)
	f.simd(i32x4TruncSatS)
	f.i32(127)
	f.simd(i32x4Splat)
	f.simd(i32x4Add)
	f.i32(23)
	f.simd(i32x4Shl)
	f.simd(f32x4Mul)
	f.set(x)
}
