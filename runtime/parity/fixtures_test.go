package parity

import (
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/diffuir-web/diffuir/runtime/convert"
	"github.com/diffuir-web/diffuir/runtime/model"
	"github.com/diffuir-web/diffuir/runtime/restore"
	"github.com/diffuir-web/diffuir/runtime/weights"
)

// Fixture is one reference model with its recorded activations.
type Fixture struct {
	Model *model.Model
	Acts  map[string]weights.Tensor
}

// load converts the gzipped checkpoint in testdata with restore.Load, as
// the CLI and the browser do (f16 matrices with dt F16), and reads the
// activations.
func load(t *testing.T, checkpoint, acts string, dt weights.DType) *Fixture {
	t.Helper()
	ckpt, err := os.ReadFile(filepath.Join("testdata", checkpoint))
	if err != nil {
		t.Fatal(err)
	}
	m, _, err := restore.Load(ckpt, restore.LoadOptions{F16: dt == weights.F16})
	if err != nil {
		t.Fatalf("%s: %v", checkpoint, err)
	}
	actBytes, err := os.ReadFile(filepath.Join("testdata", acts))
	if err != nil {
		t.Fatal(err)
	}
	ts, err := convert.ReadSafetensors(actBytes)
	if err != nil {
		t.Fatalf("%s: %v", acts, err)
	}
	f := &Fixture{Model: m, Acts: map[string]weights.Tensor{}}
	for _, a := range ts {
		f.Acts[a.Name] = a
	}
	return f
}

// MaxAbsDiff is the largest |a[i] - b[i]| (NaN if one is NaN), or +Inf if
// the lengths differ.
func MaxAbsDiff(a, b []float32) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	var m float64
	for i := range a {
		if d := math.Abs(float64(a[i]) - float64(b[i])); d > m || d != d {
			m = d
		}
	}
	return m
}
