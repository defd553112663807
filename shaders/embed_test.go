package shaders

import (
	"strings"
	"testing"

	"github.com/gogpu/naga"
)

// modules lists every complete shader the GPU backend builds.
var modules = [][]string{
	{"conv_params.wgsl", "conv.wgsl", "conv_w_f16_uniform.wgsl"},
	{"conv_params.wgsl", "conv.wgsl", "conv_w_f16_storage.wgsl"},
	{"conv_params.wgsl", "conv.wgsl", "conv_w_f32_uniform.wgsl"},
	{"conv_params.wgsl", "conv.wgsl", "conv_w_f32_storage.wgsl"},
	{"conv_params.wgsl", "conv_tiled.wgsl", "conv_w_f16_uniform.wgsl"},
	{"conv_params.wgsl", "conv_tiled.wgsl", "conv_w_f16_storage.wgsl"},
	{"conv_params.wgsl", "conv_tiled.wgsl", "conv_w_f32_uniform.wgsl"},
	{"conv_params.wgsl", "conv_tiled.wgsl", "conv_w_f32_storage.wgsl"},
	{"groupnorm.wgsl", "reduce.wgsl"},
	{"layernorm.wgsl"},
	{"linear_attention.wgsl", "reduce.wgsl", "qkv_ld4.wgsl"},
	{"attention.wgsl", "qkv_ld4.wgsl"},
	{"sampler.wgsl"},
}

// TestCompile translates every shader to SPIR-V with naga, the compiler the
// native backend uses, so WGSL errors show up without a GPU.
func TestCompile(t *testing.T) {
	for _, m := range modules {
		t.Run(strings.Join(m, "+"), func(t *testing.T) {
			src, err := Compose(m...)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := naga.Compile(src); err != nil {
				t.Fatalf("naga: %v", err)
			}
		})
	}
}

func TestEveryFileUsed(t *testing.T) {
	used := map[string]bool{}
	for _, m := range modules {
		for _, n := range m {
			used[n] = true
		}
	}
	for _, n := range Names() {
		if strings.HasSuffix(n, ".wgsl") && !used[n] {
			t.Errorf("%s is not part of any module", n)
		}
	}
	if _, err := Source("missing.wgsl"); err == nil {
		t.Error("Source(missing.wgsl) succeeded")
	}
}

// wgslReserved are WGSL's reserved words (W3C WGSL §15.3): naga accepts
// some of them as identifiers, browsers (Tint, Naga in Firefox) do not.
var wgslReserved = strings.Fields(`NULL Self abstract active alignas alignof as asm asm_fragment async attribute
auto await become binding_array cast catch class co_await co_return co_yield coherent column_major common compile
compile_fragment concept const_cast consteval constexpr constinit crate debugger decltype delete demote
demote_to_helper do dynamic_cast enum explicit export extends extern external fallthrough filter final finally
friend from fxgroup get goto groupshared highp impl implements import inline instanceof interface layout lowp macro
macro_rules match mediump meta mod module move mut mutable namespace new nil noexcept noinline nointerpolation
noperspective null nullptr of operator package packoffset partition pass patch pixelfragment precise precision
premerge priv protected pub public readonly ref regardless register reinterpret_cast require resource restrict
self set shared sizeof smooth snorm static static_assert static_cast std subroutine super target template this
thread_local throw trait try type typedef typeid typename typeof union unless unorm unsafe unsized use using
varying virtual volatile wgsl where with writeonly yield`)

func TestNoReservedWords(t *testing.T) {
	reserved := map[string]bool{}
	for _, w := range wgslReserved {
		reserved[w] = true
	}
	for _, name := range Names() {
		src, _ := Source(name)
		for i, line := range strings.Split(src, "\n") {
			if j := strings.Index(line, "//"); j >= 0 {
				line = line[:j]
			}
			for _, w := range strings.FieldsFunc(line, func(r rune) bool {
				return !(r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
			}) {
				if reserved[w] {
					t.Errorf("%s:%d: %q is a reserved word in WGSL", name, i+1, w)
				}
			}
		}
	}
}
