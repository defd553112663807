package convert

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/weights"
)

// The Python-made fixtures cover what torch.save really writes: a zip root
// named after the file or "archive", cuda:0 storages, half/bf16/double
// storages, transposed and offset views sharing a storage, 0-d tensors and
// both ema-pytorch buffer layouts (skipped: they are bool/int64).
func TestReadCheckpointTorchFixtures(t *testing.T) {
	want := map[string][]float32{
		"ema.ema_model.model.unet0.a.f32":           {0, 0.25, 0.5, 0.75, 1, 1.25},
		"ema.ema_model.model.unet0.b.f16":           {-0.25, -0.125, 0, 0.125},
		"ema.ema_model.model.unet0.c.bf16":          {1.5, -2, 0.15625},
		"ema.ema_model.model.unet0.d.f64":           {0.125, -3, 1000, 7.5},
		"ema.ema_model.model.unet0.e.transposed":    {0, 2, 4, 0.5, 2.5, 4.5, 1, 3, 5, 1.5, 3.5, 5.5},
		"ema.ema_model.model.unet0.f.view":          {-5, -4, -3, -2, -1, 0},
		"ema.ema_model.model.unet0.g.scalar":        {2.5},
		"ema.ema_model.model.unet0.h.shared":        {-10, -8, -6, -4, -2, 0, 2, 4, 6, 8},
		"model.model.unet0.a.f32":                   {0.01, 0.01, 0.01, 0.01, 0.01, 0.01},
		"ema.online_model.model.unet0.g.scalar":     {0.01},
		"opt0.state.0.exp_avg":                      {0.1, 0.1, 0.1},
		"ema.ema_model.alphas":                      nil, // present, values not checked
		"model.alphas":                              nil,
		"opt0.state.0.step":                         {1},
		"ema.online_model.model.unet0.e.transposed": nil,
	}
	shapes := map[string][]int{
		"ema.ema_model.model.unet0.e.transposed": {4, 3},
		"ema.ema_model.model.unet0.g.scalar":     {},
		"ema.ema_model.model.unet0.d.f64":        {2, 2},
	}
	for _, file := range []string{"testdata/edge_trainer.pt", "testdata/edge_ema0d.pt"} {
		t.Run(file, func(t *testing.T) {
			ts, format, err := ReadCheckpoint(readFile(t, file))
			if err != nil {
				t.Fatal(err)
			}
			if format != FormatTorchZip {
				t.Errorf("format %q", format)
			}
			got := byName(ts)
			for name, w := range want {
				x, ok := got[name]
				if !ok {
					t.Errorf("missing %s", name)
					continue
				}
				if w != nil && !slices.Equal(x.Data, w) {
					t.Errorf("%s = %v, want %v", name, x.Data, w)
				}
				if s, ok := shapes[name]; ok && !slices.Equal(x.Shape, s) {
					t.Errorf("%s shape %v, want %v", name, x.Shape, s)
				}
				if x.DType != weights.F32 {
					t.Errorf("%s dtype %v", name, x.DType)
				}
			}
			for _, skipped := range []string{"ema.initted", "ema.step", "step"} {
				if _, ok := got[skipped]; ok {
					t.Errorf("non-float %s returned", skipped)
				}
			}
			if len(ts) != 29 {
				t.Errorf("%d tensors, want 29: %v", len(ts), sortedNames(ts))
			}
		})
	}
}

func TestReadCheckpointGzip(t *testing.T) {
	raw := readFile(t, "testdata/edge_trainer.pt")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	a, _, err := ReadCheckpoint(raw)
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := ReadCheckpoint(gz.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) || !slices.Equal(a[5].Data, b[5].Data) {
		t.Fatal("gzip and plain differ")
	}
	if _, _, err := ReadCheckpoint(gz.Bytes()[:gz.Len()/2]); err == nil || !strings.Contains(err.Error(), "gzip") {
		t.Fatalf("truncated gzip: %v", err)
	}
}

