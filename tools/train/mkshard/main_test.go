package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"testing"
)

func writePhotos(t *testing.T) string {
	dir := t.TempDir()
	for k, sz := range [][2]int{{90, 70}, {64, 80}, {20, 20}} { // the last is too small
		img := image.NewNRGBA(image.Rect(0, 0, sz[0], sz[1]))
		for y := range sz[1] {
			for x := range sz[0] {
				img.Set(x, y, color.NRGBA{uint8(20 + 2*x + 40*k), uint8(50 + 2*y), uint8(100 + (x*y)%120), 255})
			}
		}
		var b bytes.Buffer
		if err := png.Encode(&b, img); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, string(rune('a'+k))+".png"), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readShard(t *testing.T, path string) (Header, []byte) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:8]) != magic || binary.LittleEndian.Uint32(b[8:]) != 1 {
		t.Fatalf("bad magic/version")
	}
	var h Header
	if err := json.Unmarshal(b[16:16+binary.LittleEndian.Uint32(b[12:])], &h); err != nil {
		t.Fatal(err)
	}
	return h, b
}

func TestShard(t *testing.T) {
	photos := writePhotos(t)
	out := t.TempDir()
	var log bytes.Buffer
	args := func(file string, workers string) []string {
		return []string{"--photos", photos, "--out", filepath.Join(out, file), "--patches", "23", "--size", "32",
			"--per-image", "2", "--seed", "5", "--max-side", "80", "--workers", workers}
	}
	if err := run(args("a.shard", "1"), &log, &log); err != nil {
		t.Fatal(err, log.String())
	}
	if err := run(args("b.shard", "3"), &log, &log); err != nil {
		t.Fatal(err)
	}
	h, b := readShard(t, filepath.Join(out, "a.shard"))
	_, b2 := readShard(t, filepath.Join(out, "b.shard"))
	if sha256.Sum256(b) != sha256.Sum256(b2) {
		t.Error("output depends on --workers")
	}
	if !bytes.Contains(log.Bytes(), []byte("skipping c.png")) {
		t.Errorf("small photo not reported: %s", log.String())
	}
	if h.Count != 23 || h.Size != 32 || len(h.Photos) != 2 || h.Groups != 3 || len(h.Tasks) != 5 {
		t.Fatalf("header %+v", h)
	}
	// 23 pairs in groups of 10 (5 tasks x 2): 2,2,2,2,2 per task in each full
	// group, then 2 haze + 1 lowlight.
	want := map[string]int{"haze": 6, "lowlight": 5, "rain": 4, "snow": 4, "blur": 4}
	for k, v := range want {
		if h.TaskCount[k] != v {
			t.Errorf("task counts %v, want %v", h.TaskCount, want)
			break
		}
	}
	plane := 3 * 32 * 32
	if int64(len(b)) < h.Offsets["photo"]+2*23 {
		t.Fatal("file too short")
	}
	tasks := b[h.Offsets["task"] : h.Offsets["task"]+23]
	for i := range 23 {
		c := b[h.Offsets["clean"]+int64(i*plane):][:plane]
		d := b[h.Offsets["degraded"]+int64(i*plane):][:plane]
		if bytes.Equal(c, d) {
			t.Errorf("pair %d (task %d): degraded equals clean", i, tasks[i])
		}
		if tasks[i] > 4 {
			t.Errorf("task id %d", tasks[i])
		}
		if p := binary.LittleEndian.Uint16(b[h.Offsets["photo"]+int64(2*i):]); p > 1 {
			t.Errorf("photo id %d", p)
		}
	}
	if err := run([]string{"--photos", photos}, &log, &log); err == nil {
		t.Error("missing --out accepted")
	}
}

// --darken 1 darkens the clean photo of every task but lowlight, the same
// crops otherwise: clean patches are darker, lowlight pairs unchanged.
func TestShardDarken(t *testing.T) {
	photos := writePhotos(t)
	out := t.TempDir()
	var log bytes.Buffer
	for _, d := range []string{"0", "1"} {
		args := []string{"--photos", photos, "--out", filepath.Join(out, d+".shard"), "--patches", "20", "--size", "32",
			"--per-image", "2", "--seed", "5", "--max-side", "80", "--workers", "2", "--darken", d}
		if err := run(args, &log, &log); err != nil {
			t.Fatal(err, log.String())
		}
	}
	h, plain := readShard(t, filepath.Join(out, "0.shard"))
	hd, dark := readShard(t, filepath.Join(out, "1.shard"))
	if hd.Darken != 1 || h.Darken != 0 {
		t.Fatalf("darken in headers: %v %v", h.Darken, hd.Darken)
	}
	plane := 3 * 32 * 32
	mean := func(b []byte) float64 {
		s := 0
		for _, v := range b {
			s += int(v)
		}
		return float64(s) / float64(len(b))
	}
	for i := range 20 {
		task := plain[h.Offsets["task"]+int64(i)]
		c0 := plain[h.Offsets["clean"]+int64(i*plane):][:plane]
		c1 := dark[hd.Offsets["clean"]+int64(i*plane):][:plane]
		if task == 1 { // lowlight
			if !bytes.Equal(c0, c1) {
				t.Errorf("pair %d (lowlight): clean patch changed", i)
			}
			continue
		}
		if m0, m1 := mean(c0), mean(c1); !(m1 < 0.8*m0 && m1 > 0.3*m0) {
			t.Errorf("pair %d (task %d): clean mean %.1f -> %.1f, want x0.35-0.75", i, task, m0, m1)
		}
	}
	if err := run([]string{"--photos", photos, "--out", filepath.Join(out, "x"), "--patches", "2", "--darken", "2"}, &log, &log); err == nil {
		t.Error("--darken 2 accepted")
	}
}
