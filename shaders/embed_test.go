package shaders

import (
	"fmt"
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
	{"linear_attention.wgsl", "qkv_ld4.wgsl"},
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

// TestWorkgroupSizesNamed keeps workgroup sizes defined once: every
// @workgroup_size names constants of sizes.go, so the host's dispatch
// arithmetic (which uses the Go constants) cannot drift from the kernels.
func TestWorkgroupSizesNamed(t *testing.T) {
	named := map[string]bool{"1": true}
	for _, c := range Consts {
		named[c.Name] = true
	}
	for _, name := range Names() {
		src, _ := Source(name)
		for i, line := range strings.Split(src, "\n") {
			_, args, ok := strings.Cut(line, "@workgroup_size(")
			if !ok {
				continue
			}
			args, _, _ = strings.Cut(args, ")")
			for _, a := range strings.Split(args, ",") {
				if a = strings.TrimSpace(a); !named[a] {
					t.Errorf("%s:%d: workgroup size %q is not a constant of shaders/sizes.go", name, i+1, a)
				}
			}
		}
	}
}

func TestPreludeDeclaresConsts(t *testing.T) {
	p := Prelude()
	for _, c := range Consts {
		if want := fmt.Sprintf("const %s: u32 = %du;", c.Name, c.Value); !strings.Contains(p, want) {
			t.Errorf("prelude lacks %q", want)
		}
	}
}

// TestNoConstFromConst: gogpu/naga v0.18 translates a module-scope const
// whose initializer names another const (`const PX: u32 = CONV_PX;`) to a
// zero constant (OpConstantNull) without an error; every conv computed
// zeros. Use the prelude's names directly.
func TestNoConstFromConst(t *testing.T) {
	for _, name := range Names() {
		src, _ := Source(name)
		for i, line := range strings.Split(src, "\n") {
			if j := strings.Index(line, "//"); j >= 0 {
				line = line[:j]
			}
			if !strings.HasPrefix(line, "const ") {
				continue
			}
			_, init, _ := strings.Cut(line, "=")
			for _, w := range strings.FieldsFunc(init, func(r rune) bool {
				return !(r == '_' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
			}) {
				if w != "" && w[0] >= 'A' && w[0] <= 'Z' && strings.ToUpper(w) == w {
					t.Errorf("%s:%d: const initialised from %s (naga makes it zero)", name, i+1, w)
				}
			}
		}
	}
}
