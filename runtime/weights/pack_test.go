package weights

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testConfig() Config {
	c := Tiny
	c.Mults = append([]int(nil), Tiny.Mults...)
	return c
}

// testTensors covers ranks 1..4, odd sizes (so padding is exercised) and a
// mix of values including f16 edge cases.
func testTensors(dt DType) []Tensor {
	mk := func(name string, dt DType, shape ...int) Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		data := make([]float32, n)
		for i := range data {
			data[i] = float32(math.Sin(float64(i)*0.7+float64(len(name)))) * float32(i%5+1)
		}
		return Tensor{Name: name, Shape: shape, DType: dt, Data: data}
	}
	ts := []Tensor{
		mk("init_conv.weight", dt, 4, 6, 7, 7),
		mk("init_conv.bias", F32, 4),
		mk("time_mlp.1.weight", dt, 5, 3),
		mk("mid_attn.fn.norm.g", F32, 1, 3, 1, 1),
	}
	ts[0].Data[0], ts[0].Data[1], ts[0].Data[2] = 65504, -6.1e-5, 1e-7
	return ts
}

func mustMarshal(t testing.TB, ts []Tensor) []byte {
	t.Helper()
	b, err := Marshal(testConfig(), ts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	for _, dt := range []DType{F32, F16} {
		t.Run(dt.String(), func(t *testing.T) {
			ts := testTensors(dt)
			b := mustMarshal(t, ts)
			n := int64(len(b))
			p, err := Open(b)
			if err != nil {
				t.Fatal(err)
			}
			h := p.Header
			if h.Version != Version || h.Flags != FlagStandardized || h.FileSize != n {
				t.Errorf("header %+v", h)
			}
			if h.Config.Name != Tiny.Name || h.Config.Dim != Tiny.Dim || h.Config.DeltaEnd != Tiny.DeltaEnd ||
				h.Config.DefaultSteps != Tiny.DefaultSteps || len(h.Config.Mults) != 4 || h.Config.Timesteps != 1000 {
				t.Errorf("config %+v", h.Config)
			}
			if got := strings.Join(p.Names(), ","); got != "init_conv.weight,init_conv.bias,time_mlp.1.weight,mid_attn.fn.norm.g" {
				t.Errorf("names %s", got)
			}
			for _, in := range ts {
				info, ok := p.Info(in.Name)
				if !ok || info.DType != in.DType || len(info.Shape) != len(in.Shape) {
					t.Fatalf("%s: info %+v", in.Name, info)
				}
				if (h.DataOffset+info.Offset)%Alignment != 0 {
					t.Errorf("%s: absolute offset %d not aligned", in.Name, h.DataOffset+info.Offset)
				}
				raw, err := p.Raw(in.Name)
				if err != nil || int64(len(raw)) != info.Size || len(raw) != len(in.Data)*in.DType.Size() {
					t.Fatalf("%s: raw %d bytes, %v", in.Name, len(raw), err)
				}
				got, err := p.Float32(in.Name)
				if err != nil {
					t.Fatal(err)
				}
				for i, v := range in.Data {
					want := v
					if in.DType == F16 {
						want = F16ToF32(F32ToF16(v))
					}
					if got[i] != want {
						t.Fatalf("%s[%d] = %v, want %v", in.Name, i, got[i], want)
					}
				}
			}
			if d := p.Data(); int64(len(d)) != h.FileSize-h.DataOffset {
				t.Errorf("Data() is %d bytes", len(d))
			} else if raw, _ := p.Raw("time_mlp.1.weight"); !bytes.Equal(raw, d[p.Header.Tensors[2].Offset:][:len(raw)]) {
				t.Error("Data() and Raw() disagree")
			}
			if _, ok := p.Info("nope"); ok {
				t.Error("Info(nope) found something")
			}
			if _, err := p.Float32("nope"); err == nil {
				t.Error("Float32(nope) succeeded")
			}
		})
	}
}

func TestEmptyPack(t *testing.T) {
	b := mustMarshal(t, nil)
	p, err := Open(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Names()) != 0 || p.Header.FileSize != p.Header.DataOffset {
		t.Fatalf("%+v", p.Header)
	}
}

func TestWriteRejects(t *testing.T) {
	bad := testConfig()
	bad.Dim = 0
	for _, c := range []struct {
		name string
		cfg  Config
		ts   func([]Tensor) []Tensor
		want string
	}{
		{"config", bad, nil, "dim 0"},
		{"dup", testConfig(), func(ts []Tensor) []Tensor { ts[1].Name = ts[0].Name; return ts }, "duplicate"},
		{"len", testConfig(), func(ts []Tensor) []Tensor { ts[1].Data = ts[1].Data[:3]; return ts }, "holds 4 values, data has 3"},
		{"dtype", testConfig(), func(ts []Tensor) []Tensor { ts[1].DType = 9; return ts }, "unsupported"},
		{"rank", testConfig(), func(ts []Tensor) []Tensor { ts[1].Shape = []int{1, 1, 1, 1, 4}; return ts }, "rank 5"},
		{"dim", testConfig(), func(ts []Tensor) []Tensor { ts[1].Shape = []int{0, 4}; return ts }, "dims must be"},
		{"noname", testConfig(), func(ts []Tensor) []Tensor { ts[1].Name = ""; return ts }, "name"},
		{"longname", testConfig(), func(ts []Tensor) []Tensor { ts[1].Name = strings.Repeat("x", 257); return ts }, "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := testTensors(F16)
			if c.ts != nil {
				ts = c.ts(ts)
			}
			_, err := Marshal(c.cfg, ts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want error containing %q", err, c.want)
			}
		})
	}
}

