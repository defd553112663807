//go:build !(goexperiment.simd && amd64) && !(wasm && simd128)

package cpu

// convImpls lists the micro-kernels this build can run on this CPU, best
// last.
var convImpls = []convImpl{convGeneric}

// chunk is the number of output pixels a kernel computes per step.
func (convImpl) chunk() int { return genericChunk }

func (a *convArgs) run() { a.generic() }
