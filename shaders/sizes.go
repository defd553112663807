package shaders

import (
	"fmt"
	"strings"
)

// Workgroup sizes and per-invocation blocking, defined once: the WGSL
// kernels use them by the names in Consts (Compose declares them ahead of
// every module), and the GPU backend's dispatch arithmetic uses the Go
// constants. A kernel whose loops are written for one value says so beside
// the constant.
const (
	// conv.wgsl (register-blocked): a workgroup is ConvWGX×ConvWGY
	// invocations, each ConvPX output pixels of one row × ConvCO channels.
	ConvWGX = 4
	ConvWGY = 16
	ConvPX  = 8 // the kernel's loads and fma8 are written for 8
	ConvCO  = 8 // the weight packing's block ([cout/8][cin][k][k][8]); fixed

	// conv_tiled.wgsl (implicit GEMM): TiledWG invocations own TiledBM
	// channels × TiledBN pixels and step TiledBK deep; its gather and
	// compute loops are written for 256, 32, 128 and 16.
	TiledWG = 256
	TiledBM = 32
	TiledBN = 128
	TiledBK = 16

	// reduce.wgsl: the workgroup of the tree reductions (groupnorm stats,
	// linear attention's k softmax); a power of two.
	ReduceWG = 256

	// groupnorm.wgsl: finalize is one invocation per group, apply one per
	// GNApplyPer values of a channel.
	GNFinalWG  = 64
	GNApplyWG  = 256
	GNApplyPer = 4

	// layernorm.wgsl: one invocation per pixel.
	LNWG = 64

	// linear_attention.wgsl and attention.wgsl: one-dimensional workgroups.
	AttnWG = 64

	// attention.wgsl's tiled entry: ATTN_TQ queries per workgroup, keys and
	// values in tiles of ATTN_TK (its workgroup arrays hold AttnTK*16 vec4
	// each: 16 KiB for both at 32, WebGPU's default workgroup storage).
	AttnTQ     = 64
	AttnTK     = 32
	AttnTileV4 = AttnTK * 16 // vec4 entries of one tile array (dh <= 64)

	// sampler.wgsl: one invocation per value, rows of SamplerRowGroups
	// workgroups in a 2-D grid.
	SamplerWG        = 64
	SamplerRowGroups = 32768
)

// Consts are the constants Compose declares ahead of every module, by
// their WGSL names.
var Consts = []struct {
	Name  string
	Value int
}{
	{"CONV_WG_X", ConvWGX}, {"CONV_WG_Y", ConvWGY}, {"CONV_PX", ConvPX}, {"CONV_CO", ConvCO},
	{"TILED_WG", TiledWG}, {"TILED_BM", TiledBM}, {"TILED_BN", TiledBN}, {"TILED_BK", TiledBK},
	{"REDUCE_WG", ReduceWG},
	{"GN_FINAL_WG", GNFinalWG}, {"GN_APPLY_WG", GNApplyWG}, {"GN_APPLY_PER", GNApplyPer},
	{"LN_WG", LNWG}, {"ATTN_WG", AttnWG}, {"ATTN_TQ", AttnTQ}, {"ATTN_TK", AttnTK}, {"ATTN_TILE_V4", AttnTileV4},
	{"SAMPLER_WG", SamplerWG},
}

// Prelude is the WGSL that declares Consts (as u32), which Compose puts
// first in every module.
func Prelude() string {
	var b strings.Builder
	b.WriteString("// Declared by shaders.Compose from shaders/sizes.go.\n")
	for _, c := range Consts {
		fmt.Fprintf(&b, "const %s: u32 = %du;\n", c.Name, c.Value)
	}
	return b.String()
}
