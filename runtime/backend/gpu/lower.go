package gpu

import "github.com/diffuir-web/diffuir/runtime/backend"

// The GPU backend rewrites a graph before planning its memory, so that no
// tensor is larger than it must be. The attention layers' qkv conv
// (3·heads·dh channels, three times the model's next largest tensor)
// becomes convs over slices of its weights writing q, k and v into tensors
// of their own, and the attention op reads those: at a given size the
// largest buffer is a third of the qkv tensor, so tiles three times as large
// fit the adapter's binding limit. Where even heads·dh channels would not
// fit one binding, the heads are split in two groups: two attention ops
// over half the heads each, with q, k, v and output of half the channels,
// and the output conv reads the two halves as its channel concat (A, B).
// Heads are independent in both attention kinds, so the results are the
// same. The ops below exist only inside this package; the caller's graph
// is left alone.

// convPart computes output channels off..off+Out.C-1 of Conv, whose weight
// and bias in the pack have total output channels.
type convPart struct {
	backend.Conv
	off, total int
}

// attnQKV is Attention or LinearAttention reading q, k and v from three
// tensors, or from one qkv tensor at channel offsets 0, hid and 2·hid
// (qoff, koff, voff in channels).
type attnQKV struct {
	name             string
	q, k, v, out     backend.Tensor
	qoff, koff, voff int
	heads, dh        int
	linear           bool
}

func (o *attnQKV) Label() string { return o.name }
func (o *attnQKV) Inputs() []backend.Tensor {
	if o.q == o.k && o.k == o.v {
		return []backend.Tensor{o.q}
	}
	return []backend.Tensor{o.q, o.k, o.v}
}
func (o *attnQKV) Output() backend.Tensor { return o.out }

// lower returns g with every attention op as attnQKV ops, split from its
// qkv conv where the qkv tensor has no other use: it is read by that one
// op, is not pinned (input, output, a tap the caller keeps), and comes from
// a conv without residual. Layers whose heads·dh channels would take more
// than maxBytes (0: no limit) are split in two head groups where the
// attention output feeds one plain conv. It copies what it changes.
func lower(g *backend.Graph, pinned []backend.Tensor, maxBytes int64) *backend.Graph {
	keep := map[int]bool{}
	for _, t := range pinned {
		keep[t.ID] = true
	}
	readers := make([]int, len(g.Tensors))
	reader := make([]int, len(g.Tensors)) // the last op reading each tensor
	producer := make([]int, len(g.Tensors))
	for i := range producer {
		producer[i] = -1
	}
	for i, op := range g.Ops {
		for _, t := range op.Inputs() {
			readers[t.ID]++
			reader[t.ID] = i
		}
		producer[op.Output().ID] = i
	}
	out := *g
	out.Tensors = append([]backend.Tensor(nil), g.Tensors...)
	out.Ops = make([]backend.Op, 0, len(g.Ops)+8)
	replace := map[int][]backend.Op{} // op index -> the ops replacing it
	for i, op := range g.Ops {
		var qkv, dst backend.Tensor
		var heads, dh int
		var name string
		linear := false
		switch o := op.(type) {
		case *backend.Attention:
			qkv, dst, heads, dh, name = o.QKV, o.Out, o.Heads, o.DimHead, o.Name
		case *backend.LinearAttention:
			qkv, dst, heads, dh, name, linear = o.QKV, o.Out, o.Heads, o.DimHead, o.Name, true
		default:
			continue
		}
		hid := heads * dh
		replace[i] = []backend.Op{&attnQKV{name: name, q: qkv, k: qkv, v: qkv, out: dst, qoff: 0, koff: hid, voff: 2 * hid,
			heads: heads, dh: dh, linear: linear}}
		pi := producer[qkv.ID]
		if pi < 0 || keep[qkv.ID] || readers[qkv.ID] != 1 || qkv.C != 3*hid {
			continue
		}
		conv, ok := g.Ops[pi].(*backend.Conv)
		if !ok || conv.Res.Valid() || replace[pi] != nil {
			continue
		}
		// Two head groups if one would not fit and the output's one reader
		// is a conv that can take the halves as its concat.
		groups := 1
		var next *backend.Conv
		if maxBytes > 0 && 4*int64(dst.Len()) > maxBytes && heads%2 == 0 && !keep[dst.ID] && readers[dst.ID] == 1 {
			if c, ok := g.Ops[reader[dst.ID]].(*backend.Conv); ok && c.A == dst && !c.B.Valid() && !c.Upsample {
				groups, next = 2, c
			}
		}
		gh := heads / groups
		gc := gh * dh
		var convs, attns []backend.Op
		var outs []backend.Tensor
		for j := range groups {
			a := &attnQKV{name: name, out: dst, heads: gh, dh: dh, linear: linear}
			if groups > 1 {
				a.out = out.NewTensor(gc, dst.H, dst.W)
				outs = append(outs, a.out)
			}
			for part, t := range []*backend.Tensor{&a.q, &a.k, &a.v} {
				*t = out.NewTensor(gc, qkv.H, qkv.W)
				c := *conv
				c.Out = *t
				convs = append(convs, &convPart{Conv: c, off: part*hid + j*gc, total: 3 * hid})
			}
			attns = append(attns, a)
		}
		replace[pi], replace[i] = convs, attns
		if next != nil {
			c := *next
			c.A, c.B = outs[0], outs[1]
			replace[reader[dst.ID]] = []backend.Op{&c}
		}
	}
	for i, op := range g.Ops {
		if r, ok := replace[i]; ok {
			out.Ops = append(out.Ops, r...)
		} else {
			out.Ops = append(out.Ops, op)
		}
	}
	return &out
}