// Hand-made zips reach layouts torch does not write by default.
func TestReadCheckpointHandMade(t *testing.T) {
	var p pk
	p.op(0x80, 2, '}', '(')
	p.str("plain").tensor("FloatStorage", "0", 4, 0, []int{2, 2}, []int{2, 1})
	p.str("col").tensor("FloatStorage", "0", 4, 1, []int{2}, []int{2}) // offset + stride
	p.str("list").op(']', '(').tensor("HalfStorage", "1", 2, 0, []int{2}, []int{1}).op('e')
	p.str("nested").op('}').str("deep").tensor("DoubleStorage", "2", 1, 0, nil, nil).op('s')
	p.str("param").global("torch._utils", "_rebuild_parameter").op('(')
	p.tensor("FloatStorage", "0", 4, 3, []int{1}, []int{1}).op(0x88).global("collections", "OrderedDict").op(')', 'R', 't', 'R')
	p.str("ints").tensor("LongStorage", "3", 1, 0, []int{1}, []int{1})
	p.str("empty").tensor("FloatStorage", "0", 4, 0, []int{0, 3}, []int{3, 1})
	p.int(5).tensor("FloatStorage", "0", 4, 0, []int{1}, []int{1}) // int dict key
	p.op('u', '.')
	h := func(v ...float32) []byte {
		b := make([]byte, 2*len(v))
		for i, x := range v {
			binary.LittleEndian.PutUint16(b[2*i:], weights.F32ToF16(x))
		}
		return b
	}
	d := make([]byte, 8)
	binary.LittleEndian.PutUint64(d, math.Float64bits(-0.5))
	z := makeZip(t, []zipEntry{
		{"x/data.pkl", p.Bytes()},
		{"x/data/0", f32bytes([]float32{1, 2, 3, 4})},
		{"x/data/1", h(0.5, -1)},
		{"x/data/2", d},
		{"x/data/3", make([]byte, 8)},
	})
	ts, _, err := ReadCheckpoint(z)
	if err != nil {
		t.Fatal(err)
	}
	got := byName(ts)
	for name, w := range map[string][]float32{
		"plain": {1, 2, 3, 4}, "col": {2, 4}, "list.0": {0.5, -1}, "nested.deep": {-0.5}, "param": {4}, "empty": {}, "5": {1},
	} {
		if x, ok := got[name]; !ok || !slices.Equal(x.Data, w) {
			t.Errorf("%s = %v (present %v), want %v", name, x.Data, ok, w)
		}
	}
	if _, ok := got["ints"]; ok {
		t.Error("int64 tensor returned")
	}
}

