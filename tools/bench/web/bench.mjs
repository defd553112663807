// Driver of the in-browser benchmark (issue #7): serves dist/site, the page,
// onnxruntime-web's dist and the models on 127.0.0.1, then for each image size
// and each implementation launches a fresh headless Chromium (Debian's, WebGPU
// on SwiftShader, the flags of tests/web), runs window.benchRun on the page and
// samples the browser's memory. Prints a markdown table; writes all numbers as
// JSON. Run it through run.sh, which builds and exports what it needs.
//
//   node bench.mjs --site DIST_SITE --models DIR [--model tiny] [--sizes 64,128]
//                  [--runs 3] [--budget-s 240] [--impls a,b,...] [--threads 1]
//                  [--steps 3] [--impl-timeout-s 1200] [--json FILE] [--max-diff N]
//                  [--profile] [--profile-reps 2]
//
// --profile: for diffuir-gpu, after the timed runs, asks the worker for the
// per-kernel profile of one UNet pass at that size (PROTOCOL.md, profile;
// --profile-reps copies of each dispatch per submit) and prints it as a table
// under the size's table.
//
// DIR holds MODEL.duir, MODEL.onnx and MODEL-pad8.onnx. Exits 1 when an
// implementation failed or, with --max-diff, when an output differs from the
// reference by more than N/255 somewhere (a quick correctness check:
// --sizes 32 --runs 1 --impls diffuir-cpu,ort-wasm --max-diff 1).
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { peakSampler } from './pss.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const a = {
    site: null, models: null, model: 'tiny', sizes: '64,128', runs: 3, 'budget-s': 240, threads: 1, steps: 3,
    impls: 'diffuir-gpu,diffuir-cpu,ort-webgpu,ort-webgpu-pad8,ort-wasm', 'impl-timeout-s': 1200, json: null, 'max-diff': null,
    profile: false, 'profile-reps': 2,
  };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (!(k in a)) throw new Error(`unknown option ${argv[i]}`);
    a[k] = typeof a[k] === 'boolean' ? true : argv[++i];
  }
  if (!a.site || !a.models) throw new Error('--site and --models are required');
  return a;
}
const args = parseArgs(process.argv.slice(2));

// What each implementation name means (see page/bench.js).
const IMPLS = {
  'diffuir-gpu': { kind: 'diffuir', backend: 'gpu', label: 'this runtime, WebGPU' },
  'diffuir-cpu': { kind: 'diffuir', backend: 'cpu', label: 'this runtime, CPU fallback (Go wasm with the SIMD128 kernels, one worker: a single tile)' },
  'ort-webgpu': { kind: 'ort', bundle: 'ort.webgpu.min.mjs', ep: 'webgpu', channels: 6, label: "ort-web 'webgpu' (onnxruntime-web/webgpu), 6-ch input" },
  'ort-webgpu-pad8': { kind: 'ort', bundle: 'ort.webgpu.min.mjs', ep: 'webgpu', channels: 8, label: "ort-web 'webgpu' (onnxruntime-web/webgpu), input padded 6→8" },
  'ort-jsep': { kind: 'ort', bundle: 'ort.min.mjs', ep: 'webgpu', channels: 6, label: "ort-web 'webgpu' (default bundle, JSEP), 6-ch input" },
  'ort-jsep-pad8': { kind: 'ort', bundle: 'ort.min.mjs', ep: 'webgpu', channels: 8, label: "ort-web 'webgpu' (default bundle, JSEP), input padded 6→8" },
  'ort-wasm': { kind: 'ort', bundle: 'ort.wasm.min.mjs', ep: 'wasm', channels: 6, label: "ort-web 'wasm' (onnxruntime-web/wasm)" },
};

// ---------------------------------------------------------------------------
// Static server: 127.0.0.1 only, cross-origin isolated (COOP/COEP), so the
// page may use measureUserAgentSpecificMemory and ort's wasm threads.

const ROUTES = [
  ['/app/', path.resolve(args.site)],
  ['/ort/', path.join(here, 'node_modules/onnxruntime-web/dist')],
  ['/models/', path.resolve(args.models)],
  ['/', path.join(here, 'page')],
];
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png', '.webmanifest': 'application/manifest+json',
};

let served = 0; // response bytes sent, reset per implementation

function serve() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    let p = decodeURIComponent(url.pathname);
    if (p.endsWith('/')) p += 'index.html';
    const route = ROUTES.find(([prefix]) => p.startsWith(prefix));
    const file = path.join(route[1], path.normalize(p.slice(route[0].length)).replace(/^(\.\.[/\\])+/, ''));
    if (!file.startsWith(route[1]) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    const body = fs.readFileSync(file);
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
      'content-length': body.length,
      'cache-control': 'no-cache',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    });
    if (req.method !== 'HEAD') served += body.length;
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const COMMON = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];

