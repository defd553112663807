package cpu

import (
	"runtime"
	"strings"
	"testing"

	xcpu "golang.org/x/sys/cpu"
)

// The note appears exactly when the portable kernels run on an amd64 CPU
// that could run the AVX2 ones: in a plain build (go test) on such a CPU,
// never in the GOEXPERIMENT=simd build.
func TestKernelNote(t *testing.T) {
	fast := runtime.GOARCH == "amd64" && xcpu.X86.HasAVX2 && xcpu.X86.HasFMA
	want := fast && KernelName() == "portable" && convKernel == convImpls[len(convImpls)-1]
	note := KernelNote()
	if (note != "") != want {
		t.Fatalf("KernelNote() = %q with kernel %s (amd64 with AVX2+FMA: %v)", note, KernelName(), fast)
	}
	if note != "" && !strings.Contains(note, "./build.sh cli") {
		t.Errorf("the note does not say how to get the fast kernels: %q", note)
	}
}
