package main

// Module returns the kernels' module: SIMD128 only, or with relaxed SIMD's
// multiply-add. Browsers without relaxed SIMD reject the second one in
// WebAssembly.validate, which is how the loader picks (site/wasmsimd.js).
func Module(relaxed bool) []byte {
	return module(kernels(relaxed))
}

func kernels(relaxed bool) []*fn {
	return []*fn{
		conv(relaxed), dot(relaxed), dot4(relaxed), gemvt(relaxed), expsub(), expsubacc(),
		elementwise("maxinto", f32x4Max), elementwise("mulinto", f32x4Mul), elementwise("addinto", f32x4Add), maxof(), scale(), affine(), stat64(), sqdevacc(), lnapply(),
		winoin(), winoout(),
	}
}
