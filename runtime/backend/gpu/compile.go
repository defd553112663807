package gpu

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/weights"
	"github.com/diffuir-web/diffuir/shaders"
)

// refKind says which buffer of a program a binding uses.
type refKind uint8

const (
	refSlot     refKind = iota // activation slot idx
	refArena                   // weight arena idx, range off/size
	refParams                  // the params uniform buffer, range off/size
	refTime                    // the per-step time vector
	refScratchA                // groupnorm stats, linear-attention context partials
	refScratchB                // linear-attention context
)

type bufRef struct {
	kind      refKind
	idx       int
	off, size uint64 // size 0: the whole buffer
}

// bindPlan is one bind group: the buffers behind each binding of layout.
type bindPlan struct {
	layout []bindKind
	refs   []bufRef
}

type dispatchPlan struct {
	k       kernel
	bind    int
	x, y, z uint32
	label   string
}

type arenaWrite struct {
	arena int
	off   uint64
	data  []byte
}

// compiler lowers graph ops to dispatches and collects what Program.build
// uploads: weights (repacked per kernel) in arenas, one params block per op.
type compiler struct {
	b        *Backend
	g        *backend.Graph
	plan     *backend.MemoryPlan
	align    uint64 // buffer offset alignment for bindings
	pstride  uint64 // params block stride
	arenaMax uint64

	arenas    []uint64 // arena sizes, including uniform windows past the data
	arenaUsed []uint64 // end of the data in each arena
	writes    []arenaWrite
	params    []byte
	binds     []bindPlan
	steps     []dispatchPlan
	scratchA  uint64 // bytes
	scratchB  uint64
	kernels   []string // "label: variant", in op order
	variants  map[string]int
}

const paramBytes = 64 // binding size of a params block (every Params struct fits)

func alignUp(v, a uint64) uint64 { return (v + a - 1) / a * a }

func newCompiler(b *Backend, g *backend.Graph, plan *backend.MemoryPlan) *compiler {
	l := b.limits
	align := uint64(256)
	align = max(align, uint64(l.MinStorageBufferOffsetAlignment), uint64(l.MinUniformBufferOffsetAlignment))
	arenaMax := min(l.MaxBufferSize, 256<<20)
	return &compiler{b: b, g: g, plan: plan, align: align, pstride: align, arenaMax: arenaMax,
		variants: map[string]int{}}
}

func (c *compiler) slot(t backend.Tensor) bufRef {
	return bufRef{kind: refSlot, idx: c.plan.Slot[t.ID]}
}

// place puts data into a weight arena and returns its binding range; window
// is the binding size when it must exceed len(data) (uniform arrays). The
// window may run over the tensors placed after data: only the arena's end
// must cover it.
func (c *compiler) place(data []byte, window uint64) (bufRef, error) {
	size := uint64(len(data))
	bind := max(size, window)
	if bind > c.arenaMax {
		return bufRef{}, fmt.Errorf("%w: %d weight bytes in one binding, maxBufferSize %d", ErrLimits, bind, c.arenaMax)
	}
	a := len(c.arenas) - 1
	if a < 0 || alignUp(c.arenaUsed[a], c.align)+bind > c.arenaMax {
		c.arenas = append(c.arenas, 0)
		c.arenaUsed = append(c.arenaUsed, 0)
		a++
	}
	off := alignUp(c.arenaUsed[a], c.align)
	c.arenaUsed[a] = off + size
	c.arenas[a] = max(c.arenas[a], off+bind)
	c.writes = append(c.writes, arenaWrite{arena: a, off: off, data: data})
	return bufRef{kind: refArena, idx: a, off: off, size: bind}, nil
}

// paramBlock appends one op's uniform parameters (4-byte words).
func (c *compiler) paramBlock(words ...uint32) bufRef {
	off := uint64(len(c.params))
	blk := make([]byte, c.pstride)
	for i, w := range words {
		binary.LittleEndian.PutUint32(blk[4*i:], w)
	}
	c.params = append(c.params, blk...)
	return bufRef{kind: refParams, off: off, size: paramBytes}
}

func f32w(v float32) uint32 { return math.Float32bits(v) }