// entryPos finds the offset field of the named tensor's table entry.
func entryPos(t *testing.T, b []byte, name string, rank int) int {
	t.Helper()
	key := append(binary.LittleEndian.AppendUint16(nil, uint16(len(name))), name...)
	i := bytes.Index(b, key)
	if i < 0 {
		t.Fatalf("entry %s not found", name)
	}
	return i + len(key) + 2 + 4*rank
}

func TestReadHeaderRejects(t *testing.T) {
	good := mustMarshal(t, testTensors(F16))
	le := binary.LittleEndian
	// Offsets of the fields of the "init_conv.bias" (rank 1) and the last entry.
	bias := entryPos(t, good, "init_conv.bias", 1)
	last := entryPos(t, good, "mid_attn.fn.norm.g", 4)
	dimPos := bias - 4
	for _, c := range []struct {
		name string
		mut  func(b []byte) []byte
		want string
	}{
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }, "bad magic"},
		{"version", func(b []byte) []byte { le.PutUint32(b[8:], 4); return b }, "unsupported format version 4"},
		{"version 0", func(b []byte) []byte { le.PutUint32(b[8:], 0); return b }, "unsupported format version 0"},
		{"header size huge", func(b []byte) []byte { le.PutUint32(b[12:], 1<<30); return b }, "header size"},
		{"header size short", func(b []byte) []byte { le.PutUint32(b[12:], 10); return b }, "header size"},
		{"header size off", func(b []byte) []byte { le.PutUint32(b[12:], le.Uint32(b[12:])-1); return b }, ""},
		{"trailing", func(b []byte) []byte { return append(b, 0) }, "trailing"},
		{"file size", func(b []byte) []byte { le.PutUint64(b[48:], 1<<40); return b }, "truncated"},
		{"data offset", func(b []byte) []byte { le.PutUint64(b[56:], le.Uint64(b[56:])+256); return b }, "data offset"},
		{"flags", func(b []byte) []byte { le.PutUint32(b[64:], 6); return b }, "unknown flags"},
		{"count absurd", func(b []byte) []byte { le.PutUint32(b[68:], 1<<31); return b }, "at most 4096"},
		{"count unfit", func(b []byte) []byte { le.PutUint32(b[68:], 4000); return b }, "cannot fit"},
		{"config name len", func(b []byte) []byte { le.PutUint16(b[72:], 300); return b }, "config name length"},
		{"config invalid", func(b []byte) []byte {
			le.PutUint32(b[72+2+len(Tiny.Name):], 0) // dim
			return b
		}, "dim 0"},
		{"mults absurd", func(b []byte) []byte {
			le.PutUint32(b[72+2+len(Tiny.Name)+36:], 1<<30)
			return b
		}, "mults"},
		{"norm eps", func(b []byte) []byte {
			le.PutUint32(b[72+2+len(Tiny.Name)+28:], math.Float32bits(float32(math.NaN())))
			return b
		}, "norm eps"},
		{"group eps", func(b []byte) []byte {
			le.PutUint32(b[72+2+len(Tiny.Name)+32:], math.Float32bits(0))
			return b
		}, "group eps"},
		{"dtype", func(b []byte) []byte { b[bias-4-2] = 7; return b }, "unknown dtype 7"},
		{"rank", func(b []byte) []byte { b[bias-4-1] = 9; return b }, "rank 9"},
		{"dim zero", func(b []byte) []byte { le.PutUint32(b[dimPos:], 0); return b }, "dim 0 out of range"},
		{"dim absurd", func(b []byte) []byte { le.PutUint32(b[dimPos:], 0xffffffff); return b }, "out of range"},
		{"dim unfit", func(b []byte) []byte { le.PutUint32(b[dimPos:], 1<<30); return b }, "cannot fit"},
		{"size", func(b []byte) []byte { le.PutUint64(b[bias+8:], 18); return b }, "size 18 bytes, want 16"},
		{"unaligned", func(b []byte) []byte { le.PutUint64(b[bias:], le.Uint64(b[bias:])+16); return b }, "not aligned"},
		{"overlap", func(b []byte) []byte { le.PutUint64(b[bias:], 0); return b }, "overlaps"},
		{"out of range", func(b []byte) []byte { le.PutUint64(b[last:], le.Uint64(b[last:])+256); return b }, "beyond"},
		{"offset absurd", func(b []byte) []byte { le.PutUint64(b[last:], 1<<63); return b }, "beyond"},
		{"offset huge aligned", func(b []byte) []byte { le.PutUint64(b[last:], 1<<62); return b }, "beyond"},
		{"size absurd", func(b []byte) []byte { le.PutUint64(b[last+8:], math.MaxUint64); return b }, "size"},
		{"gap at end", func(b []byte) []byte {
			b = append(b, make([]byte, 256)...)
			le.PutUint64(b[48:], uint64(len(b)))
			return b
		}, "tensors end at"},
		{"name utf8", func(b []byte) []byte { b[bytes.Index(b, []byte("init_conv.bias"))] = 0xff; return b }, "UTF-8"},
		{"name empty", func(b []byte) []byte {
			i := bytes.Index(b, []byte("init_conv.bias"))
			le.PutUint16(b[i-2:], 0)
			return b
		}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := c.mut(append([]byte(nil), good...))
			_, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q, want it to mention %q", err, c.want)
			}
			if !strings.HasPrefix(err.Error(), "pack: ") {
				t.Errorf("error %q lacks the pack: prefix", err)
			}
		})
	}
}

