// Finishes dist/site after build.sh has copied the sources and built the
// wasm: content-hashed names for the wasm and wasm_exec.js, model packs
// named by content hash, build-info.js (what the worker loads), the service
// worker's precache list, precompressed .br and .gz siblings, and a size
// report. Node's zlib only: no npm packages.
//
//   node site/build/postbuild.mjs DIST_SITE [MODELS_DIR]
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const WASM_BR_BUDGET = 2.5e6; // bytes of brotli for the main wasm (issue #4)

const [dir, modelsDir = 'models'] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node postbuild.mjs DIST_SITE [MODELS_DIR]');
  process.exit(2);
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');
const rel = (p) => path.relative(dir, p).split(path.sep).join('/');

function hashName(file) {
  const b = fs.readFileSync(file);
  const h = sha256(b).slice(0, 12);
  const ext = path.extname(file);
  const out = path.join(path.dirname(file), `${path.basename(file, ext)}.${h}${ext}`);
  fs.renameSync(file, out);
  return out;
}

// 1. Content-hashed runtime files.
const wasm = hashName(path.join(dir, 'diffuir.wasm'));
const wasmExec = hashName(path.join(dir, 'wasm_exec.js'));

// 2. Model packs: models/<name>.<sha256[:12]>.duir, listed with size and hash.
const models = [];
if (fs.existsSync(modelsDir)) {
  fs.mkdirSync(path.join(dir, 'models'), { recursive: true });
  for (const f of fs.readdirSync(modelsDir).sort()) {
    if (!f.endsWith('.duir')) continue;
    const b = fs.readFileSync(path.join(modelsDir, f));
    const h = sha256(b);
    const base = path.basename(f, '.duir');
    const name = `${base}.${h.slice(0, 12)}.duir`;
    fs.writeFileSync(path.join(dir, 'models', name), b);
    models.push({ label: base, url: `models/${name}`, size: b.length, sha256: h });
  }
}
// A model named "default" (or the only one) comes first: the menu's "bundled default".
models.sort((a, b) => (b.label === 'default') - (a.label === 'default'));

// 3. build-info.js, read by the worker and the page.
function walk(d, out = []) {
  for (const e of fs.readdirSync(d, { withFileTypes: true })) {
    const p = path.join(d, e.name);
    if (e.isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}
const contentHash = sha256(
  walk(dir)
    .filter((p) => !/\.(br|gz)$/.test(p) && !p.endsWith('sw.js'))
    .sort()
    .map((p) => `${rel(p)}:${sha256(fs.readFileSync(p))}`)
    .join('\n'),
).slice(0, 12);
const info = { version: contentHash, wasm: rel(wasm), wasmExec: rel(wasmExec), wasmSize: fs.statSync(wasm).size, models };
fs.writeFileSync(path.join(dir, 'build-info.js'), `// Written by build.sh: do not edit.\nexport default ${JSON.stringify(info, null, 2)};\n`);

// 4. The service worker's precache list: every shell file with its content
// hash (models are cached on first use, not precached).
const shell = walk(dir)
  .filter((p) => !/\.(br|gz|duir)$/.test(p) && !p.endsWith('sw.js') && !p.endsWith('.md'))
  .sort()
  .map((p) => ({ url: rel(p), hash: sha256(fs.readFileSync(p)).slice(0, 16) }));
const index = shell.find((f) => f.url === 'index.html');
if (index) shell.unshift({ url: './', hash: index.hash });
const precache = { version: sha256(JSON.stringify(shell)).slice(0, 12), files: shell, models: models.map((m) => m.url) };
const swPath = path.join(dir, 'sw.js');
const sw = fs.readFileSync(swPath, 'utf8');
const re = /\/\*@PRECACHE@\*\/[\s\S]*?\/\*@END@\*\//;
if (!re.test(sw)) throw new Error('sw.js: no /*@PRECACHE@*/ ... /*@END@*/ marker');
fs.writeFileSync(swPath, sw.replace(re, () => JSON.stringify(precache)));

// 5. Precompressed siblings for the server to pick by Accept-Encoding.
const sizes = [];
for (const p of walk(dir).sort()) {
  if (!/\.(wasm|js|mjs|css|html|webmanifest|json|svg|txt)$/.test(p)) continue;
  const b = fs.readFileSync(p);
  const br = zlib.brotliCompressSync(b, {
    params: {
      [zlib.constants.BROTLI_PARAM_QUALITY]: 11,
      [zlib.constants.BROTLI_PARAM_SIZE_HINT]: b.length,
      [zlib.constants.BROTLI_PARAM_MODE]: p.endsWith('.wasm') ? zlib.constants.BROTLI_MODE_GENERIC : zlib.constants.BROTLI_MODE_TEXT,
    },
  });
  const gz = zlib.gzipSync(b, { level: 9 });
  if (br.length < b.length) fs.writeFileSync(`${p}.br`, br);
  if (gz.length < b.length) fs.writeFileSync(`${p}.gz`, gz);
  sizes.push({ file: rel(p), raw: b.length, gz: gz.length, br: br.length });
}

const pad = (s, n) => String(s).padStart(n);
console.log(`${'raw'.padStart(10)} ${'gzip'.padStart(10)} ${'brotli'.padStart(10)}  file (dist/site)`);
for (const s of sizes) console.log(`${pad(s.raw, 10)} ${pad(s.gz, 10)} ${pad(s.br, 10)}  ${s.file}`);
for (const m of models) console.log(`${pad(m.size, 10)} ${pad('-', 10)} ${pad('-', 10)}  ${m.url}`);
const w = sizes.find((s) => s.file === rel(wasm));
const mb = (n) => (n / 1e6).toFixed(2);
console.log(`wasm: ${mb(w.raw)} MB raw, ${mb(w.gz)} MB gzip, ${mb(w.br)} MB brotli (budget ${mb(WASM_BR_BUDGET)} MB brotli)`);
console.log(`build ${contentHash}, ${shell.length} files precached, ${models.length} bundled model(s)`);
if (w.br > WASM_BR_BUDGET) {
  console.error(`build: the wasm is over its size budget: ${w.br} > ${WASM_BR_BUDGET} bytes brotli`);
  process.exit(1);
}