func b2u(v bool) uint32 {
	if v {
		return 1
	}
	return 0
}

func (c *compiler) bind(layout []bindKind, refs ...bufRef) int {
	c.binds = append(c.binds, bindPlan{layout: layout, refs: refs})
	return len(c.binds) - 1
}

func (c *compiler) dispatch(label string, k kernel, bind int, x, y, z int) error {
	lim := int(c.b.limits.MaxComputeWorkgroupsPerDimension)
	if x > lim || y > lim || z > lim {
		return fmt.Errorf("%w: %s needs %dx%dx%d workgroups, maxComputeWorkgroupsPerDimension %d", ErrLimits, k.entry, x, y, z, lim)
	}
	if x == 0 || y == 0 || z == 0 {
		return nil
	}
	c.steps = append(c.steps, dispatchPlan{k: k, bind: bind, x: uint32(x), y: uint32(y), z: uint32(z), label: label})
	return nil
}

func (c *compiler) note(label, variant string) {
	c.kernels = append(c.kernels, label+": "+variant)
	c.variants[variant]++
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

func (c *compiler) add(op backend.Op, w backend.Weights) error {
	switch o := op.(type) {
	case *backend.Conv:
		return c.conv(o, w, 0, o.Out.C)
	case *convPart:
		return c.conv(&o.Conv, w, o.off, o.total)
	case *backend.GroupNorm:
		return c.groupNorm(o, w)
	case *backend.LayerNorm:
		return c.layerNorm(o, w)
	case *attnQKV:
		if o.linear {
			return c.linearAttention(o)
		}
		return c.attention(o)
	}
	return fmt.Errorf("unsupported op %T", op)
}

// fold spreads groups workgroups over x and y, each within
// maxComputeWorkgroupsPerDimension; kernels number them x + y·(groups in
// x) and skip the overshoot of the last row.
func (c *compiler) fold(groups int) (x, y int) {
	x = max(1, min(groups, int(c.b.limits.MaxComputeWorkgroupsPerDimension)))
	return x, ceilDiv(groups, x)
}

// packConv reorders a (cout, cin, k, k) weight into [co/8][ci][ky][kx][8]
// (zero-padded channels) so one invocation's 8 channels are one 16-byte
// (f16) or 32-byte (f32) entry. elem is 2 or 4 bytes; src holds the values
// in that encoding, little-endian.
func packConv(src []byte, elem, cout, cin, k int) []byte {
	kk := k * k
	cb := ceilDiv(cout, 8)
	dst := make([]byte, cb*cin*kk*8*elem)
	for co := 0; co < cout; co++ {
		blk, j := co/8, co%8
		for ci := 0; ci < cin; ci++ {
			for t := 0; t < kk; t++ {
				s := ((co*cin+ci)*kk + t) * elem
				d := (((blk*cin+ci)*kk+t)*8 + j) * elem
				copy(dst[d:d+elem], src[s:s+elem])
			}
		}
	}
	return dst
}

// conv compiles output channels off..off+o.Out.C-1 of a conv whose weight
// and bias hold total output channels (all of them: off 0, total o.Out.C).
func (c *compiler) conv(o *backend.Conv, w backend.Weights, off, total int) error {
	if !o.A.Valid() || o.K <= 0 || o.Stride <= 0 || o.Pad < 0 {
		return fmt.Errorf("bad conv: k %d stride %d pad %d", o.K, o.Stride, o.Pad)
	}
	if o.B.Valid() && (o.B.H != o.A.H || o.B.W != o.A.W) {
		return fmt.Errorf("concat of %dx%d and %dx%d inputs", o.A.W, o.A.H, o.B.W, o.B.H)
	}
	cin, cout := o.A.C+o.B.C, o.Out.C
	hi, wi := o.A.H, o.A.W
	if o.Upsample {
		hi, wi = 2*hi, 2*wi
	}
	ho, wo := (hi+2*o.Pad-o.K)/o.Stride+1, (wi+2*o.Pad-o.K)/o.Stride+1
	if ho != o.Out.H || wo != o.Out.W {
		return fmt.Errorf("output %dx%d, graph says %dx%d", wo, ho, o.Out.W, o.Out.H)
	}
	if o.Res.Valid() && (o.Res.C != cout || o.Res.H != ho || o.Res.W != wo) {
		return fmt.Errorf("residual %dx%dx%d for output %dx%dx%d", o.Res.C, o.Res.H, o.Res.W, cout, ho, wo)
	}
	if off < 0 || off+cout > total {
		return fmt.Errorf("output channels %d..%d of %d", off, off+cout-1, total)
	}
	n := cout * cin * o.K * o.K
	first, all := off*cin*o.K*o.K, total*cin*o.K*o.K // weight values: the slice and the whole
	cb := ceilDiv(cout, shaders.ConvCO)

	// f16 packs keep their bytes unless told otherwise.
	var packed []byte
	f16 := false
	if !c.b.opts.F32Weights {
		if info, ok := w.Info(o.Weight); ok && info.DType == weights.F16 {
			raw, err := w.Raw(o.Weight)
			if err != nil {
				return err
			}
			if len(raw) != 2*all {
				return fmt.Errorf("%s: %d bytes, want %d f16 values", o.Weight, len(raw), all)
			}
			packed, f16 = packConv(raw[2*first:2*(first+n)], 2, cout, cin, o.K), true
		}
	}
	if packed == nil {
		v, err := backend.Vector(w, o.Weight, all)
		if err != nil {
			return err
		}
		packed = packConv(f32bytes(v[first:first+n]), 4, cout, cin, o.K)
	}
	uniform := !c.b.opts.StorageWeights && c.b.limits.MaxUniformBufferBindingSize >= uniformWindow &&
		uint64(len(packed)) <= uniformWindow
	if !uniform && uint64(len(packed)) > c.b.limits.MaxStorageBufferBindingSize {
		return fmt.Errorf("%w: %d weight bytes, maxStorageBufferBindingSize %d", ErrLimits, len(packed), c.b.limits.MaxStorageBufferBindingSize)
	}
	entry, shape := "main", "conv"
	switch {
	case o.K == 3 && o.Stride == 1:
		entry, shape = "main3", "conv3x3"
	case o.K == 1 && o.Stride == 1:
		entry, shape = "main1", "conv1x1"
	}
	tiled := c.b.conv == ConvTiled || (c.b.conv == ConvMixed && o.Stride > 1)
	k := convKernel(entry, f16, uniform)
	if tiled {
		k = convTiledKernel(f16, uniform)
	}
	variant := convVariant(shape, tiled, f16, uniform)
	window := uint64(0)
	if uniform {
		window = uniformWindow
	}
	wref, err := c.place(packed, window)
	if err != nil {
		return err
	}
	bias := make([]float32, cb*8)
	if o.Bias != "" {
		v, err := backend.Vector(w, o.Bias, total)
		if err != nil {
			return err
		}
		copy(bias, v[off:off+cout])
	}
	bref, err := c.place(f32bytes(bias), 0)
	if err != nil {
		return err
	}
	bIn, res := o.A, o.A // unused bindings alias A, which is read-only here
	if o.B.Valid() {
		bIn = o.B
	}
	if o.Res.Valid() {
		res = o.Res
	}
	params := c.paramBlock(uint32(o.A.C), uint32(o.B.C), uint32(o.A.H), uint32(o.A.W),
		uint32(cout), uint32(ho), uint32(wo), uint32(o.K),
		uint32(o.Stride), uint32(o.Pad), b2u(o.Upsample), b2u(o.Res.Valid()))
	bg := c.bind(k.layout, params, c.slot(o.A), c.slot(bIn), c.slot(res), wref, bref, c.slot(o.Out))
	c.note(o.Name, variant)
	if tiled {
		// Blocks of TiledBN pixels x TiledBM channels; the pixel blocks fold
		// into y past the per-dimension limit (the shader skips the overshoot).
		blocks := ceilDiv(ho*wo, shaders.TiledBN)
		x := max(1, min(blocks, int(c.b.limits.MaxComputeWorkgroupsPerDimension)))
		return c.dispatch(o.Name, k, bg, x, ceilDiv(blocks, x), ceilDiv(cout, shaders.TiledBM))
	}
	// Workgroups of ConvWGX x ConvWGY invocations of ConvPX pixels each, one
	// ConvCO-channel block per z.
	return c.dispatch(o.Name, k, bg, ceilDiv(ceilDiv(wo, shaders.ConvPX), shaders.ConvWGX), ceilDiv(ho, shaders.ConvWGY), cb)
}

// convVariant names a conv layer's kernel in Program.Kernels and Summary,
// e.g. "conv3x3 f16 uniform" (blocked) or "conv3x3 tiled f16 uniform".
func convVariant(shape string, tiled, f16, uniform bool) string {
	v := shape
	if tiled {
		v += " tiled"
	}
	if f16 {
		v += " f16"
	} else {
		v += " f32"
	}
	if uniform {
		return v + " uniform"
	}
	return v + " storage"
}

func (c *compiler) groupNorm(o *backend.GroupNorm, w backend.Weights) error {
	ch, n := o.In.C, o.In.H*o.In.W
	if o.Out.C != ch || o.Out.H != o.In.H || o.Out.W != o.In.W || (o.Res.Valid() && o.Res.Len() != o.Out.Len()) {
		return fmt.Errorf("shapes: in %+v out %+v res %+v", o.In, o.Out, o.Res)
	}
	gamma, beta, err := o.Params(w, c.g.TimeLen)
	if err != nil {
		return err
	}
	vref, err := c.place(f32bytes(append(append([]float32(nil), gamma...), beta...)), 0)
	if err != nil {
		return err
	}
	res := o.In
	if o.Res.Valid() {
		res = o.Res
	}
	film := int32(-1)
	if o.FiLM >= 0 {
		film = int32(o.FiLM)
	}
	// Stats chunks of at least 4096 values, at most 64 per group.
	glen := ch / o.Groups * n
	chunk := max(4096, ceilDiv(glen, 64))
	chunks := ceilDiv(glen, chunk)
	params := c.paramBlock(uint32(ch), uint32(n), uint32(o.Groups), uint32(film),
		b2u(o.SiLU), b2u(o.Res.Valid()), f32w(o.Eps), uint32(chunk), uint32(chunks))
	c.scratchA = max(c.scratchA, uint64(4*(2*o.Groups+2*o.Groups*chunks)))
	bg := c.bind(gnLayout, params, c.slot(o.In), c.slot(res), vref, bufRef{kind: refTime},
		bufRef{kind: refScratchA}, c.slot(o.Out))
	c.note(o.Name, "groupnorm")
	if err := c.dispatch(o.Name, kGNStats, bg, chunks, o.Groups, 1); err != nil {
		return err
	}
	if err := c.dispatch(o.Name, kGNFinal, bg, ceilDiv(o.Groups, shaders.GNFinalWG), 1, 1); err != nil {
		return err
	}
	return c.dispatch(o.Name, kGNApply, bg, ceilDiv(n, shaders.GNApplyWG*shaders.GNApplyPer), ch, 1)
}

func (c *compiler) layerNorm(o *backend.LayerNorm, w backend.Weights) error {
	ch, n := o.In.C, o.In.H*o.In.W
	if o.Out.Len() != o.In.Len() || (o.Res.Valid() && o.Res.Len() != o.Out.Len()) {
		return fmt.Errorf("shapes: in %+v out %+v res %+v", o.In, o.Out, o.Res)
	}
	g, err := backend.Vector(w, o.G, ch)
	if err != nil {
		return err
	}
	gref, err := c.place(f32bytes(g), 0)
	if err != nil {
		return err
	}
	res := o.In
	if o.Res.Valid() {
		res = o.Res
	}
	if !(o.Eps > 0) {
		return fmt.Errorf("eps %g must be positive", o.Eps)
	}
	params := c.paramBlock(uint32(ch), uint32(n), b2u(o.Res.Valid()), f32w(o.Eps))
	bg := c.bind(kLayerNorm.layout, params, c.slot(o.In), c.slot(res), gref, c.slot(o.Out))
	c.note(o.Name, "layernorm")
	x, y := c.fold(ceilDiv(n, shaders.LNWG))
	return c.dispatch(o.Name, kLayerNorm, bg, x, y, 1)
}

func attnShapes(o *attnQKV) error {
	hid := o.heads * o.dh
	if o.heads <= 0 || o.dh <= 0 || o.out.C != hid {
		return fmt.Errorf("%d heads of %d channels, output %d channels", o.heads, o.dh, o.out.C)
	}
	for _, in := range []struct {
		t   backend.Tensor
		off int
	}{{o.q, o.qoff}, {o.k, o.koff}, {o.v, o.voff}} {
		if in.off < 0 || in.off+hid > in.t.C || in.t.H != o.out.H || in.t.W != o.out.W {
			return fmt.Errorf("channels %d..%d of a %dx%dx%d input for a %dx%dx%d output",
				in.off, in.off+hid-1, in.t.C, in.t.H, in.t.W, o.out.C, o.out.H, o.out.W)
		}
	}
	return nil
}

// qkvRefs are the bindings of q, k and v and their offsets in values.
func (c *compiler) qkvRefs(o *attnQKV) (refs []bufRef, offs []uint32) {
	n := o.out.H * o.out.W
	for _, in := range []struct {
		t   backend.Tensor
		off int
	}{{o.q, o.qoff}, {o.k, o.koff}, {o.v, o.voff}} {
		refs = append(refs, c.slot(in.t))
		offs = append(offs, uint32(in.off*n))
	}
	return refs, offs
}

func (c *compiler) linearAttention(o *attnQKV) error {
	if err := attnShapes(o); err != nil {
		return err
	}
	n, heads, dh := o.out.H*o.out.W, o.heads, o.dh
	hdd := heads * dh * dh
	// Chunks of at least 256 pixels, at most 64 of them: enough invocations
	// for the context sums at every size, little partial memory.
	chunk := max(256, ceilDiv(n, 64))
	chunks := ceilDiv(n, chunk)
	refs, offs := c.qkvRefs(o)
	params := c.paramBlock(uint32(heads), uint32(dh), uint32(n), uint32(chunk), uint32(chunks),
		f32w(float32(1/math.Sqrt(float64(dh)))), f32w(1/float32(n)), offs[0], offs[1], offs[2])
	nd8 := ceilDiv(dh, 8)
	c.scratchA = max(c.scratchA, uint64(4*(chunks*hdd+2*chunks*heads*dh))) // partials, then (max, sum) per row
	c.scratchB = max(c.scratchB, uint64(4*heads*dh*8*nd8))                 // ctx rows padded to 8
	bg := c.bind(laLayout, params, refs[0], refs[1], refs[2], bufRef{kind: refScratchA}, bufRef{kind: refScratchB}, c.slot(o.out))
	c.note(o.name, "linear attention")
	px, py := c.fold(ceilDiv(n, shaders.AttnWG))
	for _, d := range []struct {
		k       kernel
		x, y, z int
	}{
		{kLAQSoftmax, px, py, heads},
		{kLAContext, ceilDiv(heads*nd8*nd8, shaders.AttnWG), chunks, 1},
		{kLAContextRed, ceilDiv(heads*dh*2*nd8, shaders.AttnWG), 1, 1},
		{kLAOutput, px, py, heads * nd8},
	} {
		if err := c.dispatch(o.name, d.k, bg, d.x, d.y, d.z); err != nil {
			return err
		}
	}
	return nil
}

func (c *compiler) attention(o *attnQKV) error {
	if err := attnShapes(o); err != nil {
		return err
	}
	if o.dh > 64 {
		return fmt.Errorf("dim_head %d above 64", o.dh)
	}
	n := o.out.H * o.out.W
	refs, offs := c.qkvRefs(o)
	params := c.paramBlock(uint32(o.heads), uint32(o.dh), uint32(n), f32w(float32(1/math.Sqrt(float64(o.dh)))),
		offs[0], offs[1], offs[2])
	k, wg, variant := kAttention, shaders.AttnWG, "attention"
	if c.b.attn == AttnTiled {
		k, wg, variant = kAttnTiled, shaders.AttnTQ, "attention tiled"
	}
	bg := c.bind(attnLayout, params, refs[0], refs[1], refs[2], c.slot(o.out))
	c.note(o.name, variant)
	x, y := c.fold(ceilDiv(n, wg))
	return c.dispatch(o.name, k, bg, x, y, o.heads)
}
