package bundle

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"testing"
	"time"
)

func TestZipRoundTrip(t *testing.T) {
	when := time.Date(2026, 12, 2, 13, 0, 0, 0, time.UTC)
	for _, n := range []int{0, 1, 3, 7} {
		var files []File
		for i := range n {
			data := bytes.Repeat([]byte{byte(i), 0x89, 'P'}, 1+i*333)
			files = append(files, File{Name: string(rune('a'+i)) + "-restored.png", Data: data})
		}
		b, err := Zip(files, when)
		if err != nil {
			t.Fatalf("%d files: %v", n, err)
		}
		r, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("%d files: archive unreadable: %v", n, err)
		}
		if len(r.File) != n {
			t.Fatalf("%d files: archive holds %d", n, len(r.File))
		}
		for i, f := range r.File {
			if f.Name != files[i].Name || f.Method != zip.Store || !f.Modified.Equal(when) {
				t.Errorf("entry %d: %s method %d modified %v", i, f.Name, f.Method, f.Modified)
			}
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(rc)
			rc.Close()
			if err != nil || !bytes.Equal(got, files[i].Data) {
				t.Errorf("entry %d: %d bytes back (%v), want %d", i, len(got), err, len(files[i].Data))
			}
		}
	}
}

func TestZipRefusesBadNames(t *testing.T) {
	for _, names := range [][]string{{""}, {"../x.png"}, {"a/b.png"}, {`a\b.png`}, {"C:x.png"}, {".."}, {"a.png", "a.png"}} {
		var files []File
		for _, n := range names {
			files = append(files, File{Name: n, Data: []byte{1}})
		}
		if _, err := Zip(files, time.Time{}); !errors.Is(err, ErrBadName) {
			t.Errorf("%q: %v, want ErrBadName", names, err)
		}
	}
}
