package convert

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// ---- a minimal torch.save writer, for checkpoints Python would not produce ----

// pk builds a protocol-2 pickle the way torch.save lays out a state dict.
type pk struct{ bytes.Buffer }

func (p *pk) op(b ...byte) *pk { p.Write(b); return p }

func (p *pk) str(s string) *pk {
	p.WriteByte('X')
	binary.Write(p, binary.LittleEndian, uint32(len(s)))
	p.WriteString(s)
	return p
}

func (p *pk) int(v int) *pk {
	p.WriteByte('J')
	binary.Write(p, binary.LittleEndian, int32(v))
	return p
}

func (p *pk) global(mod, name string) *pk {
	fmt.Fprintf(p, "c%s\n%s\n", mod, name)
	return p
}

func (p *pk) ints(v []int) *pk {
	p.op('(')
	for _, x := range v {
		p.int(x)
	}
	return p.op('t')
}

// tensor pushes _rebuild_tensor_v2(storage(key), offset, size, stride, False, OrderedDict()).
func (p *pk) tensor(storageType, key string, numel, offset int, size, stride []int) *pk {
	p.global("torch._utils", "_rebuild_tensor_v2").op('(')
	p.op('(').str("storage").global("torch", storageType).str(key).str("cuda:0").int(numel).op('t', 'Q')
	p.int(offset).ints(size).ints(stride).op(0x89)
	p.global("collections", "OrderedDict").op(')', 'R')
	return p.op('t', 'R')
}

// zipEntry is one record of a hand-made torch zip.
type zipEntry struct {
	name string
	data []byte
}

func makeZip(t testing.TB, entries []zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: zip.Store})
		if err != nil {
			t.Fatal(err)
		}
		w.Write(e.data)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// torchZip saves an (ordered) dict of named f32 tensors, each in its own
// storage, as torch.save would, under the given key prefix.
func torchZip(t testing.TB, root string, ts []weights.Tensor) []byte {
	t.Helper()
	var p pk
	p.op(0x80, 2, '}', '(')
	entries := []zipEntry{{root + "/data.pkl", nil}}
	for i, x := range ts {
		key := fmt.Sprint(i)
		stride := make([]int, len(x.Shape))
		s := 1
		for k := len(x.Shape) - 1; k >= 0; k-- {
			stride[k] = s
			s *= x.Shape[k]
		}
		p.str(x.Name).tensor("FloatStorage", key, len(x.Data), 0, x.Shape, stride)
		raw := make([]byte, 4*len(x.Data))
		for k, v := range x.Data {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v))
		}
		entries = append(entries, zipEntry{root + "/data/" + key, raw})
	}
	p.op('u', '.')
	entries[0].data = p.Bytes()
	return makeZip(t, entries)
}

// rezip copies a zip, letting edit replace (or drop, by returning nil) records.
func rezip(t testing.TB, src []byte, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(src), int64(len(src)))
	if err != nil {
		t.Fatal(err)
	}
	var entries []zipEntry
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		if b = edit(f.Name, b); b != nil {
			entries = append(entries, zipEntry{f.Name, b})
		}
	}
	return makeZip(t, entries)
}

// ---- safetensors writer ----

type stTensor struct {
	name  string
	dtype string
	shape []int
	raw   []byte
}

func safetensors(ts []stTensor, meta map[string]string) []byte {
	hdr := map[string]any{}
	if meta != nil {
		hdr["__metadata__"] = meta
	}
	var data []byte
	for _, x := range ts {
		hdr[x.name] = map[string]any{"dtype": x.dtype, "shape": x.shape, "data_offsets": []int{len(data), len(data) + len(x.raw)}}
		data = append(data, x.raw...)
	}
	j, _ := json.Marshal(hdr)
	for len(j)%8 != 0 { // the reference writer pads with spaces
		j = append(j, ' ')
	}
	out := binary.LittleEndian.AppendUint64(nil, uint64(len(j)))
	return append(append(out, j...), data...)
}

func f32bytes(v []float32) []byte {
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func tensorsToSafetensors(ts []weights.Tensor) []byte {
	st := make([]stTensor, len(ts))
	for i, x := range ts {
		st[i] = stTensor{x.Name, "F32", x.Shape, f32bytes(x.Data)}
	}
	return safetensors(st, map[string]string{"format": "pt"})
}

// ---- synthetic UNet weights ----

// synthetic returns random weights for every tensor of cfg under prefix.
func synthetic(cfg weights.Config, prefix string, seed uint64) []weights.Tensor {
	r := rand.New(rand.NewPCG(seed, 7))
	var ts []weights.Tensor
	for _, s := range model.ParamSpecs(cfg) {
		n := 1
		for _, d := range s.Shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(r.NormFloat64() * 0.05)
		}
		ts = append(ts, weights.Tensor{Name: prefix + s.Name, Shape: append([]int(nil), s.Shape...), DType: weights.F32, Data: data})
	}
	return ts
}

func byName(ts []weights.Tensor) map[string]weights.Tensor {
	m := map[string]weights.Tensor{}
	for _, x := range ts {
		m[x.Name] = x
	}
	return m
}

func sortedNames(ts []weights.Tensor) []string {
	var n []string
	for _, x := range ts {
		n = append(n, x.Name)
	}
	sort.Strings(n)
	return n
}

// fixture reads a parity fixture (gunzipped), skipping the test if the
// PyTorch reference has not produced it.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	gz, err := os.ReadFile("../parity/testdata/" + name)
	if os.IsNotExist(err) {
		t.Skipf("fixture %s absent (produced by tools/pyref/make_fixtures.py)", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
