package main

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// fixtures writes the files the CLI tests use into a temp dir.
func fixtures(t *testing.T) (dir, pack, ckpt, photo string) {
	t.Helper()
	dir = t.TempDir()
	pack = tinyPack(t, dir)

	gz, err := os.ReadFile("../../runtime/parity/testdata/tiny_trainer.pt.gz")
	must(t, err)
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	must(t, err)
	raw, err := io.ReadAll(zr)
	must(t, err)
	ckpt = filepath.Join(dir, "model-1.pt")
	must(t, os.WriteFile(ckpt, raw, 0o644))

	photo = filepath.Join(dir, "photo.png")
	img := image.NewNRGBA(image.Rect(0, 0, 19, 11))
	for i := range img.Pix {
		img.Pix[i] = byte(i * 7)
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	must(t, os.WriteFile(photo, buf.Bytes(), 0o644))
	return dir, pack, ckpt, photo
}

// tinyPack writes a random-weight Tiny pack into dir.
func tinyPack(t *testing.T, dir string) string {
	t.Helper()
	b, err := weights.Marshal(weights.Tiny, model.RandomWeights(weights.Tiny, 3, weights.F16))
	must(t, err)
	pack := filepath.Join(dir, "tiny.duir")
	must(t, os.WriteFile(pack, b, 0o644))
	return pack
}

// setPNGSize rewrites the IHDR dimensions of an encoded PNG and its CRC.
func setPNGSize(b []byte, w, h uint32) {
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func runCLI(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestConvertInfoRestore(t *testing.T) {
	dir, _, ckpt, photo := fixtures(t)
	pack := filepath.Join(dir, "converted.duir")
	code, out, errs := runCLI("convert", ckpt, "-o", pack)
	if code != 0 || !strings.Contains(out, "size T") || !strings.Contains(out, "886435 parameters") {
		t.Fatalf("convert: code %d\n%s%s", code, out, errs)
	}
	if st, err := os.Stat(pack); err != nil || st.Size() > 1_900_000 {
		t.Fatalf("pack: %v, size %d (limit 1.9 MB)", err, st.Size())
	}
	code, out, errs = runCLI("info", pack)
	if code != 0 || !strings.Contains(out, "ema") && !strings.Contains(out, "init_conv.weight") {
		t.Fatalf("info: code %d\n%s%s", code, out, errs)
	}
	for _, tc := range []struct{ out, extra, report string }{
		{"a.png", "", "1 tiles x 2 steps"}, {"b.jpg", "", "1 tiles x 2 steps"}, {"c.png", "--bit-depth=16", "1 tiles x 2 steps"},
		{"d.png", "--tile=8", "6 tiles x 2 steps"},
	} {
		args := []string{"restore", photo, "-o", filepath.Join(dir, tc.out), "--model", pack, "--steps", "2", "--noise-scale", "0"}
		if tc.extra != "" {
			args = append(args, tc.extra)
		}
		code, out, errs = runCLI(args...)
		if code != 0 || !strings.Contains(out, tc.report) {
			t.Fatalf("restore %v: code %d, want %q in the summary\n%s%s", args, code, tc.report, out, errs)
		}
		if _, err := os.Stat(filepath.Join(dir, tc.out)); err != nil {
			t.Fatal(err)
		}
	}
	// A checkpoint works directly as --model.
	if code, out, errs = runCLI("restore", photo, "-o", filepath.Join(dir, "e.png"), "--model", ckpt, "--steps", "1"); code != 0 {
		t.Fatalf("restore with checkpoint: code %d\n%s%s", code, out, errs)
	}
}

// Every bad input exits non-zero with one line on stderr, never a panic.
func TestBadInputs(t *testing.T) {
	dir, pack, ckpt, photo := fixtures(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		must(t, os.WriteFile(p, data, 0o644))
		return p
	}
	packBytes, _ := os.ReadFile(pack)
	ckptBytes, _ := os.ReadFile(ckpt)
	corrupt := append([]byte(nil), packBytes...)
	corrupt[len(corrupt)-100] ^= 0xff
	corruptCkpt := append([]byte(nil), ckptBytes...)
	for i := len(corruptCkpt) / 2; i < len(corruptCkpt)/2+4096; i++ {
		corruptCkpt[i] = 0
	}
	var zero bytes.Buffer
	must(t, png.Encode(&zero, image.NewGray(image.Rect(0, 0, 1, 1))))
	zb := zero.Bytes()
	setPNGSize(zb, 0, 0)
	// A PNG header claiming 60000x60000 pixels: refused before decoding.
	var huge bytes.Buffer
	must(t, png.Encode(&huge, image.NewGray(image.Rect(0, 0, 1, 1))))
	hb := huge.Bytes()
	setPNGSize(hb, 60000, 60000)
	// Large enough that even the smallest tile (32x32) plans over 1 MiB.
	var mid bytes.Buffer
	must(t, png.Encode(&mid, image.NewGray(image.Rect(0, 0, 48, 40))))

	out := filepath.Join(dir, "out.png")
	for _, tc := range []struct {
		name string
		args []string
		want string // substring of the error line
	}{
		{"no args", []string{}, "usage"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"truncated pack", []string{"restore", photo, "-o", out, "--model", write("trunc.duir", packBytes[:len(packBytes)/2])}, "pack"},
		{"corrupt pack", []string{"restore", photo, "-o", out, "--model", write("bad.duir", corrupt)}, "sha256"},
		{"info on garbage", []string{"info", write("garbage.duir", []byte("hello world, not a pack"))}, "pack"},
		{"truncated checkpoint", []string{"convert", write("trunc.pt", ckptBytes[:len(ckptBytes)/3]), "-o", filepath.Join(dir, "x.duir")}, "convert"},
		{"corrupt checkpoint", []string{"convert", write("corrupt.pt", corruptCkpt), "-o", filepath.Join(dir, "y.duir")}, "convert"},
		{"not a checkpoint", []string{"convert", photo, "-o", filepath.Join(dir, "z.duir")}, "convert"},
		{"missing checkpoint", []string{"convert", filepath.Join(dir, "nope.pt"), "-o", filepath.Join(dir, "z.duir")}, "nope.pt"},
		{"missing image", []string{"restore", filepath.Join(dir, "nope.png"), "-o", out, "--model", pack}, "no such file"},
		{"not an image", []string{"restore", pack, "-o", out, "--model", pack}, "image"},
		{"empty file", []string{"restore", write("empty.png", nil), "-o", out, "--model", pack}, "empty"},
		{"zero-size image", []string{"restore", write("zero.png", zb), "-o", out, "--model", pack}, "dimension"},
		{"huge image", []string{"restore", write("huge.png", hb), "-o", out, "--model", pack}, "large"},
		{"negative memory budget", []string{"restore", photo, "-o", out, "--model", pack, "--memory", "-1"}, "must not be negative"},
		{"memory budget below one tile", []string{"restore", write("mid.png", mid.Bytes()), "-o", out, "--model", pack, "--memory", "1", "--backend", "cpu"}, "memory budget too small"},
		{"bad steps", []string{"restore", photo, "-o", out, "--model", pack, "--steps", "50"}, "steps"},
		{"bad bit depth", []string{"restore", photo, "-o", out, "--model", pack, "--bit-depth", "12"}, "bit-depth"},
		{"bad output format", []string{"restore", photo, "-o", filepath.Join(dir, "out.gif"), "--model", pack}, "gif"},
		{"bad dtype", []string{"convert", ckpt, "-o", filepath.Join(dir, "w.duir"), "--dtype", "f8"}, "dtype"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errs := runCLI(tc.args...)
			if code == 0 {
				t.Fatalf("exit 0, want failure")
			}
			if !strings.Contains(strings.ToLower(errs), strings.ToLower(tc.want)) {
				t.Fatalf("stderr %q does not mention %q", errs, tc.want)
			}
			if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine") {
				t.Fatalf("panic: %s", errs)
			}
		})
	}
	for _, name := range []string{"out.png", "[xyz].duir", ".diffuir-*"} {
		if left, _ := filepath.Glob(filepath.Join(dir, name)); len(left) > 0 {
			t.Errorf("a failed command left %v", left)
		}
	}
}
