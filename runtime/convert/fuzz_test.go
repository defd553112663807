package convert

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

func fuzzSeeds(f *testing.F) [][]byte {
	var seeds [][]byte
	for _, name := range []string{"testdata/edge_trainer.pt", "testdata/edge_ema0d.pt"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b, b[:len(b)/2])
	}
	var p pk
	p.op(0x80, 2, '}', '(')
	p.str("w").tensor("FloatStorage", "0", 4, 1, []int{3}, []int{1})
	p.str("h").tensor("HalfStorage", "1", 2, 0, []int{2, 1}, []int{1, 2})
	p.op('u', '.')
	seeds = append(seeds, makeZip(f, []zipEntry{
		{"archive/data.pkl", p.Bytes()},
		{"archive/data/0", f32bytes([]float32{1, 2, 3, 4})},
		{"archive/data/1", []byte{0, 0x3c, 0, 0xc0}},
	}))
	seeds = append(seeds, safetensors([]stTensor{
		{"init_conv.weight", "F32", []int{1, 2}, f32bytes([]float32{1, 2})},
		{"b", "F16", []int{1}, []byte{0, 0x3c}},
		{"c", "BF16", []int{1}, []byte{0x80, 0x3f}},
		{"d", "I64", []int{1}, make([]byte, 8)},
	}, map[string]string{"format": "pt"}))
	return seeds
}

// FuzzReadCheckpoint: arbitrary input must give an error or tensors whose
// data matches their shape, never a panic or a runaway allocation.
func FuzzReadCheckpoint(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, _, err := ReadCheckpoint(b)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		if err == nil {
			for _, x := range ts {
				n, err := numel(x.Shape)
				if err != nil || n != len(x.Data) {
					t.Fatalf("%s: shape %v, %d values", x.Name, x.Shape, len(x.Data))
				}
			}
		}
		pack, _, err := Convert(b, DefaultOptions())
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatal(err)
		}
		if err == nil {
			if _, err := weights.Open(pack); err != nil {
				t.Fatalf("Convert produced a bad pack: %v", err)
			}
		}
	})
}

// FuzzPickle drives the pickle path directly (the zip layer above it
// rarely lets the fuzzer reach it), with storages of zeros.
func FuzzPickle(f *testing.F) {
	for _, s := range fuzzSeeds(f)[:1] {
		f.Add(pickleOf(f, s))
	}
	var p pk
	p.op(0x80, 2, ']', '(')
	p.tensor("DoubleStorage", "0", 4, 1, []int{3}, []int{1}).op('}').int(3).op('N', 's')
	p.op('e', '.')
	f.Add(p.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		obj, err := unpickle(b, func(key string, typ storageType, n int) (*storage, error) {
			if n > 1<<16 {
				return nil, os.ErrInvalid
			}
			return &storage{typ: typ, numel: n, data: make([]byte, n*typ.size)}, nil
		})
		if err != nil {
			return
		}
		ck := newCheckpoint(FormatTorchZip, len(b))
		flatten(ck, obj)
		ck.all()
	})
}

func pickleOf(f *testing.F, zipBytes []byte) []byte {
	var out []byte
	rezip(f, zipBytes, func(name string, b []byte) []byte {
		if bytes.HasSuffix([]byte(name), []byte("data.pkl")) {
			out = b
		}
		return b
	})
	return out
}