func TestReadCheckpointErrors(t *testing.T) {
	edge := readFile(t, "testdata/edge_trainer.pt")
	pickleWith := func(body func(p *pk)) []byte {
		var p pk
		p.op(0x80, 2, '}', '(')
		body(&p)
		p.op('u', '.')
		return makeZip(t, []zipEntry{{"archive/data.pkl", p.Bytes()}, {"archive/data/0", f32bytes([]float32{1, 2, 3, 4})}})
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty input"},
		{"text", []byte("hello, world, this is not a checkpoint"), "not a checkpoint"},
		{"legacy", readFile(t, "testdata/legacy.pt"), "legacy torch.save format not supported; re-save with torch>=1.6"},
		{"legacy tar", append(make([]byte, 257), append([]byte("ustar"), make([]byte, 300)...)...), "legacy torch.save"},
		{"bare pickle", []byte{0x80, 2, '}', '.'}, "bare pickle"},
		{"truncated zip", edge[:len(edge)/2], "truncated or corrupt"},
		{"truncated zip tail", edge[:len(edge)-10], "truncated or corrupt"},
		{"no data.pkl", makeZip(t, []zipEntry{{"a/b", []byte("x")}}), "no data.pkl"},
		{"torchscript", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 'N', '.'}}, {"m/constants.pkl", nil}}), "TorchScript"},
		{"big endian", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 'N', '.'}}, {"m/byteorder", []byte("big")}}), "byte order"},
		{"garbage pickle", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 0xff, 0xfe}}}), "corrupt pickle"},
		{"pickle no stop", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, '}'}}}), "corrupt pickle"},
		{"pickle huge string", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 0x8d, 0, 0, 0, 0, 0, 0, 0, 0x40, '.'}}}), "corrupt pickle"},
		{"pickle empty stack", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 'R', '.'}}}), "corrupt pickle"},
		{"pickle odd dict", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, '(', 'N', 'd', '.'}}}), "corrupt pickle"},
		{"crc", rezipRaw(edge, "edge_trainer/data/0"), "crc32 mismatch"},
		{"missing storage", rezip(t, edge, func(n string, b []byte) []byte {
			if n == "edge_trainer/data/3" {
				return nil
			}
			return b
		}), "storage record edge_trainer/data/3 missing"},
		{"short storage", rezip(t, edge, func(n string, b []byte) []byte {
			if n == "edge_trainer/data/0" {
				return b[:4]
			}
			return b
		}), "record has 4"},
		{"view beyond storage", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 4, 2, []int{3}, []int{1})
		}), "exceeds a storage of 4"},
		{"offset beyond storage", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 4, 9, []int{1}, []int{1})
		}), "storage offset 9"},
		{"negative stride", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 4, 3, []int{2}, []int{-1})
		}), "stride"},
		{"expanded", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 4, 0, []int{3, 2}, []int{0, 1})
		}), "expanded"},
		{"unknown storage", pickleWith(func(p *pk) {
			p.str("w").tensor("ComplexFloatStorage", "0", 4, 0, []int{1}, []int{1})
		}), "unsupported storage type"},
		{"numel beyond record", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 1<<30, 0, []int{1}, []int{1})
		}), "torch zip: storage 0: 1073741824 float32 elements need 4294967296 bytes, record has 16"},
		{"too many elements", pickleWith(func(p *pk) {
			p.str("w").tensor("FloatStorage", "0", 4, 0, []int{1000, 1000}, []int{0, 0})
		}), "more than a"},
		{"many views", pickleWith(func(p *pk) {
			for i := 0; i < 400; i++ {
				p.str(string(rune('a'+i%26))+string(rune('a'+i/26))).tensor("FloatStorage", "0", 4, 0, []int{4}, []int{1})
			}
		}), ""},
		{"storage numel overflow", pickleWith(func(p *pk) {
			// numel 2^62: numel*4 wraps to 0 in uint64, so must be checked by division.
			p.str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
			p.op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu")
			p.op(0x8a, 8, 0, 0, 0, 0, 0, 0, 0, 0x40).op('t', 'Q')
			p.int(1).ints([]int{2}).ints([]int{1}).op(0x89, 'N', 't', 'R')
		}), "record has 16"},
		{"long4 huge", makeZip(t, []zipEntry{{"m/data.pkl", append([]byte{0x80, 2, 0x8b, 0, 0, 0x10, 0}, make([]byte, 1<<20)...)}}), "1048576-byte integer"},
		{"long text huge", makeZip(t, []zipEntry{{"m/data.pkl", append(append([]byte{0x80, 2, 'L'}, bytes.Repeat([]byte("9"), 1<<20)...), '\n', '.')}}), "text argument"},
		{"long1 empty", makeZip(t, []zipEntry{{"m/data.pkl", []byte{0x80, 2, 0x8a, 0, '.'}}}), "corrupt pickle"},
		{"safetensors header beyond file", append(binary.LittleEndian.AppendUint64(nil, 1000), []byte("{}xx")...), "not a checkpoint"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ReadCheckpoint(c.data)
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "convert: ") {
				t.Errorf("error %q lacks the convert: prefix", err)
			}
		})
	}
}

