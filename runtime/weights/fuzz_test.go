package weights

import (
	"bytes"
	"testing"
)

// FuzzOpen feeds arbitrary bytes to ReadHeader and Open. Neither may panic
// or allocate beyond the header limit; whatever ReadHeader accepts must be
// self-consistent, and whatever Open accepts must decode.
func FuzzOpen(f *testing.F) {
	good, err := Marshal(testConfig(), testTensors(F16))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for _, n := range []int{0, 8, 16, 72, 100, len(good) / 2, len(good) - 1} {
		f.Add(good[:n])
	}
	empty, _ := Marshal(testConfig(), nil)
	f.Add(empty)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ReadHeader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			if _, err2 := Open(b); err2 == nil {
				t.Fatalf("Open accepted what ReadHeader rejected: %v", err)
			}
			return
		}
		if h.DataOffset%Alignment != 0 || h.DataOffset > h.FileSize || h.FileSize != int64(len(b)) {
			t.Fatalf("inconsistent header %+v", h)
		}
		end := int64(0)
		for _, ti := range h.Tensors {
			if ti.Offset%Alignment != 0 || ti.Offset < end || h.DataOffset+ti.Offset+ti.Size > h.FileSize ||
				ti.Size != int64(ti.NumElements()*ti.DType.Size()) {
				t.Fatalf("inconsistent tensor %+v", ti)
			}
			end = ti.Offset + ti.Size
		}
		p, err := Open(b)
		if err != nil {
			return
		}
		for _, name := range p.Names() {
			v, err := p.Float32(name)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := p.Info(name)
			if len(v) != info.NumElements() {
				t.Fatalf("%s: %d values for %v", name, len(v), info.Shape)
			}
		}
	})
}
