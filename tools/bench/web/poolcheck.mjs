// The worker pool (site/pool.js) against one worker, in headless Chromium
// without WebGPU (the CPU backend): one photo of several tiles (synthetic,
// or --photo) restored with workers: 1 and workers: N in the order --order
// (default 1,N,1,N: the first two warm up, the helper's start included; the
// figures are the last run of each), outputs compared byte for byte (they
// must be identical) and timed in the same browser.
//
//   node tools/bench/web/poolcheck.mjs --site dist/site [--size 640x480 | --photo FILE] [--tile 256] [--workers 2] [--steps 3] [--estimate [--pause S]]
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { peakSampler } from './pss.mjs';

const { values: a } = parseArgs({
  options: {
    site: { type: 'string', default: 'dist/site' },
    size: { type: 'string', default: '640x480' },
    tile: { type: 'string', default: '256' },
    workers: { type: 'string', default: '2' },
    steps: { type: 'string', default: '3' },
    order: { type: 'string', default: '1,N,1,N' },
    photo: { type: 'string' },
    // ask for the page's estimate first, as the page does when a photo is
    // picked (on a fresh device that is a short calibration, which also
    // warms the worker up); it is reported beside the measured times
    estimate: { type: 'boolean', default: false },
    // seconds between the estimate and the first restore: a user looking at
    // the photo and its estimate before clicking Restore
    pause: { type: 'string', default: '0' },
  },
});
const [W, H] = a.size.split('x').map(Number);

const root = path.resolve(a.site);
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json', '.duir': 'application/octet-stream' };
const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (u.pathname === '/__photo' && a.photo) {
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    fs.createReadStream(a.photo).pipe(res);
    return;
  }
  const f = path.join(root, decodeURIComponent(u.pathname));
  if (!f.startsWith(root) || !fs.existsSync(f) || fs.statSync(f).isDirectory()) {
    res.writeHead(404);
    res.end();
    return;
  }
  res.writeHead(200, { 'content-type': types[path.extname(f)] || 'application/octet-stream' });
  fs.createReadStream(f).pipe(res);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
});
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.error(`page: ${m.text()}`));
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${base}index.html`);
  const mem = peakSampler(500); // peak memory, sampled every 500 ms
  const out = await page.evaluate(
    async ({ W, H, estimate, pause, tile, workers, steps, order, photo }) => {
      const { DiffuirClient } = await import('./client.js');
      const info = (await import('./build-info.js')).default;
      const c = new DiffuirClient({ backend: 'cpu' });
      const caps = await c.init();
      await c.loadModel({ url: info.models[0].url });
      const cv = new OffscreenCanvas(W, H);
      const g = cv.getContext('2d');
      for (let y = 0; y < H; y += 8)
        for (let x = 0; x < W; x += 8) {
          g.fillStyle = `rgb(${(x * 255) / W},${(y * 255) / H},${((x ^ y) * 7) % 256})`;
          g.fillRect(x, y, 8, 8);
        }
      const png = photo ? await (await fetch(photo)).arrayBuffer() : await (await cv.convertToBlob({ type: 'image/png' })).arrayBuffer();
      const opts = { steps, tile, seed: 5, noiseScale: 1, equalize: 'off', format: 'png' };
      const res = {};
      if (estimate) {
        const t0 = performance.now();
        const bm = await createImageBitmap(new Blob([png]));
        const e = await c.estimate(bm.width, bm.height, { ...opts, workers: 1 });
        console.log(`estimate: ${(e.ms / 1000).toFixed(2)} s (${e.basis}), answered in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
        await new Promise((r) => setTimeout(r, pause * 1000));
      }
      for (const w of order) {
        const n = w === 'N' ? workers : 1;
        const t0 = performance.now();
        const marks = []; // seconds at each finished step
        const onProgress = (p) => marks.push(((performance.now() - t0) / 1000).toFixed(2));
        const r = await c.restore(png.slice(0), { ...opts, workers: n }, { onProgress });
        res[w] = { ms: performance.now() - t0, bytes: new Uint8Array(await r.blob.arrayBuffer()), tiles: r.tiles, workers: r.workers || 1, size: `${r.width}x${r.height}` };
        console.log(`workers ${n}: ${(res[w].ms / 1000).toFixed(2)} s (${res[w].workers} used, ${r.tiles} tiles, ${r.width}x${r.height}; progress at ${marks.join(', ')} s)`);
      }
      res['1'] = res['1'] || res.N;
      res.N = res.N || res['1'];
      const x = res['1'].bytes;
      const y = res.N.bytes;
      let same = x.length === y.length;
      for (let i = 0; same && i < x.length; i++) if (x[i] !== y[i]) same = false;
      return {
        backend: caps.backend.name,
        cores: navigator.hardwareConcurrency,
        deviceMemory: navigator.deviceMemory,
        tiles: res.N.tiles,
        size: res.N.size,
        one: { ms: res['1'].ms, workers: res['1'].workers },
        many: { ms: res.N.ms, workers: res.N.workers },
        identical: same,
      };
    },
    { W, H, estimate: a.estimate, pause: Number(a.pause), tile: Number(a.tile), workers: Number(a.workers), steps: Number(a.steps), order: a.order.split(','), photo: a.photo ? '/__photo' : null },
  );
  out.peakMB = Math.round(mem.stop() / 2 ** 20);
  out.idleMB = Math.round(mem.idle / 2 ** 20);
  console.log(JSON.stringify(out));
  console.log(
    `${out.size}, ${out.tiles} tiles of ${a.tile} px, ${a.steps} steps (${out.backend}; ${out.cores} cores, deviceMemory ${out.deviceMemory}): ` +
      `1 worker ${(out.one.ms / 1000).toFixed(2)} s, ${out.many.workers} workers ${(out.many.ms / 1000).toFixed(2)} s ` +
      `(${(out.one.ms / out.many.ms).toFixed(2)}x); outputs ${out.identical ? 'identical' : 'DIFFER'}; ` +
      `peak memory ${out.peakMB} MB (+${out.peakMB - out.idleMB} over the idle page)`,
  );
  if (!out.identical) process.exitCode = 1;
} finally {
  await browser.close();
  server.close();
}
