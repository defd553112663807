// Runs a Go wasm test binary in headless Chromium (see chromium_exec.sh):
// serves it with wasm_exec.js and the SIMD loader on 127.0.0.1, forwards
// the page's console to stdout and exits with the binary's exit code.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';

const work = process.env.WASMSIMD_WORK;
const { chromium } = createRequire(path.join(process.env.WASMSIMD_PW, 'package.json'))('playwright-core');
const [binary, ...args] = process.argv.slice(2);
const level = Number(process.env.WASMSIMD_LEVEL ?? 2);

const page = `<!doctype html><meta charset="utf-8"><script src="/wasm_exec.js"></script>
<script type="module">
import { prepareSimd } from '/wasmsimd.js';
const simd = await prepareSimd({ level: ${level} });
const go = new Go();
go.argv = ['test.wasm', ...${JSON.stringify(args)}];
go.env = { TMPDIR: '/tmp' };
go.exit = (code) => { window.__exit = code; };
go.importObject.diffuir_simd = simd.imports;
const { instance } = await WebAssembly.instantiateStreaming(fetch('/test.wasm'), go.importObject);
simd.attach(instance.exports.mem);
console.log('wasmsimd level ' + simd.level + ' (' + navigator.userAgent.match(/Chrome\\/[\\d.]+/) + ')');
await go.run(instance);
window.__exit ??= 0;
</script>`;

const files = {
  '/wasm_exec.js': [path.join(work, 'wasm_exec.js'), 'text/javascript'],
  '/wasmsimd.js': [path.join(work, 'wasmsimd.js'), 'text/javascript'],
  '/wasmsimd-kernels.js': [path.join(work, 'wasmsimd-kernels.js'), 'text/javascript'],
  '/test.wasm': [binary, 'application/wasm'],
};
const server = http.createServer((req, res) => {
  if (req.url === '/favicon.ico') {
    res.writeHead(204);
    res.end();
    return;
  }
  const f = files[req.url];
  if (req.url === '/') {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(page);
  } else if (f) {
    res.writeHead(200, { 'content-type': f[1] });
    fs.createReadStream(f[0]).pipe(res);
  } else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
let code = 1;
try {
  const p = await browser.newPage();
  p.on('console', (m) => process.stdout.write(m.text() + '\n'));
  let failed = null;
  p.on('pageerror', (e) => {
    process.stdout.write(`page error: ${e.message}\n`);
    failed = e;
  });
  await p.goto(`http://127.0.0.1:${server.address().port}/`);
  // Until the binary exits, or the page fails (a page error ends it too).
  for (;;) {
    const c = await p.evaluate(() => window.__exit);
    if (c !== undefined) {
      code = c;
      break;
    }
    if (failed) break;
    await new Promise((r) => setTimeout(r, 300));
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(code);
