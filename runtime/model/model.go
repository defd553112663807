package model

import (
	"fmt"
	"slices"

	"github.com/diffuir-web/diffuir/runtime/backend"
	"github.com/diffuir-web/diffuir/runtime/ref"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Multiple is the factor image sides are padded to before a UNet pass
// (2^levels for the official four-level models).
func Multiple(cfg weights.Config) int { return 1 << len(cfg.Mults) }

// Model is a DiffUIR UNet bound to its parameters.
type Model struct {
	Cfg                weights.Config
	Params             backend.Weights // a *weights.Pack
	timeLen            int
	films              []film
	t1w, t1b, t3w, t3b []float32
}

// film is one ResnetBlock's time projection: SiLU(temb) → Linear → (scale, shift).
type film struct {
	w, b   []float32
	out    int // 2·dout
	offset int // position in the time vector
}

// New checks that src holds every parameter of the UNet for cfg with the
// right shape and prepares the host-side time MLP.
func New(cfg weights.Config, src backend.Weights) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	for _, s := range ParamSpecs(cfg) {
		info, ok := src.Info(s.Name)
		if !ok {
			return nil, fmt.Errorf("model: missing parameter %s", s.Name)
		}
		if !slices.Equal(info.Shape, s.Shape) {
			return nil, fmt.Errorf("model: %s: shape %v, want %v", s.Name, info.Shape, s.Shape)
		}
	}
	m := &Model{Cfg: cfg, Params: src}
	var err error
	get := func(name string) []float32 {
		if err != nil {
			return nil
		}
		var v []float32
		v, err = src.Float32(name)
		if err != nil {
			err = fmt.Errorf("model: %s: %w", name, err)
		}
		return v
	}
	m.t1w, m.t1b = get("time_mlp.1.weight"), get("time_mlp.1.bias")
	m.t3w, m.t3b = get("time_mlp.3.weight"), get("time_mlp.3.bias")
	for _, name := range m.resnetNames() {
		w, b := get(name+".mlp.1.weight"), get(name+".mlp.1.bias")
		m.films = append(m.films, film{w: w, b: b, out: len(b), offset: m.timeLen})
		m.timeLen += len(b)
	}
	if err != nil {
		return nil, err
	}
	return m, nil
}

// resnetNames lists the ResnetBlocks in forward order; FiLM offsets follow it.
func (m *Model) resnetNames() []string {
	var names []string
	L := len(m.Cfg.Mults)
	for i := 0; i < L; i++ {
		names = append(names, fmt.Sprintf("downs.%d.0", i), fmt.Sprintf("downs.%d.1", i))
	}
	names = append(names, "mid_block1", "mid_block2")
	for j := 0; j < L; j++ {
		names = append(names, fmt.Sprintf("ups.%d.0", j), fmt.Sprintf("ups.%d.1", j))
	}
	return append(names, "final_res_block")
}

// TimeLen is the length of the per-step time vector.
func (m *Model) TimeLen() int { return m.timeLen }

// TimeEncoder computes time vectors without allocating.
type TimeEncoder struct {
	m                *Model
	sin, hidden, emb []float32
}

// NewTimeEncoder returns an encoder with its own scratch space.
func (m *Model) NewTimeEncoder() *TimeEncoder {
	td := 4 * m.Cfg.Dim
	return &TimeEncoder{m: m, sin: make([]float32, m.Cfg.Dim), hidden: make([]float32, td), emb: make([]float32, td)}
}

// Embedding computes the time MLP output (4·dim values) for network time t;
// the returned slice is reused by the next call.
func (e *TimeEncoder) Embedding(t float32) []float32 {
	m := e.m
	td := 4 * m.Cfg.Dim
	ref.SinusoidalEmbedding(e.sin, t, m.Cfg.Dim)
	ref.Linear(e.hidden, e.sin, m.t1w, m.t1b, td, m.Cfg.Dim)
	ref.GELU(e.hidden)
	ref.Linear(e.emb, e.hidden, m.t3w, m.t3b, td, td)
	return e.emb
}