async function runOne(base, name, size) {
  const spec = IMPLS[name];
  if (!spec) throw new Error(`unknown implementation ${name} (known: ${Object.keys(IMPLS).join(', ')})`);
  const cfg = {
    ...spec,
    impl: name,
    size: [size, size],
    steps: Number(args.steps),
    runs: Number(args.runs),
    budgetMs: Number(args['budget-s']) * 1000,
    threads: Number(args.threads),
    profile: args.profile,
    profileReps: Number(args['profile-reps']),
    modelURL: spec.kind === 'diffuir' ? `/models/${args.model}.duir` : `/models/${args.model}${spec.channels === 8 ? '-pad8' : ''}.onnx`,
  };
  served = 0;
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: [...COMMON, ...WEBGPU] });
  const out = { impl: name, label: spec.label, size, browser: browser.version() };
  const foreign = new Set();
  let mem = null; // peakSampler while the runs go
  try {
    const context = await browser.newContext();
    context.on('request', (r) => {
      const u = r.url();
      if (!u.startsWith(base) && !u.startsWith('blob:') && !u.startsWith('data:')) foreign.add(u);
    });
    const page = await context.newPage();
    const consoleLines = [];
    page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
    page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e}`));
    await page.goto(`${base}index.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 30_000 });
    out.crossOriginIsolated = await page.evaluate(() => self.crossOriginIsolated);
    await new Promise((r) => setTimeout(r, 500));
    mem = peakSampler(200);
    const t0 = Date.now();
    const limit = Number(args['impl-timeout-s']) * 1000;
    let killer;
    const result = await Promise.race([
      page.evaluate((c) => window.benchRun(c), cfg),
      new Promise((_, reject) => {
        killer = setTimeout(() => reject(new Error(`timed out after ${limit / 1000} s`)), limit);
      }),
    ]).finally(() => clearTimeout(killer));
    const { idle } = mem;
    const peak = mem.stop();
    mem = null;
    Object.assign(out, result, { ok: true, wallS: (Date.now() - t0) / 1000, idlePssMB: idle / 2 ** 20, peakPssMB: peak / 2 ** 20, peakAboveIdleMB: (peak - idle) / 2 ** 20 });
    out.console = consoleLines.filter((l) => !/: (first restore|run \d+|ready in)/.test(l)).slice(0, 20);
  } catch (err) {
    out.ok = false;
    out.error = String(err && err.message ? err.message : err).split('\n')[0];
    if (mem) mem.stop();
  } finally {
    await browser.close().catch(() => {});
  }
  out.downloadMB = served / 2 ** 20; // everything the page and its worker fetched
  out.foreignRequests = [...foreign];
  return out;
}

function decode(b64) {
  return b64 ? new Uint8Array(Buffer.from(b64, 'base64')) : null;
}

function compare(a, b) {
  let max = 0;
  let within1 = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (d > max) max = d;
    if (d <= 1) within1++;
  }
  return { max, within1: within1 / a.length };
}

