// Go's wasm_exec_node.js with the diffuir_simd imports (see node_exec.sh).
'use strict';
const path = require('path');
const { execSync } = require('child_process');

globalThis.require = require;
globalThis.fs = require('fs');
globalThis.path = path;
globalThis.TextEncoder = require('util').TextEncoder;
globalThis.TextDecoder = require('util').TextDecoder;
globalThis.performance ??= require('performance');
globalThis.crypto ??= require('crypto');

const goroot = execSync('go env GOROOT').toString().trim();
require(path.join(goroot, 'lib', 'wasm', 'wasm_exec.js'));

(async () => {
  const { prepareSimd } = await import(require('url').pathToFileURL(process.env.WASMSIMD_LOADER).href);
  const simd = await prepareSimd({ level: Number(process.env.WASMSIMD_LEVEL ?? 2) });
  const go = new Go();
  go.argv = process.argv.slice(2);
  go.env = Object.assign({ TMPDIR: require('os').tmpdir() }, process.env);
  go.exit = process.exit;
  go.importObject.diffuir_simd = simd.imports;
  const { instance } = await WebAssembly.instantiate(fs.readFileSync(process.argv[2]), go.importObject);
  simd.attach(instance.exports.mem);
  process.on('exit', (code) => {
    if (code === 0 && !go.exited) {
      go._pendingEvent = { id: 0 };
      go._resume();
    }
  });
  await go.run(instance);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
