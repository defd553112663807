package gpu

import (
	"errors"
	"fmt"
	"os"
	"testing"
)

// One Backend serves every test (pipelines are cached per Backend). Tests
// skip only when there is no adapter at all; with DIFFUIR_REQUIRE_GPU=1 a
// missing adapter fails instead, so CI cannot pass by skipping. The package
// prints "GPU tests ran on <adapter>" (visible with -v), and with
// DIFFUIR_GPU_REPORT=<file> also writes that line to the file, since
// `go test ./...` hides the output of passing packages.
var (
	testBE    *Backend
	testBEErr error
	// convBEs are backends with a forced conv kernel and weight binding,
	// opened on first use by convBackend.
	convBEs = map[convSetup]*Backend{}
)

// convSetup is one conv configuration the tests and benchmarks compare.
type convSetup struct {
	kernel  string // ConvBlocked or ConvTiled
	storage bool   // Options.StorageWeights
	attn    string // Options.AttnKernel ("": the adapter's choice)
}

func (s convSetup) String() string {
	name := s.kernel
	if s.storage {
		name += "_storage"
	}
	if s.attn != "" {
		name += "_attn_" + s.attn
	}
	return name
}

// convKernels are the conv kernels every conv test and benchmark runs.
var convKernels = []string{ConvBlocked, ConvTiled}

func TestMain(m *testing.M) {
	if os.Getenv("XDG_RUNTIME_DIR") == "" {
		os.Setenv("XDG_RUNTIME_DIR", os.TempDir()) // silences Mesa's warning
	}
	testBE, testBEErr = New(Options{})
	if testBEErr != nil && os.Getenv("DIFFUIR_REQUIRE_GPU") == "1" {
		fmt.Fprintf(os.Stderr, "FAIL: DIFFUIR_REQUIRE_GPU=1 but no GPU backend: %v\n", testBEErr)
		os.Exit(1)
	}
	code := m.Run()
	for _, be := range convBEs {
		_ = be.Close()
	}
	line := fmt.Sprintf("GPU tests skipped: %v\n", testBEErr)
	if testBE != nil {
		line = fmt.Sprintf("GPU tests ran on %s\n", testBE.Name())
		_ = testBE.Close()
	}
	fmt.Print(line)
	if f := os.Getenv("DIFFUIR_GPU_REPORT"); f != "" {
		if err := os.WriteFile(f, []byte(line), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// gpuBackend returns the shared backend or skips the test.
func gpuBackend(t testing.TB) *Backend {
	t.Helper()
	if testBE == nil {
		if !errors.Is(testBEErr, ErrNoAdapter) {
			t.Fatalf("GPU backend: %v", testBEErr) // an adapter exists but failed: a real error
		}
		t.Skipf("no GPU adapter: %v", testBEErr)
	}
	return testBE
}

// convBackend returns a backend whose convs use s, or skips like
// gpuBackend. The shared backend picks its kernel per adapter; these force
// one, so both kernels are checked on any adapter.
func convBackend(t testing.TB, s convSetup) *Backend {
	t.Helper()
	gpuBackend(t)
	if be, ok := convBEs[s]; ok {
		return be
	}
	be, err := New(Options{ConvKernel: s.kernel, StorageWeights: s.storage, AttnKernel: s.attn})
	if err != nil {
		t.Fatalf("GPU backend with %s convs: %v", s, err)
	}
	convBEs[s] = be
	return be
}