func TestReadHeaderDuplicate(t *testing.T) {
	ts := testTensors(F32)
	ts[1].Name = "init_conv.wxxxxx" // same length as init_conv.weight
	b := mustMarshal(t, ts)
	i := bytes.Index(b, []byte("init_conv.wxxxxx"))
	copy(b[i:], "init_conv.weight")
	if _, err := ReadHeader(bytes.NewReader(b), int64(len(b))); err == nil || !strings.Contains(err.Error(), "duplicate") {
		t.Fatalf("got %v", err)
	}
}

func TestReadHeaderTruncated(t *testing.T) {
	good := mustMarshal(t, testTensors(F16))
	for n := 0; n < len(good); n++ {
		if _, err := ReadHeader(bytes.NewReader(good[:n]), int64(n)); err == nil {
			t.Fatalf("accepted a pack truncated to %d of %d bytes", n, len(good))
		}
		if _, err := Open(good[:n]); err == nil {
			t.Fatalf("Open accepted a pack truncated to %d bytes", n)
		}
	}
	if _, err := Open(nil); err == nil {
		t.Errorf("Open(nil) succeeded")
	}
	if _, err := Open([]byte("PK\x03\x04")); !errors.Is(err, ErrNotPack) {
		t.Errorf("Open(zip) = %v, want ErrNotPack", err)
	}
}

