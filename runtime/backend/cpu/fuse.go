package cpu

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/backend"
)

// headwiseAttention is a 1x1 qkv convolution and the linear attention that
// alone reads its output, run one head at a time: each head's q, k and v
// (3·dh channels) are computed into one small buffer shared by every such
// pair, instead of all heads' qkv (for the Tiny model 384 channels, half
// of a program's activation memory) living in the memory plan. The sums
// are the same, in the same order, so the outputs are bit for bit those of
// the two ops apart.
type headwiseAttention struct {
	conv *backend.Conv
	la   *backend.LinearAttention
}

func (o *headwiseAttention) Label() string            { return o.la.Label() }
func (o *headwiseAttention) Inputs() []backend.Tensor { return []backend.Tensor{o.conv.A} }
func (o *headwiseAttention) Output() backend.Tensor   { return o.la.Out }

// headBufLen is the size of the shared per-head qkv buffer.
func (o *headwiseAttention) headBufLen() int { return 3 * o.la.DimHead * o.la.QKV.H * o.la.QKV.W }

// fuseHeads returns g with every such pair replaced by one
// headwiseAttention (g itself when there is none), and the largest per-head
// buffer they need. A pair qualifies when the convolution is a plain 1x1
// (one input, no residual) directly followed by the linear attention, and
// no other op and no pinned tensor reads the qkv tensor.
func fuseHeads(g *backend.Graph, pinned []backend.Tensor) (*backend.Graph, int) {
	readers := make([]int, len(g.Tensors))
	for _, op := range g.Ops {
		for _, t := range op.Inputs() {
			readers[t.ID]++
		}
	}
	for _, t := range pinned {
		readers[t.ID]++
	}
	var ops []backend.Op
	need := 0
	for i := 0; i < len(g.Ops); i++ {
		c, ok := g.Ops[i].(*backend.Conv)
		if ok && i+1 < len(g.Ops) {
			la, ok := g.Ops[i+1].(*backend.LinearAttention)
			if ok && la.QKV == c.Out && readers[c.Out.ID] == 1 && c.K == 1 && c.Stride == 1 && c.Pad == 0 &&
				!c.Upsample && !c.B.Valid() && !c.Res.Valid() && c.Out.C == 3*la.Heads*la.DimHead {
				if ops == nil {
					ops = append([]backend.Op(nil), g.Ops[:i]...)
				}
				f := &headwiseAttention{conv: c, la: la}
				ops = append(ops, f)
				need = max(need, f.headBufLen())
				i++
				continue
			}
		}
		if ops != nil {
			ops = append(ops, g.Ops[i])
		}
	}
	if ops == nil {
		return g, 0
	}
	fused := *g
	fused.Ops = ops
	return &fused, need
}

// addHeadwise binds a headwiseAttention: per head, the convolution with that
// head's q, k and v weight rows, then the four linear attention phases on
// the head's buffer, writing the head's rows of the output.
func (p *program) addHeadwise(o *headwiseAttention, w backend.Weights) error {
	c, la := o.conv, o.la
	cin, hid, dh := c.A.C, la.Heads*la.DimHead, la.DimHead
	n := la.QKV.H * la.QKV.W
	wt, bias, err := convParams(c, w)
	if err != nil {
		return err
	}
	qkv := p.headQKV[:o.headBufLen()]
	out := p.buf(la.Out)
	for h := range la.Heads {
		// Rows h·dh.. of q, of k and of v, in that order.
		var hw, hb []float32
		for part := range 3 {
			r0 := part*hid + h*dh
			hw = append(hw, wt[r0*cin:(r0+dh)*cin]...)
			if bias != nil {
				hb = append(hb, bias[r0:r0+dh]...)
			}
		}
		pc, err := PackConv(ConvSpec{Cin: cin, Cout: 3 * dh, K: 1, Stride: 1}, hw, hb)
		if err != nil {
			return fmt.Errorf("head %d: %w", h, err)
		}
		a := &linearAttention{out: out[h*dh*n : (h+1)*dh*n], qkv: qkv, heads: 1, dh: dh, n: n, ctx: p.scratch(dh * dh)}
		a.qSoft.a, a.kSoft.a, a.context.a = a, a, a
		p.phases = append(p.phases,
			phase{&convTask{pc: pc, out: qkv, a: p.buf(c.A), ca: cin, h: c.A.H, w: c.A.W}, c.A.H, 1},
			phase{&a.qSoft, n, 256}, phase{&a.kSoft, dh, 1}, phase{&a.context, dh, 1}, phase{a, dh, 1})
	}
	return nil
}
