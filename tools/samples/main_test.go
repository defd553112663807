package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/diffuir-web/diffuir/tools/internal/degrade"
	"github.com/diffuir-web/diffuir/tools/internal/metrics"
)

// The committed photos make five distinct, deterministic samples, one per task.
func TestWrite(t *testing.T) {
	out := t.TempDir()
	if err := run([]string{"-src", "../../site/samples", "-o", out}, os.Stdout); err != nil {
		t.Fatal(err)
	}
	var index []struct {
		Task  string `json:"task"`
		File  string `json:"file"`
		Clean string `json:"clean"`
	}
	b, err := os.ReadFile(filepath.Join(out, "samples.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if len(index) != len(degrade.Tasks) {
		t.Fatalf("%d samples, want one per task (%d)", len(index), len(degrade.Tasks))
	}
	seen := map[string]bool{}
	for _, e := range index {
		seen[e.Task] = true
		for _, f := range []string{e.File, e.Clean} {
			if _, err := os.Stat(filepath.Join(out, f)); err != nil {
				t.Errorf("%s: %v", e.Task, err)
			}
		}
		// The degraded sample differs from its clean photo, measurably.
		var buf bytes.Buffer
		if err := run([]string{"-psnr", filepath.Join(out, e.Clean), filepath.Join(out, e.File), filepath.Join(out, e.Clean)}, &buf); err != nil {
			t.Fatal(err)
		}
		var p []float64
		if err := json.Unmarshal(buf.Bytes(), &p); err != nil || len(p) != 2 {
			t.Fatalf("%s: -psnr printed %q", e.Task, buf.String())
		}
		if !(p[0] < 35) || p[1] != metrics.PSNRCap {
			t.Errorf("%s: PSNR degraded %.2f dB (want a visible degradation), clean vs itself %.2f", e.Task, p[0], p[1])
		}
	}
	for _, task := range degrade.Tasks {
		if !seen[string(task)] {
			t.Errorf("no sample for %s", task)
		}
	}
	// Deterministic: a second run writes the same bytes.
	again := t.TempDir()
	if err := run([]string{"-src", "../../site/samples", "-o", again}, os.Stdout); err != nil {
		t.Fatal(err)
	}
	for _, e := range index {
		a, _ := os.ReadFile(filepath.Join(out, e.File))
		b, _ := os.ReadFile(filepath.Join(again, e.File))
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two runs differ", e.File)
		}
	}
}

func TestUsage(t *testing.T) {
	if err := run(nil, os.Stdout); err == nil || !strings.Contains(err.Error(), "want -o DIR") {
		t.Errorf("no arguments: %v", err)
	}
}