func TestOpenChecksum(t *testing.T) {
	good := mustMarshal(t, testTensors(F16))
	p, _ := Open(good)
	info, _ := p.Info("time_mlp.1.weight")
	for _, pos := range []int64{
		p.Header.DataOffset + info.Offset + 3, // tensor data
		p.Header.DataOffset - 1,               // header padding
		72 + 2,                                // config name
		20,                                    // the hash itself
	} {
		b := append([]byte(nil), good...)
		b[pos] ^= 0x10
		if _, err := ReadHeader(bytes.NewReader(b), int64(len(b))); err != nil {
			t.Fatalf("byte %d: ReadHeader should not check the hash: %v", pos, err)
		}
		_, err := Open(b)
		if !errors.Is(err, ErrChecksum) || !strings.Contains(err.Error(), "sha256 mismatch") {
			t.Fatalf("byte %d flipped: Open = %v, want sha256 mismatch", pos, err)
		}
	}
}

func TestOpenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tiny.duir")
	if err := os.WriteFile(path, mustMarshal(t, testTensors(F16)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenFile(path); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.duir")
	if _, err := OpenFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("OpenFile(missing) = %v", err)
	}
	bad := filepath.Join(dir, "bad.duir")
	os.WriteFile(bad, []byte("DUIRPACK"), 0o644)
	if _, err := OpenFile(bad); err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "truncated") {
		t.Fatalf("OpenFile(bad) = %v", err)
	}
}

// The official sizes fit: a Tiny-shaped table of ~300 entries stays far
// below MaxHeaderSize, and MaxTensors maximal entries still fit too.
func TestHeaderLimits(t *testing.T) {
	ts := make([]Tensor, MaxTensors)
	for i := range ts {
		name := strings.Repeat("n", MaxNameLen-5) + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676%26)) + "xy"
		ts[i] = Tensor{Name: name, Shape: []int{1, 1, 1, 1}, DType: F32, Data: []float32{float32(i)}}
	}
	b, err := Marshal(testConfig(), ts)
	if err != nil {
		t.Fatal(err)
	}
	p, err := Open(b)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := p.Float32(ts[4095].Name); v[0] != 4095 {
		t.Fatal(v)
	}
	if _, err := Marshal(testConfig(), append(ts, Tensor{Name: "extra", Shape: []int{1}, Data: []float32{0}})); err == nil {
		t.Fatal("accepted 4097 tensors")
	}
}

// A version-1 pack (written before norm_eps existed) still opens, with the
// epsilon its float32-trained weights were made for.
func TestReadVersion1(t *testing.T) {
	f, err := OpenFile("testdata/v1.duir")
	if err != nil {
		t.Fatal(err)
	}
	h := f.Header
	if h.Version != 1 || h.Config.NormEps != DefaultNormEps || h.Config.GroupEps != DefaultGroupEps {
		t.Fatalf("version %d norm eps %g group eps %g, want 1 and %g, %g", h.Version, h.Config.NormEps, h.Config.GroupEps,
			float32(DefaultNormEps), float32(DefaultGroupEps))
	}
	want := testConfig()
	if h.Config.Name != want.Name || h.Config.Dim != want.Dim || len(h.Tensors) != len(testTensors(F16)) {
		t.Fatalf("config %+v with %d tensors", h.Config, len(h.Tensors))
	}
}

// A version-2 pack (written before group_eps existed, as the shipped model
// is) reads with the GroupNorm epsilon it was made and always run with.
func TestReadVersion2(t *testing.T) {
	f, err := OpenFile("testdata/v2.duir")
	if err != nil {
		t.Fatal(err)
	}
	want := testConfig()
	if c := f.Header.Config; f.Header.Version != 2 || c.GroupEps != DefaultGroupEps || c.NormEps != want.NormEps ||
		c.Name != want.Name || len(f.Header.Tensors) != len(testTensors(F16)) {
		t.Fatalf("version %d, config %+v", f.Header.Version, c)
	}
}

func TestEpsRoundTrip(t *testing.T) {
	cfg := testConfig()
	cfg.NormEps, cfg.GroupEps = 1e-3, 2e-4
	b, err := Marshal(cfg, testTensors(F32))
	if err != nil {
		t.Fatal(err)
	}
	h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != Version || h.Config.NormEps != 1e-3 || h.Config.GroupEps != 2e-4 {
		t.Fatalf("version %d norm eps %g group eps %g", h.Version, h.Config.NormEps, h.Config.GroupEps)
	}
}