// rezipRaw flips a byte inside a stored record without fixing its CRC.
func rezipRaw(src []byte, name string) []byte {
	b := append([]byte(nil), src...)
	i := bytes.Index(b, []byte(name))
	// Local header: name, then (for torch) an extra field padding to 64, then data.
	j := i + len(name)
	for b[j] != 0 || (j%64) != 0 {
		j++
	}
	b[j+1] ^= 0x40
	return b
}

func TestReadSafetensors(t *testing.T) {
	f16 := make([]byte, 4)
	binary.LittleEndian.PutUint16(f16, weights.F32ToF16(1.5))
	binary.LittleEndian.PutUint16(f16[2:], weights.F32ToF16(-0.25))
	bf16 := make([]byte, 4)
	binary.LittleEndian.PutUint16(bf16, uint16(math.Float32bits(3)>>16))
	binary.LittleEndian.PutUint16(bf16[2:], uint16(math.Float32bits(-0.125)>>16))
	f64 := binary.LittleEndian.AppendUint64(nil, math.Float64bits(0.1))
	file := safetensors([]stTensor{
		{"a", "F32", []int{2, 2}, f32bytes([]float32{1, 2, 3, 4})},
		{"b.h", "F16", []int{2}, f16},
		{"c.bf", "BF16", []int{2, 1}, bf16},
		{"d", "F64", []int{}, f64},
		{"e.int", "I64", []int{1}, make([]byte, 8)},
		{"z.empty", "F32", []int{0}, nil},
	}, map[string]string{"format": "pt"})
	for _, read := range []func([]byte) ([]weights.Tensor, error){
		ReadSafetensors,
		func(b []byte) ([]weights.Tensor, error) { ts, _, err := ReadCheckpoint(b); return ts, err },
	} {
		ts, err := read(file)
		if err != nil {
			t.Fatal(err)
		}
		got := byName(ts)
		for name, w := range map[string][]float32{"a": {1, 2, 3, 4}, "b.h": {1.5, -0.25}, "c.bf": {3, -0.125}, "d": {float32(0.1)}, "z.empty": {}} {
			if !slices.Equal(got[name].Data, w) {
				t.Errorf("%s = %v, want %v", name, got[name].Data, w)
			}
		}
		if !slices.Equal(got["c.bf"].Shape, []int{2, 1}) || len(ts) != 5 {
			t.Errorf("shape %v, %d tensors", got["c.bf"].Shape, len(ts))
		}
		if ts[0].Name != "a" || ts[1].Name != "b.h" {
			t.Errorf("not in file order: %s, %s", ts[0].Name, ts[1].Name)
		}
	}
}

func TestReadSafetensorsErrors(t *testing.T) {
	hdr := func(j string, data int) []byte {
		b := binary.LittleEndian.AppendUint64(nil, uint64(len(j)))
		return append(append(b, j...), make([]byte, data)...)
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"json", hdr(`{"a": [}`, 0), "bad header"},
		{"entry", hdr(`{"a": 3}`, 0), "a:"},
		{"dtype", hdr(`{"a": {"dtype": "C64", "shape": [1], "data_offsets": [0, 8]}}`, 8), `unknown dtype "C64"`},
		{"range", hdr(`{"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}`, 8), "outside"},
		{"size", hdr(`{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}`, 8), "want 12"},
		{"negative", hdr(`{"a": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}`, 8), "bad shape"},
		{"huge", hdr(`{"a": {"dtype": "F32", "shape": [65536, 65536, 65536], "data_offsets": [0, 8]}}`, 8), "too large"},
		{"rank", hdr(`{"a": {"dtype": "F32", "shape": [1,1,1,1,1,1,1,1,1], "data_offsets": [0, 4]}}`, 4), "rank 9"},
		{"offsets", hdr(`{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4]}}`, 8), "data_offsets"},
		{"overlap", hdr(`{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}}`, 12), "overlaps"},
		{"truncated", hdr(`{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}`, 8)[:30], ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadSafetensors(c.data)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "convert: ") {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
