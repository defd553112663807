// The SIMD128 kernels of the CPU backend (runtime/backend/cpu, build tag
// simd128): a second, small WebAssembly module generated at build time by
// tools/wasmsimd, which works directly on the Go instance's memory. Go's
// wasm port emits no SIMD; this module does the convolutions' inner loops.
//
//   const simd = await prepareSimd();            // before instantiating Go
//   go.importObject.diffuir_simd = simd.imports;
//   ... instantiate the Go module ...
//   simd.attach(instance.exports.mem);           // before go.run
//
// Feature detection is WebAssembly.validate of the modules themselves:
// relaxed SIMD (FMA) where the browser has it, else plain SIMD128, else
// none, and the Go side then runs its portable kernels (imports.available
// returns 0). The Go build always needs these imports, SIMD or not.
import { simd as simdB64, relaxed as relaxedB64, trampolines } from './wasmsimd-kernels.js';

function decode(b64) {
  const s = atob(b64);
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i);
  return b;
}

// prepareSimd compiles the best module the engine validates. options.level
// caps it (0: none, 1: no relaxed SIMD), for tests and comparisons.
export async function prepareSimd(options = {}) {
  const cap = options.level ?? 2;
  let level = 0;
  let module = null;
  try {
    const relaxed = decode(relaxedB64);
    const plain = decode(simdB64);
    if (cap >= 2 && WebAssembly.validate(relaxed)) {
      level = 2;
      module = await WebAssembly.compile(relaxed);
    } else if (cap >= 1 && WebAssembly.validate(plain)) {
      level = 1;
      module = await WebAssembly.compile(plain);
    }
  } catch {
    level = 0; // no SIMD: the portable kernels run
    module = null;
  }
  const k = { x: null }; // the kernels' exports once attached
  const imports = { ...trampolines(k), available: () => (k.x ? level : 0) };
  return {
    imports,
    get level() {
      return k.x ? level : 0;
    },
    attach(memory) {
      if (!module) return;
      try {
        k.x = new WebAssembly.Instance(module, { env: { mem: memory } }).exports;
      } catch {
        k.x = null;
      }
    },
  };
}
