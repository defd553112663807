// Command wasmsimd generates the WebAssembly module of SIMD128 kernels that
// runtime/backend/cpu calls in the browser (its build tag simd128). Go's
// wasm port emits no SIMD, so the hot loops are written here instruction
// by instruction and assembled into a small module that imports the Go
// instance's memory (env.mem) and works on Go's buffers by byte address.
//
//	go run ./tools/wasmsimd -js dist/site/wasmsimd-kernels.js   the modules as a JS module (base64)
//	go run ./tools/wasmsimd -o DIR                              DIR/simd.wasm, DIR/simd-relaxed.wasm
//
// No toolchain beyond Go is involved: build.sh runs this at build time and
// the bytes are never checked in. site/wasmsimd.js picks the module the
// browser validates and wires it to the Go instance.
package main
