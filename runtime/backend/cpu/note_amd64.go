//go:build amd64 && !goexperiment.simd

package cpu

import xcpu "golang.org/x/sys/cpu"

// KernelNote says when this build leaves the CPU's vector units unused: an
// amd64 build without GOEXPERIMENT=simd (plain `go build` or `go run`) on a
// CPU with AVX2 and FMA runs the portable kernels, several times slower
// than the AVX2/AVX-512 ones (8.3x at 256x256 in one run of
// tools/bench/restore_vs_torch.sh). Empty when there is nothing to say.
func KernelNote() string {
	if xcpu.X86.HasAVX2 && xcpu.X86.HasFMA {
		return "slow build: this CPU has AVX2 but the binary was built without GOEXPERIMENT=simd " +
			"(as `go run` builds it); `./build.sh cli` builds dist/diffuir with the fast kernels"
	}
	return ""
}