function median(v) {
  const s = [...v].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const fmt = (v, d = 2) => (v == null || Number.isNaN(v) ? '—' : v.toFixed(d));

async function main() {
  const server = await serve();
  const base = `http://127.0.0.1:${server.address().port}/`;
  const ortVersion = JSON.parse(fs.readFileSync(path.join(here, 'node_modules/onnxruntime-web/package.json'), 'utf8')).version;
  const report = { started: new Date().toISOString(), loadavgStart: os.loadavg(), cpus: os.cpus().length, cpu: os.cpus()[0].model, node: process.version, ortWeb: ortVersion, args, results: [] };
  const impls = args.impls.split(',').map((s) => s.trim()).filter(Boolean);
  console.error(`serving ${base}; implementations: ${impls.join(', ')}`);
  for (const size of args.sizes.split(',').map(Number)) {
    const rows = [];
    for (const name of impls) {
      console.error(`== ${size}x${size} ${name} (load ${os.loadavg()[0].toFixed(1)})`);
      const r = await runOne(base, name, size);
      console.error(r.ok ? `   first result ${fmt(r.firstResultMs / 1000)} s, runs ${r.runs.map((v) => fmt(v / 1000)).join(' ')} s, peak +${fmt(r.peakAboveIdleMB, 0)} MB` : `   FAILED: ${r.error}`);
      if (r.ok && r.estimate && r.estimate.ms != null) {
        console.error(`   estimated before the click: ${fmt(r.estimate.ms / 1000)} s (${r.estimate.basis}); measured first ${fmt(r.phases.first / 1000)} s, median ${fmt(median(r.runs) / 1000)} s`);
      }
      if (r.foreignRequests.length) console.error(`   requests outside the origin: ${r.foreignRequests.join(' ')}`);
      rows.push(r);
    }
    // Outputs: compared in 8-bit units against the CPU backend (the runtime's
    // oracle-tested path), or the first that finished; ort runs also in float.
    const ref = rows.find((r) => r.ok && r.impl === 'diffuir-cpu') || rows.find((r) => r.ok);
    const fref = rows.find((r) => r.ok && r.impl === 'ort-wasm' && r.float);
    for (const r of rows) {
      if (!r.ok) continue;
      r.median = median(r.runs.length ? r.runs : [r.phases.first]);
      if (ref && ref !== r) r.vsRef = { ref: ref.impl, ...compare(decode(r.rgb8), decode(ref.rgb8)) };
      if (fref && fref !== r && r.float) {
        const a = new Float32Array(decode(r.float).buffer);
        const b = new Float32Array(decode(fref.float).buffer);
        let m = 0;
        for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        r.floatVsOrtWasm = m;
      }
    }
    report.results.push(...rows);
    printTable(size, rows, ref);
  }
  report.loadavgEnd = os.loadavg();
  report.finished = new Date().toISOString();
  for (const r of report.results) {
    delete r.rgb8;
    delete r.float;
  }
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(report, null, 1)}\n`);
  const b = report.results.find((r) => r.browser);
  console.log(`\nChromium ${b ? b.browser : '?'}, onnxruntime-web ${ortVersion}, Node ${process.version}, ${report.cpus} × ${report.cpu}; load average ${report.loadavgStart.map((v) => v.toFixed(1)).join(' ')} at the start, ${report.loadavgEnd.map((v) => v.toFixed(1)).join(' ')} at the end`);
  server.close();
  let ok = report.results.every((r) => r.ok);
  if (args['max-diff'] != null) {
    for (const r of report.results) {
      if (r.vsRef && r.vsRef.max > Number(args['max-diff'])) {
        console.log(`FAIL: ${r.impl} at ${r.size}x${r.size} differs from ${r.vsRef.ref} by up to ${r.vsRef.max}/255 (allowed ${args['max-diff']})`);
        ok = false;
      }
    }
    if (ok) console.log(`check passed: every output within ${args['max-diff']}/255 of the reference`);
  }
  process.exit(ok ? 0 : 1);
}

function printTable(size, rows, ref) {
  console.log(`\n### ${size}×${size}, ${args.model}, ${args.steps} steps\n`);
  console.log(`| implementation | s/restore (median) | runs | first result s (start + model / first restore) | peak memory MB (above idle) | downloaded MB | max diff vs ${ref ? ref.impl : '—'} (/255) | within 1/255 |`);
  console.log('|---|---:|---:|---|---:|---:|---:|---:|');
  for (const r of rows) {
    if (!r.ok) {
      console.log(`| ${r.impl}: ${r.label} | failed: ${r.error} | | | | | | |`);
      continue;
    }
    const p = r.phases;
    const first = `${fmt(r.firstResultMs / 1000)} (${fmt((p.start + p.model) / 1000)} / ${fmt(p.first / 1000)})`;
    const d = r.vsRef ? `${r.vsRef.max}` : r === ref ? 'reference' : '—';
    const w = r.vsRef ? `${(100 * r.vsRef.within1).toFixed(2)}%` : '';
    const fl = r.floatVsOrtWasm != null ? ` (float vs ort-wasm ${r.floatVsOrtWasm.toExponential(1)})` : '';
    console.log(`| ${r.impl}: ${r.label} | **${fmt(r.median / 1000)}** | ${r.runs.length} | ${first} | ${fmt(r.peakPssMB, 0)} (+${fmt(r.peakAboveIdleMB, 0)}) | ${fmt(r.downloadMB, 1)} | ${d}${fl} | ${w} |`);
  }
  for (const r of rows) if (r.ok && r.profile) printProfile(r);
}

// The worker's per-kernel profile of one UNet pass (--profile, diffuir-gpu).
function printProfile(r) {
  const p = r.profile;
  console.log(`\n#### ${r.impl}: where one UNet pass at ${p.paddedWidth}×${p.paddedHeight} spends its time\n`);
  console.log(`${p.summary}. One ordinary pass (Program.Run): ${fmt(p.passMs, 0)} ms (first ${fmt(p.firstPassMs, 0)} ms, compile ${fmt(p.compileMs, 0)} ms); ` +
    `the ${p.dispatches} dispatches timed alone (${p.reps} per submit, then a wait) sum to ${fmt(p.summedMs, 0)} ms.\n`);
  console.log('| kernel | dispatches | ms per pass | ms per dispatch | share |');
  console.log('|---|---:|---:|---:|---:|');
  for (const k of p.kernels) console.log(`| \`${k.kernel}\` | ${k.count} | ${fmt(k.ms, 1)} | ${fmt(k.ms / k.count, 2)} | ${fmt(100 * k.share, 1)}% |`);
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