// Encode writes the time vector for network time t into dst (TimeLen values):
// for each ResnetBlock, Linear(SiLU(embedding)) = its FiLM scale then shift.
func (e *TimeEncoder) Encode(dst []float32, t float32) {
	emb := e.Embedding(t)
	copy(e.hidden, emb)
	ref.SiLU(e.hidden)
	td := 4 * e.m.Cfg.Dim
	for _, f := range e.m.films {
		ref.Linear(dst[f.offset:f.offset+f.out], e.hidden, f.w, f.b, f.out, td)
	}
}

// Graph builds the UNet pass for a padded image of h×w (multiples of Multiple).
func (m *Model) Graph(h, w int) (*backend.Graph, error) {
	mult := Multiple(m.Cfg)
	if h <= 0 || w <= 0 || h%mult != 0 || w%mult != 0 {
		return nil, fmt.Errorf("model: graph size %dx%d is not a positive multiple of %d", w, h, mult)
	}
	b := &builder{m: m, g: &backend.Graph{Taps: map[string]backend.Tensor{}, TimeLen: m.timeLen}}
	g := b.g
	g.Input = g.NewTensor(6, h, w)
	cfg := m.Cfg
	dims := Widths(cfg)
	L := len(cfg.Mults)

	x := b.conv("init_conv", g.Input, backend.Tensor{}, cfg.Dim, 7, 1, 3, false, backend.Tensor{})
	r := x
	b.tap("init_conv", x)
	var skips []backend.Tensor
	for i := 0; i < L; i++ {
		p := fmt.Sprintf("downs.%d", i)
		x = b.resnet(p+".0", x, backend.Tensor{}, dims[i])
		skips = append(skips, x)
		x = b.resnet(p+".1", x, backend.Tensor{}, dims[i])
		x = b.linearAttention(p+".2", x)
		skips = append(skips, x)
		if i < L-1 {
			x = b.conv(p+".3", x, backend.Tensor{}, dims[i+1], 4, 2, 1, false, backend.Tensor{})
		} else {
			x = b.conv(p+".3", x, backend.Tensor{}, dims[i+1], 3, 1, 1, false, backend.Tensor{})
		}
		b.tap(p+".3", x)
	}
	x = b.resnet("mid_block1", x, backend.Tensor{}, dims[L])
	x = b.attention("mid_attn", x)
	x = b.resnet("mid_block2", x, backend.Tensor{}, dims[L])
	for j := 0; j < L; j++ {
		p := fmt.Sprintf("ups.%d", j)
		out := dims[L-j]
		pop := func() backend.Tensor {
			s := skips[len(skips)-1]
			skips = skips[:len(skips)-1]
			return s
		}
		x = b.resnet(p+".0", x, pop(), out)
		x = b.resnet(p+".1", x, pop(), out)
		x = b.linearAttention(p+".2", x)
		if j < L-1 {
			x = b.conv(p+".3.1", x, backend.Tensor{}, dims[L-1-j], 3, 1, 1, true, backend.Tensor{})
		} else {
			x = b.conv(p+".3", x, backend.Tensor{}, dims[L-1-j], 3, 1, 1, false, backend.Tensor{})
		}
		b.tap(p+".3", x)
	}
	x = b.resnet("final_res_block", x, r, cfg.Dim)
	g.Output = b.conv("final_conv", x, backend.Tensor{}, 3, 1, 1, 0, false, backend.Tensor{})
	b.tap("final_conv", g.Output)
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

type builder struct {
	m     *Model
	g     *backend.Graph
	films int
}

func (b *builder) tap(name string, t backend.Tensor) { b.g.Taps[name] = t }

// conv adds a convolution reading cat(a, c2); the output has cout channels.
func (b *builder) conv(name string, a, c2 backend.Tensor, cout, k, stride, pad int, upsample bool, res backend.Tensor) backend.Tensor {
	h, w := a.H, a.W
	if upsample {
		h, w = 2*h, 2*w
	}
	out := b.g.NewTensor(cout, (h+2*pad-k)/stride+1, (w+2*pad-k)/stride+1)
	bias := name + ".bias"
	if _, ok := b.m.Params.Info(bias); !ok {
		bias = ""
	}
	b.g.Add(&backend.Conv{Name: name, Out: out, A: a, B: c2, Res: res, Weight: name + ".weight", Bias: bias,
		K: k, Stride: stride, Pad: pad, Upsample: upsample})
	return out
}

// resnet adds a ResnetBlock on cat(a, c2) with dout output channels.
func (b *builder) resnet(name string, a, c2 backend.Tensor, dout int) backend.Tensor {
	f := b.m.films[b.films]
	b.films++
	res := a
	if a.C+c2.C != dout {
		res = b.conv(name+".res_conv", a, c2, dout, 1, 1, 0, false, backend.Tensor{})
	}
	h := b.conv(name+".block1.proj", a, c2, dout, 3, 1, 1, false, backend.Tensor{})
	h1 := b.g.NewTensor(dout, h.H, h.W)
	b.g.Add(&backend.GroupNorm{Name: name + ".block1.norm", Out: h1, In: h, Gamma: name + ".block1.norm.weight",
		Beta: name + ".block1.norm.bias", Groups: b.m.Cfg.Groups, Eps: b.m.Cfg.GroupEps, FiLM: f.offset, SiLU: true})
	h = b.conv(name+".block2.proj", h1, backend.Tensor{}, dout, 3, 1, 1, false, backend.Tensor{})
	out := b.g.NewTensor(dout, h.H, h.W)
	b.g.Add(&backend.GroupNorm{Name: name + ".block2.norm", Out: out, In: h, Res: res, Gamma: name + ".block2.norm.weight",
		Beta: name + ".block2.norm.bias", Groups: b.m.Cfg.Groups, Eps: b.m.Cfg.GroupEps, FiLM: -1, SiLU: true})
	b.tap(name, out)
	return out
}

func (b *builder) layerNorm(name string, in, res backend.Tensor) backend.Tensor {
	out := b.g.NewTensor(in.C, in.H, in.W)
	b.g.Add(&backend.LayerNorm{Name: name, Out: out, In: in, Res: res, G: name + ".g", Eps: b.m.Cfg.NormEps})
	return out
}

// linearAttention adds Residual(PreNorm(LinearAttention)): its output
// projection has a bias and a LayerNorm that adds the residual.
func (b *builder) linearAttention(name string, x backend.Tensor) backend.Tensor {
	return b.attentionBlock(name, x, true)
}

// attention adds the middle Residual(PreNorm(Attention)): its output
// projection adds the residual itself.
func (b *builder) attention(name string, x backend.Tensor) backend.Tensor {
	return b.attentionBlock(name, x, false)
}

func (b *builder) attentionBlock(name string, x backend.Tensor, linear bool) backend.Tensor {
	cfg := b.m.Cfg
	hidden := cfg.Heads * cfg.DimHead
	n := b.layerNorm(name+".fn.norm", x, backend.Tensor{})
	qkv := b.conv(name+".fn.fn.to_qkv", n, backend.Tensor{}, 3*hidden, 1, 1, 0, false, backend.Tensor{})
	att := b.g.NewTensor(hidden, x.H, x.W)
	var out backend.Tensor
	if linear {
		b.g.Add(&backend.LinearAttention{Name: name + ".fn.fn", Out: att, QKV: qkv, Heads: cfg.Heads, DimHead: cfg.DimHead})
		o := b.conv(name+".fn.fn.to_out.0", att, backend.Tensor{}, x.C, 1, 1, 0, false, backend.Tensor{})
		out = b.layerNorm(name+".fn.fn.to_out.1", o, x)
	} else {
		b.g.Add(&backend.Attention{Name: name + ".fn.fn", Out: att, QKV: qkv, Heads: cfg.Heads, DimHead: cfg.DimHead})
		out = b.conv(name+".fn.fn.to_out", att, backend.Tensor{}, x.C, 1, 1, 0, false, x)
	}
	b.tap(name, out)
	return out
}
