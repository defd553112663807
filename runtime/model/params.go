package model

import (
	"fmt"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// ParamKind says how a parameter is used, which decides its storage type in
// a pack: matrices may be stored as f16, vectors always stay f32.
type ParamKind int

const (
	KindConv   ParamKind = iota // conv weight (out, in, kh, kw)
	KindLinear                  // linear weight (out, in)
	KindVector                  // bias or norm parameter
)

// ParamSpec names one tensor of the network as the authors' state_dict does
// (relative to the UNet, i.e. without "model.unet0."), with its shape.
type ParamSpec struct {
	Name  string
	Shape []int
	Kind  ParamKind
	// Standardized marks WeightStandardizedConv2d weights; packs store them
	// already standardized.
	Standardized bool
}

// Widths returns the channel width of each level: dims[0] = dim, dims[i+1] = dim*mults[i].
func Widths(cfg weights.Config) []int {
	dims := []int{cfg.Dim}
	for _, m := range cfg.Mults {
		dims = append(dims, cfg.Dim*m)
	}
	return dims
}

// ParamSpecs lists every tensor of the UNet for cfg, in state_dict order.
func ParamSpecs(cfg weights.Config) []ParamSpec {
	var specs []ParamSpec
	conv := func(name string, out, in, k int, bias bool) {
		specs = append(specs, ParamSpec{Name: name + ".weight", Shape: []int{out, in, k, k}, Kind: KindConv})
		if bias {
			specs = append(specs, ParamSpec{Name: name + ".bias", Shape: []int{out}, Kind: KindVector})
		}
	}
	linear := func(name string, out, in int) {
		specs = append(specs,
			ParamSpec{Name: name + ".weight", Shape: []int{out, in}, Kind: KindLinear},
			ParamSpec{Name: name + ".bias", Shape: []int{out}, Kind: KindVector})
	}
	vec := func(name string, shape ...int) {
		specs = append(specs, ParamSpec{Name: name, Shape: shape, Kind: KindVector})
	}
	timeDim := 4 * cfg.Dim
	resnet := func(name string, in, out int) {
		linear(name+".mlp.1", 2*out, timeDim)
		for i, cin := range []int{in, out} {
			b := fmt.Sprintf("%s.block%d", name, i+1)
			specs = append(specs,
				ParamSpec{Name: b + ".proj.weight", Shape: []int{out, cin, 3, 3}, Kind: KindConv, Standardized: true},
				ParamSpec{Name: b + ".proj.bias", Shape: []int{out}, Kind: KindVector})
			vec(b+".norm.weight", out)
			vec(b+".norm.bias", out)
		}
		if in != out {
			conv(name+".res_conv", out, in, 1, true)
		}
	}
	hidden := cfg.Heads * cfg.DimHead
	linAttn := func(name string, c int) {
		conv(name+".fn.fn.to_qkv", 3*hidden, c, 1, false)
		conv(name+".fn.fn.to_out.0", c, hidden, 1, true)
		vec(name+".fn.fn.to_out.1.g", 1, c, 1, 1)
		vec(name+".fn.norm.g", 1, c, 1, 1)
	}

	dims := Widths(cfg)
	levels := len(cfg.Mults)
	conv("init_conv", cfg.Dim, 6, 7, true)
	linear("time_mlp.1", timeDim, cfg.Dim)
	linear("time_mlp.3", timeDim, timeDim)
	for i := 0; i < levels; i++ {
		in, out := dims[i], dims[i+1]
		p := fmt.Sprintf("downs.%d", i)
		resnet(p+".0", in, in)
		resnet(p+".1", in, in)
		linAttn(p+".2", in)
		if i < levels-1 {
			conv(p+".3", out, in, 4, true)
		} else {
			conv(p+".3", out, in, 3, true)
		}
	}
	mid := dims[levels]
	resnet("mid_block1", mid, mid)
	conv("mid_attn.fn.fn.to_qkv", 3*hidden, mid, 1, false)
	conv("mid_attn.fn.fn.to_out", mid, hidden, 1, true)
	vec("mid_attn.fn.norm.g", 1, mid, 1, 1)
	resnet("mid_block2", mid, mid)
	for j := 0; j < levels; j++ {
		in, out := dims[levels-1-j], dims[levels-j]
		p := fmt.Sprintf("ups.%d", j)
		resnet(p+".0", out+in, out)
		resnet(p+".1", out+in, out)
		linAttn(p+".2", out)
		if j < levels-1 {
			conv(p+".3.1", in, out, 3, true)
		} else {
			conv(p+".3", in, out, 3, true)
		}
	}
	resnet("final_res_block", 2*cfg.Dim, cfg.Dim)
	conv("final_conv", 3, cfg.Dim, 1, true)
	return specs
}

// ParamCount is the number of scalars in the UNet for cfg.
func ParamCount(cfg weights.Config) int {
	n := 0
	for _, s := range ParamSpecs(cfg) {
		c := 1
		for _, d := range s.Shape {
			c *= d
		}
		n += c
	}
	return n
}
