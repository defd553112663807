// Browser tests of the DiffUIR web app, through the real UI, in Debian's
// Chromium driven by playwright-core. Run them with tests/web/run.sh, which
// builds the app with a random-weight test model, serves it on 127.0.0.1 and
// sets the environment read here:
//
//   BASE_URL   the served dist/site, e.g. http://127.0.0.1:41234/
//   FIXTURE    the photo to restore (runtime/parity/testdata/input_45x37.png)
//   REF_PNG    the CLI's output for it (same model, --steps 3 --seed 7
//              --noise-scale 0 --equalize=off --tile 0)
//   REF_PT_PNG the same with --model runtime/parity/testdata/tiny_trainer.pt.gz
//   PNGDIFF    the pngdiff tool (tests/web/pngdiff)
//   ARTIFACTS  where screenshots and downloads go
//   SITE_DIR   the served folder (dist/site of the test build)
//   SAMPLES_TOOL tools/samples, built (its -psnr scores the sample restores)
//   MODEL_PACK the bundled model, models/diffuir-tiny.duir (the samples' test)
//   ONLY       optional: substrings separated by |; run only tests whose name contains one
//
// Prints one line per test and a final 'N passed, M failed'; exits 1 on failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE_URL;
const FIXTURE = process.env.FIXTURE;
const REF = process.env.REF_PNG;
const PNGDIFF = process.env.PNGDIFF;
const ART = process.env.ARTIFACTS || 'artifacts/web';
const ONLY = process.env.ONLY || '';
fs.mkdirSync(ART, { recursive: true });

const COMMON = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];
const WEBGPU = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader'];

const browsers = {};
async function browser(kind) {
  if (!browsers[kind]) {
    browsers[kind] = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: kind === 'webgpu' ? [...COMMON, ...WEBGPU] : COMMON,
    });
  }
  return browsers[kind];
}

// A fresh context and page; records console errors, page errors and every
// request, for the assertions and for the failure report.
async function openPage(kind, { url = BASE, serviceWorkers = 'block', viewport } = {}) {
  const b = await browser(kind);
  const context = await b.newContext({ serviceWorkers, acceptDownloads: true, viewport: viewport || { width: 1100, height: 900 } });
  const page = await context.newPage();
  const log = { console: [], errors: [], requests: [] };
  page.on('console', (m) => log.console.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => log.errors.push(String(e)));
  context.on('request', (r) => log.requests.push(r.url()));
  if (url) await page.goto(url);
  return { context, page, log };
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function waitModelReady(page, timeout = 60_000) {
  await page.waitForSelector('#model-status[data-state="ready"]', { timeout });
}

// Sets the options of the deterministic comparison run in the UI.
async function setExactOptions(page) {
  await page.fill('#opt-steps', '3');
  await page.selectOption('#opt-equalize', 'off');
  await page.selectOption('#opt-tile', '-1');
  await page.click('.advanced summary');
  await page.fill('#opt-seed', '7');
  await page.fill('#opt-noise', '0');
}

async function restoreAndDownload(page, name) {
  await page.setInputFiles('#photo-file', FIXTURE);
  await page.waitForFunction(() => !document.querySelector('#restore').disabled, null, { timeout: 60_000 });
  await setExactOptions(page);
  await page.click('#restore');
  await page.waitForSelector('body[data-result="ready"]', { timeout: 180_000 });
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  assert(dl.suggestedFilename() === 'input_45x37-restored.png', `download named ${dl.suggestedFilename()}`);
  const file = path.join(ART, name);
  await dl.saveAs(file);
  return file;
}

function compareToReference(file) {
  let out;
  try {
    out = execFileSync(PNGDIFF, ['-tol', '1', '-min', '0.999', REF, file], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`result differs from the CLI's: ${err.stdout || err.message}`);
  }
  return JSON.parse(out);
}

// Runs pngdiff with args; returns its JSON, throws with what explains a failure.
// An uncompressed 8-bit RGB TIFF of w×h (one strip), which Chromium cannot show.
function tiffRGB(w, h) {
  const px = 3 * w * h;
  const b = Buffer.alloc(128 + px); // header, 9 IFD entries, BitsPerSample at 122, pixels at 128
  b.write('II', 0);
  b.writeUInt16LE(42, 2);
  b.writeUInt32LE(8, 4);
  b.writeUInt16LE(9, 8);
  const entries = [[256, w], [257, h], [258, 122, 3], [259, 1], [262, 2], [273, 128, 1, 4], [277, 3], [278, h], [279, px, 1, 4]];
  entries.forEach(([tag, v, n = 1, type = 3], i) => {
    const o = 10 + 12 * i;
    b.writeUInt16LE(tag, o);
    b.writeUInt16LE(type, o + 2);
    b.writeUInt32LE(n, o + 4);
    if (type === 3 && n === 1) b.writeUInt16LE(v, o + 8);
    else b.writeUInt32LE(v, o + 8);
  });
  for (let i = 0; i < 3; i++) b.writeUInt16LE(8, 122 + 2 * i);
  for (let i = 0; i < px; i++) b[128 + i] = (i * 37) & 255;
  return b;
}

function pngdiff(args, what) {
  try {
    return JSON.parse(execFileSync(PNGDIFF, args, { encoding: 'utf8' }));
  } catch (err) {
    throw new Error(`${what}: ${err.stdout || err.message}`);
  }
}

// The entries of a zip file ({name: Buffer}), read with Node's zlib only:
// the central directory, then each local header.
function unzip(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  assert(eocd >= 0, 'not a zip file (no end of central directory)');
  const n = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const out = {};
  for (let i = 0; i < n; i++) {
    assert(buf.readUInt32LE(p) === 0x02014b50, `zip: bad central directory entry ${i}`);
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const data = buf.subarray(start, start + csize);
    out[name] = method === 0 ? Buffer.from(data) : zlib.inflateRawSync(data);
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// pageTest is a test on a fresh page, openPage(kind, options): fn gets
// {page, context, log}; the page must log no errors; its context is closed
// after, whatever happens.
function pageTest(name, kind, options, fn) {
  if (!fn) [options, fn] = [{}, options];
  test(name, async () => {
    const p = await openPage(kind, options);
    try {
      const note = await fn(p);
      assert(p.log.errors.length === 0, `page errors: ${p.log.errors.join('; ')}`);
      return note;
    } finally {
      await p.context.close();
    }
  });
}

pageTest('restore matches the CLI (WebGPU browser, ?backend=gpu)', 'webgpu', { url: new URL('?backend=gpu', BASE).href }, async ({ page }) => {
  // Asked for: on SwiftShader, auto takes the CPU (the next test).
  await waitModelReady(page);
  const backend = await page.textContent('#backend');
  assert(/^GPU: .*swiftshader.*\(software: slower than the CPU here\)$/i.test(backend.trim()), `status line says ${backend}`);
  const file = await restoreAndDownload(page, 'webgpu-result.png');
  const d = compareToReference(file);
  const info = await page.textContent('#result-info');
  assert(/on the GPU\.$/.test(info.trim()), `result says ${info}`);
  await page.screenshot({ path: path.join(ART, 'webgpu-page.png'), fullPage: true });
  return `${backend.trim()}; ${info.trim()}; max diff ${d.maxDiff.toFixed(2)}/255, ${(d.fractionWithin * 100).toFixed(2)}% within 1/255`;
});

pageTest('software WebGPU adapter (SwiftShader): auto takes the CPU and says why, page and widget; gpu on request', 'webgpu', { url: null }, async ({ page, context }) => {
  // A host page whose widget asks for the GPU (the embed example's widgets use auto).
  await context.route('**/widget-gpu.html', (route) =>
    route.fulfill({
      contentType: 'text/html',
      body: '<!doctype html><script type="module" src="widget/diffuir-restore.js"></script><diffuir-restore backend="gpu"></diffuir-restore>',
    }),
  );
  await page.goto(BASE);
  await waitModelReady(page);
  const backend = (await page.textContent('#backend')).trim();
  assert(/^CPU \(WebGPU adapter is software: .*swiftshader.*, slower here\)$/i.test(backend), `status line says ${backend}`);
  const caps = await page.evaluate(() => window.diffuir.state.caps);
  assert(caps.webgpu.available && caps.webgpu.adapter.software === true, `caps.webgpu: ${JSON.stringify(caps.webgpu)}`);
  assert(caps.backend.kind === 'cpu', `caps.backend: ${JSON.stringify(caps.backend)}`);
  const file = await restoreAndDownload(page, 'software-auto-result.png');
  compareToReference(file);
  const info = (await page.textContent('#result-info')).trim();
  assert(/on the CPU\.$/.test(info), `result says ${info}`);
  // The widget is a client of the same worker protocol: the same choice.
  await page.goto(new URL('embed-example.html', BASE).href);
  const auto = await page.evaluate(async () => (await document.getElementById('w1').capabilities()).backend);
  assert(auto.kind === 'cpu' && auto.reason === caps.backend.reason, `widget, auto: ${JSON.stringify(auto)}`);
  await page.goto(new URL('widget-gpu.html', BASE).href);
  const gpu = await page.evaluate(async () => {
    await customElements.whenDefined('diffuir-restore');
    return (await document.querySelector('diffuir-restore').capabilities()).backend;
  });
  assert(gpu.kind === 'gpu', `widget, backend="gpu": ${JSON.stringify(gpu)}`);
  return `page: ${backend}; widget (auto): cpu; widget (gpu): ${gpu.name}`;
});

pageTest('profile: per-kernel times of a UNet pass on WebGPU; clear errors without a model, on the CPU, for a bad size', 'webgpu', { url: new URL('?backend=gpu', BASE).href }, async ({ page }) => {
  await waitModelReady(page);
  // 40x32 pads to 48x32, as a restore pads a tile to a multiple of 16.
  const p = await page.evaluate(() => window.diffuir.client.profile({ width: 40, height: 32 }));
  assert(p.backend.kind === 'gpu', `profile ran on ${JSON.stringify(p.backend)}`);
  assert(p.width === 40 && p.height === 32 && p.paddedWidth === 48 && p.paddedHeight === 32, `sizes ${p.width}x${p.height} -> ${p.paddedWidth}x${p.paddedHeight}`);
  assert(p.reps === 2, `reps ${p.reps}`);
  const m = /(\d+) ops in (\d+) dispatches/.exec(p.summary);
  assert(m && /48x32 graph/.test(p.summary), `summary: ${p.summary}`);
  assert(p.dispatches === Number(m[2]), `${p.dispatches} dispatches profiled, the program has ${m[2]}`);
  assert(Array.isArray(p.kernels) && p.kernels.length > 1, `kernels: ${JSON.stringify(p.kernels)}`);
  const count = p.kernels.reduce((a, k) => a + k.count, 0);
  assert(count === p.dispatches, `kernel counts sum to ${count}, want ${p.dispatches}`);
  const ms = p.kernels.reduce((a, k) => a + k.ms, 0);
  const share = p.kernels.reduce((a, k) => a + k.share, 0);
  assert(Math.abs(ms - p.summedMs) < 1e-6 * p.summedMs && Math.abs(share - 1) < 1e-9, `kernels sum to ${ms} ms (summedMs ${p.summedMs}), shares to ${share}`);
  for (let i = 0; i < p.kernels.length; i++) {
    const k = p.kernels[i];
    assert(typeof k.kernel === 'string' && /\.wgsl/.test(k.kernel) && k.count > 0 && k.ms >= 0, `kernel ${JSON.stringify(k)}`);
    assert(i === 0 || p.kernels[i - 1].ms >= k.ms, `kernels not sorted by time at ${k.kernel}`);
  }
  assert(p.kernels.some((k) => /\bconv\.wgsl\b.*:main3$/.test(k.kernel)), `no conv kernel in ${p.kernels.map((k) => k.kernel).join(', ')}`);
  assert(p.summedMs > 0 && p.passMs > 0 && p.firstPassMs > 0 && p.compileMs > 0, `times ${JSON.stringify(p)}`);
  // Errors: a bad size, and a CPU worker (first without a model).
  const errs = await page.evaluate(async () => {
    const { DiffuirClient } = await import(new URL('client.js', location.href).href);
    const code = (pr) => pr.then(() => 'no error', (e) => `${e.code}: ${e.message}`);
    const bad = await code(window.diffuir.client.profile({ width: 0, height: 32 }));
    const cpu = new DiffuirClient({ backend: 'cpu' });
    const caps = await cpu.init();
    const noModel = await code(cpu.profile({ width: 32, height: 32 }));
    await cpu.loadModel(caps.models[0]);
    const onCPU = await code(cpu.profile({ width: 32, height: 32 }));
    cpu.terminate();
    return { bad, noModel, onCPU };
  });
  assert(/^E_BAD_REQUEST: profile size 0x32/.test(errs.bad), `bad size: ${errs.bad}`);
  assert(/^E_NO_MODEL:/.test(errs.noModel), `no model: ${errs.noModel}`);
  assert(/^E_BACKEND: profile needs the GPU backend/.test(errs.onCPU), `on the CPU: ${errs.onCPU}`);
  // The page still restores on the GPU after a profile (it freed the restore's program).
  compareToReference(await restoreAndDownload(page, 'after-profile-result.png'));
  const top = p.kernels.slice(0, 3).map((k) => `${k.kernel} ${k.ms.toFixed(1)} ms x${k.count}`).join(', ');
  return `48x32: ${p.dispatches} dispatches, summed ${p.summedMs.toFixed(0)} ms, pass ${p.passMs.toFixed(0)} ms; top: ${top}`;
});

pageTest('restore matches the CLI (no WebGPU: CPU fallback)', 'plain', async ({ page }) => {
  await waitModelReady(page);
  const backend = await page.textContent('#backend');
  assert(/CPU fallback: slow/.test(backend), `status line says ${backend}`);
  const file = await restoreAndDownload(page, 'cpu-result.png');
  const d = compareToReference(file);
  await page.screenshot({ path: path.join(ART, 'cpu-page.png'), fullPage: true });
  return `${backend.trim()}; max diff ${d.maxDiff.toFixed(2)}/255, ${(d.fractionWithin * 100).toFixed(2)}% within 1/255`;
});


// Keyboard and small screens, on the result of the CPU test's page.
async function checkKeyboardAndPhone(page) {
  await page.focus('#split');
  for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
  const v = await page.inputValue('#split');
  assert(v === '55', `arrow keys moved the split to ${v}, want 55`);
  const css = await page.evaluate(() => document.getElementById('stage').style.getPropertyValue('--split'));
  assert(css === '55%', `the split is drawn at ${css}`);
  const text = await page.getAttribute('#split', 'aria-valuetext');
  assert(/55% original/.test(text), `aria-valuetext ${text}`);
  // Buttons are reachable with Tab.
  await page.focus('#model-select');
  const seen = new Set();
  for (let i = 0; i < 40; i++) {
    await page.keyboard.press('Tab');
    seen.add(await page.evaluate(() => document.activeElement && document.activeElement.id));
  }
  for (const id of ['model-pick', 'photo-pick', 'restore', 'download', 'split']) assert(seen.has(id), `#${id} is not reachable with Tab (saw ${[...seen].join(',')})`);
  await page.setViewportSize({ width: 360, height: 740 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  await page.screenshot({ path: path.join(ART, 'phone.png'), fullPage: true });
  assert(overflow <= 0, `the page is ${overflow}px wider than a 360px phone screen`);
}

pageTest('paste, drop, keyboard operation and phone width (CPU)', 'plain', async ({ page }) => {
  await waitModelReady(page);
  // Paste and drop a photo (synthetic clipboard / drag events carrying a File).
  const b64 = fs.readFileSync(FIXTURE).toString('base64');
  for (const how of ['paste', 'drop']) {
    await page.evaluate(
      ([data, how]) => {
        const bin = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bin], `${how}d.png`, { type: 'image/png' }));
        if (how === 'paste') document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true }));
        else document.body.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
      },
      [b64, how],
    );
    await page.waitForFunction((n) => document.querySelector('#viewer-name').textContent.startsWith(`${n}d.png: 45×37`), how, { timeout: 10_000 });
  }
  await restoreAndDownload(page, 'cpu-result-2.png');
  await checkKeyboardAndPhone(page);
});

pageTest('no bundled model: the menu says so; a dropped .pt checkpoint is converted and matches the CLI', 'plain', { url: null }, async ({ page, context }) => {
  // The same build, as if it had been made without a models/ folder.
  await context.route('**/build-info.js', async (route) => {
    const res = await route.fetch();
    const body = (await res.text()).replace(/"models": \[[\s\S]*?\]\n/, '"models": []\n');
    await route.fulfill({ response: res, body });
  });
  await page.goto(BASE);
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  const menu = await page.textContent('#model-select');
  assert(/No bundled model/.test(menu), `menu says: ${menu}`);
  const hint = await page.textContent('#model-status');
  assert(/no bundled model/i.test(hint), `model status says: ${hint}`);
  const ckpt = path.join(path.dirname(FIXTURE), 'tiny_trainer.pt.gz');
  await page.setInputFiles('#model-file', ckpt);
  await waitModelReady(page, 120_000);
  const status = await page.textContent('#model-status');
  assert(/converted from a checkpoint/.test(status), `model status says: ${status}`);
  const file = await restoreAndDownload(page, 'checkpoint-result.png');
  let out;
  try {
    out = execFileSync(PNGDIFF, ['-tol', '1', '-min', '0.999', process.env.REF_PT_PNG, file], { encoding: 'utf8' });
  } catch (err) {
    throw new Error(`result differs from the CLI's with the checkpoint: ${err.stdout || err.message}`);
  }
  const d = JSON.parse(out);
  return `${status.trim()}; ${(d.fractionWithin * 100).toFixed(2)}% within 1/255`;
});

pageTest('no request leaves the origin', 'plain', { url: null }, async ({ page, context, log }) => {
  const origin = new URL(BASE).origin;
  const foreign = [];
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if ((u.protocol === 'http:' || u.protocol === 'https:' || u.protocol === 'ws:' || u.protocol === 'wss:') && u.origin !== origin) {
      foreign.push(u.href);
      return route.abort();
    }
    return route.continue();
  });
  await page.goto(BASE);
  await waitModelReady(page);
  await page.click('.sample[data-sample="samples/haze.jpg"]');
  await page.waitForFunction(() => !document.querySelector('#restore').disabled, null, { timeout: 30_000 });
  await page.fill('#opt-steps', '1');
  await page.selectOption('#opt-tile', '-1');
  await page.evaluate(() => {
    // 64 px tiles (not in the menu) to exercise tiling and per-tile progress.
    const sel = document.getElementById('opt-tile');
    sel.add(new Option('64 px', '64'));
    sel.value = '64';
  });
  await page.click('#restore');
  await page.waitForSelector('body[data-result="ready"]', { timeout: 120_000 });
  const info = await page.textContent('#result-info');
  assert(/256×171, 1 step, (\d+) tiles/.test(info) && Number(/(\d+) tiles/.exec(info)[1]) > 1, `tiled result says ${info}`);
  // A blended download and Download all: made in the worker, nothing sent anywhere.
  await setRange(page, '#strength', 40);
  await clickDownload(page, '#download', 'no-request-strength40.png');
  await clickDownload(page, '#download-all', 'no-request-all.zip');
  await page.goto(new URL('embed-example.html', BASE).href);
  await page.waitForFunction(() => document.querySelector('#w1') && document.querySelector('#w1').shadowRoot.querySelector('.before:not([hidden])'));
  const all = log.requests.filter((u) => /^(https?|wss?):/.test(u));
  const outside = [...foreign, ...all.filter((u) => new URL(u).origin !== origin)];
  assert(outside.length === 0, `requests outside ${origin}: ${outside.join(', ')}`);
  return `${all.length} requests, all to ${origin}; ${info.trim()}`;
});

// A photo drawn in the page (canvas), as PNG bytes.
async function drawnPhoto(page, w, h) {
  const b64 = await page.evaluate(
    async ([w, h]) => {
      const c = new OffscreenCanvas(w, h);
      const g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, '#2a5');
      grad.addColorStop(1, '#38c');
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      g.fillStyle = '#fc3';
      g.fillRect(w / 5, h / 5, w / 3, h / 3);
      const buf = new Uint8Array(await (await c.convertToBlob({ type: 'image/png' })).arrayBuffer());
      let s = '';
      for (const x of buf) s += String.fromCharCode(x);
      return btoa(s);
    },
    [w, h],
  );
  return Buffer.from(b64, 'base64');
}

// Starts a 20-step restore of photo, cancels it once `afterStep` steps are done.
async function startAndCancel(page, photo, afterStep) {
  await page.setInputFiles('#photo-file', photo);
  await page.waitForFunction(() => !document.querySelector('#restore').disabled, null, { timeout: 30_000 });
  await page.fill('#opt-steps', '20');
  await page.click('#restore');
  await page.waitForFunction(
    (n) => {
      const m = /step (\d+)\/20/.exec(document.querySelector('#progress-text').textContent);
      return m && Number(m[1]) >= n;
    },
    afterStep,
    { timeout: 120_000 },
  );
  const at = (await page.textContent('#progress-text')).trim();
  const t0 = Date.now();
  await page.click('#cancel');
  await page.waitForSelector('#message:has-text("Cancelled.")', { timeout: 2_000 });
  assert(Date.now() - t0 < 2_000, 'the page took more than 2 s to show the cancel');
  assert(await page.isHidden('#cancel'), 'the Cancel button is still shown');
  assert(await page.isEnabled('#restore'), 'Restore is not enabled again');
  assert((await page.getAttribute('body', 'data-result')) === null, 'a result appeared after cancel');
  return { at, t0 };
}

async function restoreOneStep(page) {
  await page.fill('#opt-steps', '1');
  const t0 = Date.now();
  await page.click('#restore');
  await page.waitForSelector('body[data-result="ready"]', { timeout: 120_000 });
  const info = await page.textContent('#result-info');
  assert(/\b1 step\b/.test(info), `the next result says ${info}`);
  return (Date.now() - t0) / 1000;
}

pageTest('restore time estimates: calibrated on a fresh device, measured after a restore', 'plain', async ({ page }) => {
  await waitModelReady(page);
  // The model's arithmetic (site/eta.js), on made-up timings.
  const m = await page.evaluate(async () => {
    const { Eta } = await import('./eta.js');
    const e = new Eta();
    await e.loaded;
    e.calibrate('t', 128, 250); // 250 ms for 128² and 1 step
    const calibrated = [e.estimate('t', 128, 128, 1), e.estimate('t', 256, 128, 3)];
    const bases = [e.basis('t')];
    e.learn('t', 100, 100, 1, 1000); // a photo smaller than 128²: not learnt from
    bases.push(e.basis('t'));
    e.learn('t', 200, 100, 1, 1000); // a real restore replaces the calibration...
    bases.push(e.basis('t'));
    const learnt = [e.estimate('t', 200, 100, 1), e.estimate('t', 400, 100, 1)];
    e.learn('t', 200, 100, 1, 2000); // ...and later ones average with it
    return { calibrated, bases, learnt, averaged: e.estimate('t', 200, 100, 1) };
  });
  assert(`${m.calibrated}` === '250,1500', `calibrated ${m.calibrated}, want 250,1500`);
  assert(`${m.bases}` === 'calibrated,calibrated,measured', `bases ${m.bases}`);
  assert(`${m.learnt}` === '1000,2000', `learnt ${m.learnt}, want 1000,2000`);
  assert(m.averaged === 1500, `averaged ${m.averaged}, want 1500`);
  // The worker: no restore measured in this fresh context, so it calibrates; after one, it measures.
  const first = await page.evaluate(() => window.diffuir.client.estimate(256, 256, { steps: 3 }));
  assert(first.basis === 'calibrated', JSON.stringify(first));
  assert(first.ms > 0, JSON.stringify(first));
  await page.setInputFiles('#photo-file', { name: 'photo.png', mimeType: 'image/png', buffer: await drawnPhoto(page, 160, 128) });
  await restoreOneStep(page);
  const after = await page.evaluate(() => window.diffuir.client.estimate(256, 256, { steps: 3 }));
  assert(after.basis === 'measured', JSON.stringify(after));
  return `256² × 3 steps: calibrated ${(first.ms / 1000).toFixed(1)} s, after a 1-step restore of 160×128 ${(after.ms / 1000).toFixed(1)} s`;
});

pageTest('every core: two workers give the one-worker bytes, one merged progress, and stop on cancel (CPU)', 'plain', async ({ page }) => {
  await waitModelReady(page);
  const photo = (await drawnPhoto(page, 160, 96)).toString('base64');
  const r = await page.evaluate(async (b64) => {
    const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
    const c = window.diffuir.client;
    const opts = { steps: 2, tile: 64, seed: 3, equalize: 'off', format: 'png' };
    const run = async (workers, signal, onProgress = () => {}) => {
      const fractions = [];
      const res = await c.restore(bytes.slice(), { ...opts, workers }, {
        signal,
        onProgress: (p) => {
          fractions.push(p.fraction);
          onProgress(p);
        },
      });
      return { bytes: new Uint8Array(await res.blob.arrayBuffer()), tiles: res.tiles, workers: res.workers || 1, fractions };
    };
    const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
    const one = await run(1);
    const two = await run(2);
    const ac = new AbortController();
    let cancelled = null;
    try {
      await run(2, ac.signal, () => ac.abort());
    } catch (e) {
      cancelled = e.code;
    }
    const t0 = performance.now();
    const again = await run(2);
    const rising = two.fractions.every((f, i) => i === 0 || f > two.fractions[i - 1]);
    return {
      cores: navigator.hardwareConcurrency,
      tiles: two.tiles,
      workers: [one.workers, two.workers, again.workers],
      same: same(one.bytes, two.bytes) && same(one.bytes, again.bytes),
      progress: { n: two.fractions.length, last: two.fractions[two.fractions.length - 1], rising },
      cancelled,
      againMs: performance.now() - t0,
    };
  }, photo);
  assert(r.tiles >= 3, `the photo was ${r.tiles} tiles: the pool needs several`);
  if (r.cores >= 2) assert(`${r.workers}` === '1,2,2', `workers used ${r.workers} on ${r.cores} cores`);
  assert(r.same, 'two workers (and two after a cancel) did not give the one-worker bytes');
  assert(r.progress.n === r.tiles * 2 && r.progress.last === 1 && r.progress.rising, `progress ${JSON.stringify(r.progress)}`);
  assert(r.cancelled === 'E_CANCELLED', `cancel gave ${r.cancelled}`);
  assert((await page.getAttribute('body', 'data-worker-restarts')) === null, 'the worker had to be replaced after the cancel');
  return `${r.tiles} tiles, workers ${r.workers} (${r.cores} cores), identical bytes; progress ${r.progress.n} steps to 1; cancel ${r.cancelled}, next run ${(r.againMs / 1000).toFixed(1)} s`;
});

pageTest('cancel in the middle of a run; the page stays usable', 'plain', async ({ page }) => {
  await waitModelReady(page);
  // Small photo, short steps: the worker stops at the next step boundary by itself.
  const a = await startAndCancel(page, FIXTURE, 2);
  await page.waitForTimeout(Math.max(0, 2_300 - (Date.now() - a.t0)));
  assert((await page.getAttribute('body', 'data-worker-restarts')) === null, 'the worker had to be restarted for a short step');
  const s1 = await restoreOneStep(page);
  // A step that does not end in time (on the CPU, a 512-px tile step takes most of a minute):
  // the client replaces the worker (after hardCancelMs, 2 s by default; 0 here, so the test
  // does not depend on how fast a step is), and the next restore reloads the model by itself.
  await page.evaluate(() => {
    window.diffuir.client.hardCancelMs = 0;
  });
  const big = { name: 'big.png', mimeType: 'image/png', buffer: await drawnPhoto(page, 128, 96) };
  const b = await startAndCancel(page, big, 1);
  await page.waitForSelector('body[data-worker-restarts="1"]', { timeout: 5_000 });
  const s2 = await restoreOneStep(page);
  return `cooperative cancel at "${a.at}" (next run ${s1.toFixed(1)} s); hard cancel at "${b.at}", worker replaced, next run ${s2.toFixed(1)} s`;
});

pageTest('a corrupt photo and a corrupt model show clear errors; the page stays usable', 'plain', async ({ page }) => {
  await waitModelReady(page);
  // A photo that is not one.
  await page.setInputFiles('#photo-file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('\xff\xd8\xff\xe0 this is not really a JPEG'.repeat(20), 'latin1') });
  await page.waitForSelector('#message:not([hidden])', { timeout: 30_000 });
  const photoMsg = await page.textContent('#message');
  assert(/not a photo the app can read/i.test(photoMsg), `photo error says: ${photoMsg}`);
  assert(await page.isDisabled('#restore'), 'Restore is enabled without a photo');
  await page.screenshot({ path: path.join(ART, 'corrupt-photo.png') });
  // A pack with one flipped byte: the SHA-256 check catches it.
  const pack = fs.readFileSync(path.join(path.dirname(REF), 'models', 'tiny-random.duir'));
  pack[pack.length >> 1] ^= 0x55;
  await page.setInputFiles('#model-file', { name: 'damaged.duir', mimeType: 'application/octet-stream', buffer: pack });
  await page.waitForSelector('#model-status[data-state="error"]', { timeout: 30_000 });
  const modelMsg = await page.textContent('#message');
  assert(/damaged/i.test(modelMsg) && /SHA-256/.test(modelMsg), `model error says: ${modelMsg}`);
  // Garbage named like a checkpoint.
  await page.setInputFiles('#model-file', { name: 'weights.pt', mimeType: 'application/octet-stream', buffer: Buffer.from('PK\x03\x04 not a zip at all'.repeat(30), 'latin1') });
  await page.waitForFunction((prev) => document.querySelector('#message').textContent !== prev, modelMsg, { timeout: 30_000 });
  const ckptMsg = await page.textContent('#message');
  assert(/not a DiffUIR model|cannot convert|checkpoint/i.test(ckptMsg), `checkpoint error says: ${ckptMsg}`);
  await page.screenshot({ path: path.join(ART, 'corrupt-model.png') });
  // Still usable: back to the bundled model, restore the fixture.
  await page.selectOption('#model-select', 'bundled:0');
  await waitModelReady(page);
  const file = await restoreAndDownload(page, 'after-errors.png');
  compareToReference(file);
  return `photo: "${photoMsg.trim()}" | model: "${modelMsg.trim()}" | checkpoint: "${ckptMsg.trim().slice(0, 100)}"`;
});

pageTest('the widget on a host page with a strict CSP', 'plain', { url: null }, async ({ page, log }) => {
  const res = await page.goto(new URL('embed-example.html', BASE).href);
  // The programmatic widget has nothing to restore yet: its button is off.
  await page.waitForSelector('#w2 button.go');
  assert(await page.isDisabled('#w2 button.go'), "the programmatic widget's Restore is enabled before any photo");
  const csp = res.headers()['content-security-policy'] || '';
  assert(/script-src 'self' 'wasm-unsafe-eval'/.test(csp) && !/unsafe-inline|'unsafe-eval'/.test(csp), `the page's CSP is not strict: ${csp}`);
  assert(!(await page.evaluate(() => self.crossOriginIsolated)), 'the page is cross-origin isolated');
  // Declarative: click the widget's own button (Playwright's CSS pierces open shadow roots).
  await page.waitForSelector('#w1 .before:not([hidden])');
  await page.click('#w1 button.go');
  await page.waitForFunction(() => document.getElementById('w1').result, null, { timeout: 120_000 });
  const bg = await page.$eval('#w1', (el) => getComputedStyle(el.shadowRoot.querySelector('button.go')).backgroundColor);
  assert(bg === 'rgb(29, 79, 191)', `the widget's styles did not apply under the CSP (button background ${bg})`);
  const log1 = await page.textContent('#w1-log');
  assert(/^done: 256×171/.test(log1), `the done event was not seen: ${log1}`);
  // Programmatic: restore(blob, options) gives the CLI's pixels.
  const bytes = fs.readFileSync(FIXTURE).toString('base64');
  const out = await page.evaluate(async (b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const el = document.getElementById('w2');
    const events = [];
    el.addEventListener('progress', (e) => events.push(e.detail.phase));
    const r = await el.restore(new Blob([bin], { type: 'image/png' }), { steps: 3, seed: 7, noiseScale: 0, equalize: 'off', tile: -1 });
    const buf = new Uint8Array(await r.blob.arrayBuffer());
    let s = '';
    for (const x of buf) s += String.fromCharCode(x);
    return { png: btoa(s), width: r.width, height: r.height, events: events.length };
  }, bytes);
  // A memory budget below the smallest tile's is refused as a bad request, a photo over maxPixels (the
  // header of a 5000×4000 PNG) as too large, and the widget stays usable.
  const ihdr = Buffer.concat([Buffer.from('IHDR'), Buffer.from([0, 0, 0x13, 0x88, 0, 0, 0x0f, 0xa0, 8, 2, 0, 0, 0])]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(ihdr));
  const huge = Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10, 0, 0, 0, 13]), ihdr, crc]);
  const budget = await page.evaluate(async ([b64, hugeB64]) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const el = document.getElementById('w2');
    const codes = [];
    for (const [photo, memoryMiB] of [[b64, 1], [b64, -1], [hugeB64, 0]]) {
      try {
        await el.restore(new Blob([Uint8Array.from(atob(photo), (c) => c.charCodeAt(0))]), { steps: 1, memoryMiB });
        codes.push('resolved');
      } catch (e) {
        codes.push(`${e.code}: ${e.message}`);
      }
    }
    const ok = await el.restore(new Blob([bin], { type: 'image/png' }), { steps: 1, memoryMiB: 64 });
    return { codes, width: ok.width };
  }, [bytes, huge.toString('base64')]);
  assert(/^E_BAD_REQUEST: .*memory budget too small/.test(budget.codes[0]), `1 MiB budget: ${budget.codes[0]}`);
  assert(/^E_BAD_REQUEST: .*memoryMiB -1/.test(budget.codes[1]), `negative budget: ${budget.codes[1]}`);
  assert(/^E_IMAGE_TOO_LARGE: /.test(budget.codes[2]), `5000x4000 photo: ${budget.codes[2]}`);
  assert(budget.width === out.width, `restore after the refused budgets: width ${budget.width}`);
  const file = path.join(ART, 'widget-result.png');
  fs.writeFileSync(file, Buffer.from(out.png, 'base64'));
  const d = compareToReference(file);
  // A list, at strength 0 (the attribute's way, and the option's): the originals exactly.
  const list = await page.evaluate(async (b64) => {
    const bin = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const el = document.getElementById('w2');
    el.setAttribute('strength', '0');
    const rs = await el.restore([new Blob([bin], { type: 'image/png' }), new Blob([bin], { type: 'image/png' })], { steps: 1, noiseScale: 0 });
    el.removeAttribute('strength');
    const pngs = [];
    for (const r of rs) {
      const buf = new Uint8Array(await r.blob.arrayBuffer());
      let s = '';
      for (const x of buf) s += String.fromCharCode(x);
      pngs.push(btoa(s));
    }
    return { n: rs.length, strengths: rs.map((r) => r.strength), pngs, enabled: !el.shadowRoot.querySelector('button.go').disabled };
  }, bytes);
  assert(list.n === 2 && list.strengths.join() === '0,0', `list restore: ${list.n} results at ${list.strengths}`);
  assert(list.enabled, "the widget's Restore is not enabled after a restore");
  list.pngs.forEach((png, i) => {
    const f = path.join(ART, `widget-strength0-${i}.png`);
    fs.writeFileSync(f, Buffer.from(png, 'base64'));
    pngdiff(['-tol', '0', '-min', '1', FIXTURE, f], 'widget at strength 0 vs the original');
  });
  assert(out.events >= 3, `only ${out.events} progress events`);
  await page.screenshot({ path: path.join(ART, 'widget-csp.png'), fullPage: true });
  const violations = log.console.filter((m) => /Content Security Policy|Refused to/i.test(m));
  assert(violations.length === 0, `CSP violations: ${violations.join(' | ')}`);
  return `CSP held; API result ${out.width}×${out.height}, ${(d.fractionWithin * 100).toFixed(2)}% within 1/255`;
});

// Sets a range input's value as a user dragging it would (input event).
async function setRange(page, sel, v) {
  await page.$eval(
    sel,
    (el, v) => {
      el.value = String(v);
      el.dispatchEvent(new Event('input', { bubbles: true }));
    },
    v,
  );
}

async function clickDownload(page, sel, file) {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(sel)]);
  const out = path.join(ART, file);
  await dl.saveAs(out);
  return { file: out, name: dl.suggestedFilename() };
}

async function clearList(page) {
  if (await page.isEnabled('#clear')) await page.click('#clear');
  await page.waitForFunction(() => document.querySelectorAll('#queue li').length === 0);
}

pageTest('a batch of photos: per-photo progress, cancel one, browse, download all as a zip equal to single restores', 'plain', async ({ page }) => {
  await waitModelReady(page);
  await setExactOptions(page);
  const photos = [
    { name: 'input_45x37.png', mimeType: 'image/png', buffer: fs.readFileSync(FIXTURE) },
    { name: 'drawn-52x40.png', mimeType: 'image/png', buffer: await drawnPhoto(page, 52, 40) },
    { name: 'drawn-33x47.png', mimeType: 'image/png', buffer: await drawnPhoto(page, 33, 47) },
  ];
  // One at a time first: the reference for the batch.
  const singles = {};
  for (const p of photos) {
    await clearList(page);
    await page.setInputFiles('#photo-file', p);
    await page.waitForFunction(() => !document.querySelector('#restore').disabled, null, { timeout: 30_000 });
    await page.click('#restore');
    await page.waitForSelector('body[data-result="ready"]', { timeout: 120_000 });
    const d = await clickDownload(page, '#download', `single-${p.name}`);
    singles[d.name] = d.file;
  }
  // The batch: three photos and a fourth cancelled while it waits.
  await clearList(page);
  await page.setInputFiles('#photo-file', [...photos, { ...photos[0], name: 'cancel-me.png' }]);
  await page.waitForFunction(() => document.querySelectorAll('#queue li').length === 4);
  await page.waitForFunction(() => document.querySelector('#viewer-name').textContent.startsWith('input_45x37.png'));
  const label = (await page.textContent('#restore')).trim();
  assert(label === 'Restore 4 photos', `the button says ${label}`);
  await page.click('#restore');
  await page.click('#queue li:nth-child(4) .item-x');
  await page.waitForSelector('body[data-batch="3"]', { timeout: 180_000 });
  const rows = await page.$$eval('#queue li', (lis) =>
    lis.map((li) => ({ name: li.querySelector('.item-name').textContent, status: li.dataset.status, text: li.querySelector('.item-status').textContent, progress: li.querySelector('progress').value })),
  );
  const want = ['done', 'done', 'done', 'cancelled'];
  rows.forEach((r, i) => assert(r.status === want[i], `row ${i} (${r.name}) is ${r.status}, want ${want[i]}`));
  rows.slice(0, 3).forEach((r) => assert(r.progress === 1 && r.text === 'restored', `row ${r.name}: progress ${r.progress}, "${r.text}"`));
  const total = (await page.textContent('#progress-text')).trim();
  assert(/^Restored 3 of 4 photos in [\d.]+ s$/.test(total), `progress line says ${total}`);
  // Browse: the second photo in the viewer.
  await page.click('#queue li:nth-child(2) .item-view');
  await page.waitForFunction(() => document.querySelector('#viewer-name').textContent.startsWith('drawn-52x40.png: 52×40'));
  assert(await page.isVisible('#img-after'), 'the chosen result is not shown');
  await page.screenshot({ path: path.join(ART, 'batch-page.png'), fullPage: true });
  // Download all: one zip, made in the worker.
  const z = await clickDownload(page, '#download-all', 'batch.zip');
  assert(z.name === 'restored-photos-3.zip', `the zip is named ${z.name}`);
  const entries = unzip(fs.readFileSync(z.file));
  const names = Object.keys(entries).sort();
  assert(names.join() === Object.keys(singles).sort().join(), `the zip holds ${names.join(', ')}; want ${Object.keys(singles).join(', ')}`);
  for (const n of names) {
    const f = path.join(ART, `zip-${n}`);
    fs.writeFileSync(f, entries[n]);
    pngdiff(['-tol', '0', '-min', '1', singles[n], f], `${n} from the zip vs its single restore`);
  }
  return `${names.length} entries equal to the single restores (${names.join(', ')}); one photo cancelled while queued; ${total}`;
});

pageTest('strength: 0 gives the original, 100 the model output exactly, 50 between; live in the viewer', 'plain', async ({ page }) => {
  await waitModelReady(page);
  assert(await page.isDisabled('#strength'), 'the strength slider is enabled before any result');
  const full = await restoreAndDownload(page, 'strength-100.png');
  compareToReference(full);
  const opacity = () => page.$eval('#img-after', (el) => getComputedStyle(el).opacity);
  assert((await opacity()) === '1', `at 100% the restored image's opacity is ${await opacity()}`);
  await setRange(page, '#strength', 0);
  assert((await opacity()) === '0', `at 0% the opacity is ${await opacity()}`);
  const zero = await clickDownload(page, '#download', 'strength-0.png');
  const d0 = pngdiff(['-tol', '0', '-min', '1', FIXTURE, zero.file], 'strength 0 vs the original');
  await setRange(page, '#strength', 50);
  assert((await opacity()) === '0.5', `at 50% the opacity is ${await opacity()}`);
  assert((await page.textContent('#strength-value')).trim() === '50%', 'the strength label does not say 50%');
  const half = await clickDownload(page, '#download', 'strength-50.png');
  const b = pngdiff(['-between', '-tol', '1', FIXTURE, full, half.file], 'strength 50 between the original and the output');
  assert(b.maxMidDiff <= 1, `strength 50 is up to ${b.maxMidDiff}/255 from the midpoint`);
  const apart = JSON.parse(execFileSync(PNGDIFF, ['-tol', '0', '-min', '0', FIXTURE, full], { encoding: 'utf8' }));
  assert(apart.maxDiff > 2, `the output is too close to the input to test a blend (max diff ${apart.maxDiff})`);
  // The client's encode: the restored file again as an 8-bit PNG (pixel for pixel) and as a JPEG; a bad format is refused.
  const enc = await page.evaluate(async (b64) => {
    const photo = new Blob([Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))]);
    const c = window.diffuir.client;
    const png = new Uint8Array(await (await c.encode(photo, { depth: 8 })).arrayBuffer());
    const jpeg = await c.encode(photo, { format: 'jpeg', quality: 80 });
    const head = new Uint8Array(await jpeg.slice(0, 2).arrayBuffer());
    const bad = await c.encode(photo, { format: 'gif' }).then(() => 'no error', (e) => `${e.code}: ${e.message}`);
    let s = '';
    for (const x of png) s += String.fromCharCode(x);
    return { png: btoa(s), jpeg: [jpeg.type, head[0], head[1]], bad };
  }, fs.readFileSync(full).toString('base64'));
  const encoded = path.join(ART, 'encoded-8bit.png');
  fs.writeFileSync(encoded, Buffer.from(enc.png, 'base64'));
  pngdiff(['-tol', '0', '-min', '1', full, encoded], 'encode as an 8-bit PNG vs the restored file');
  assert(enc.jpeg[0] === 'image/jpeg' && enc.jpeg[1] === 0xff && enc.jpeg[2] === 0xd8, `encode as JPEG: ${enc.jpeg}`);
  assert(/^E_BAD_REQUEST:/.test(enc.bad), `encode as gif: ${enc.bad}`);
  return `0%: equal to the input (${d0.fractionWithin * 100}% of pixels exact); 100%: the CLI's output; 50%: every channel between, at most ${b.maxMidDiff.toFixed(2)}/255 from the midpoint (output vs input up to ${apart.maxDiff.toFixed(0)}/255)`;
});

pageTest('viewer: fit shows the whole photo; labels follow the split; an error clears the last run, shown once', 'plain', async ({ page }) => {
  await waitModelReady(page);
  const fits = [];
  for (const [w, h] of [[384, 288], [90, 420], [700, 60]]) {
    await page.setInputFiles('#photo-file', { name: `fit-${w}x${h}.png`, mimeType: 'image/png', buffer: await drawnPhoto(page, w, h) });
    await page.waitForFunction((n) => document.querySelector('#viewer-name').textContent.startsWith(n), `fit-${w}x${h}.png: ${w}×${h}`);
    await page.waitForTimeout(50);
    const g = await page.evaluate(() => {
      const vp = document.getElementById('viewport');
      const img = document.getElementById('img-before');
      const a = vp.getBoundingClientRect();
      const b = img.getBoundingClientRect();
      return {
        inside: b.left >= a.left - 0.5 && b.top >= a.top - 0.5 && b.right <= a.left + vp.clientLeft + vp.clientWidth + 0.5 && b.bottom <= a.top + vp.clientTop + vp.clientHeight + 0.5,
        scroll: [vp.scrollWidth - vp.clientWidth, vp.scrollHeight - vp.clientHeight],
        shown: [Math.round(b.width), Math.round(b.height)],
        box: [vp.clientWidth, vp.clientHeight],
      };
    });
    assert(g.inside && g.scroll[0] <= 0 && g.scroll[1] <= 0, `${w}×${h} at fit: shown ${g.shown} in a ${g.box} viewer, overflow ${g.scroll}`);
    assert(Math.abs(g.shown[0] - g.box[0]) <= 2 || Math.abs(g.shown[1] - g.box[1]) <= 2, `${w}×${h} at fit fills neither dimension: ${g.shown} in ${g.box}`);
    fits.push(`${w}×${h}→${g.shown.join('×')}`);
  }
  // A TIFF, which the browser cannot show, is shown through the worker (client.decode: encode as an 8-bit PNG).
  await page.setInputFiles('#photo-file', { name: 'photo.tiff', mimeType: 'image/tiff', buffer: tiffRGB(7, 5) });
  await page.waitForFunction(() => {
    const img = document.getElementById('img-before');
    return img.complete && img.naturalWidth === 7 && img.naturalHeight === 5;
  }, null, { timeout: 30_000 });
  // Labels: each shows only while its side of the split has room.
  await clearList(page);
  await page.setInputFiles('#photo-file', FIXTURE);
  await setExactOptions(page);
  await page.fill('#opt-steps', '1');
  await page.click('#restore');
  await page.waitForSelector('body[data-result="ready"]', { timeout: 120_000 });
  const tags = () => page.$$eval('#stage .tag', (els) => els.map((e) => getComputedStyle(e).display !== 'none'));
  const seen = {};
  for (const v of [0, 50, 100]) {
    await setRange(page, '#split', v);
    seen[v] = (await tags()).join('/');
  }
  assert(seen[0] === 'false/true' && seen[50] === 'true/true' && seen[100] === 'true/false', `Before/After shown at 0, 50, 100: ${JSON.stringify(seen)}`);
  await page.screenshot({ path: path.join(ART, 'viewer-split.png') });
  // An error after a finished run: the run's state goes, the error shows once.
  const before = (await page.textContent('#progress-text')).trim();
  assert(/^Done in/.test(before), `progress line after the run: ${before}`);
  await page.setInputFiles('#photo-file', { name: 'broken.jpg', mimeType: 'image/jpeg', buffer: Buffer.from('\xff\xd8\xff\xe0 not a JPEG'.repeat(20), 'latin1') });
  await page.waitForSelector('#message:not([hidden])', { timeout: 30_000 });
  const msg = (await page.textContent('#message')).trim();
  const state = await page.evaluate((m) => {
    const text = document.body.innerText;
    const key = m.slice(0, 40);
    return { progressText: document.getElementById('progress-text').textContent, barHidden: document.getElementById('progress').hidden, count: text.split(key).length - 1 };
  }, msg);
  assert(state.progressText === '' && state.barHidden, `the last run's progress stayed: "${state.progressText}", bar hidden ${state.barHidden}`);
  assert(state.count === 1, `the error is shown ${state.count} times: ${msg}`);
  return `fit: ${fits.join(', ')}; labels ${JSON.stringify(seen)}; error once: "${msg.slice(0, 60)}…"`;
});

pageTest('samples: each restores with the bundled model and gains PSNR against its clean original', 'plain', async ({ page }) => {
  const SITE = process.env.SITE_DIR;
  const TOOL = process.env.SAMPLES_TOOL;
  const PACK = process.env.MODEL_PACK;
  assert(SITE && TOOL && PACK && fs.existsSync(PACK), 'SITE_DIR, SAMPLES_TOOL and MODEL_PACK must be set (tests/web/run.sh)');
  const index = JSON.parse(fs.readFileSync(path.join(SITE, 'samples', 'samples.json'), 'utf8'));
  await waitModelReady(page);
  // The bundled model (the test build bundles a random one), through the model menu's file picker.
  await page.setInputFiles('#model-file', PACK);
  await page.waitForFunction(() => /Model ready: diffuir-tiny/.test(document.querySelector('#model-status').textContent), null, { timeout: 120_000 });
  await page.click('#samples-all');
  await page.waitForFunction((n) => document.querySelectorAll('#queue li').length === n, index.length, { timeout: 30_000 });
  await page.click('#restore');
  await page.waitForSelector(`body[data-batch="${index.length}"]`, { timeout: 900_000 });
  await page.click('#queue li:nth-child(1) .item-view');
  await page.waitForFunction(() => !document.querySelector('#img-after').hidden);
  await page.screenshot({ path: path.join(ART, 'samples-batch.png'), fullPage: true });
  const out = [];
  for (let i = 0; i < index.length; i++) {
    const s = index[i];
    await page.click(`#queue li:nth-child(${i + 1}) .item-view`);
    await page.waitForFunction((n) => document.querySelector('#viewer-name').textContent.startsWith(n), s.file);
    const d = await clickDownload(page, '#download', `sample-${s.task}-restored.png`);
    const [pin, pout] = JSON.parse(execFileSync(TOOL, ['-psnr', path.join(SITE, 'samples', s.clean), path.join(SITE, 'samples', s.file), d.file], { encoding: 'utf8' }));
    out.push({ task: s.task, pin, pout });
  }
  const failed = out.filter((r) => !(r.pout > r.pin));
  const note = out.map((r) => `${r.task} ${r.pin.toFixed(2)}→${r.pout.toFixed(2)} dB (${r.pout - r.pin >= 0 ? '+' : ''}${(r.pout - r.pin).toFixed(2)})`).join(', ');
  assert(failed.length === 0, `no PSNR gain for ${failed.map((r) => r.task).join(', ')}: ${note}`);
  return note;
});

test('offline: load, go offline, reload, restore', async () => {
  const { page, context, log } = await openPage('plain', { serviceWorkers: 'allow' });
  try {
    await waitModelReady(page);
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      }
      return reg.active.state;
    });
    await context.setOffline(true);
    await page.reload();
    await waitModelReady(page);
    const status = await page.textContent('#model-status');
    assert(await page.evaluate(() => !!navigator.serviceWorker.controller), 'the reloaded page is not controlled by the service worker');
    const file = await restoreAndDownload(page, 'offline-result.png');
    compareToReference(file);
    await page.screenshot({ path: path.join(ART, 'offline.png'), fullPage: true });
    assert(log.errors.length === 0, `page errors: ${log.errors.join('; ')}`);
    return `offline reload restored the photo; ${status.trim()}`;
  } finally {
    await context.setOffline(false);
    await context.close();
  }
});

pageTest('share target: a photo shared to the app opens in it', 'plain', { serviceWorkers: 'allow' }, async ({ page, context }) => {
  await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
  const manifest = await (await context.request.get(new URL('manifest.webmanifest', BASE).href)).json();
  assert(manifest.share_target && manifest.share_target.action === 'share-target', 'manifest has no share_target');
  assert(Array.isArray(manifest.file_handlers) && manifest.file_handlers.length > 0, 'manifest has no file_handlers');
  // What the OS share sheet does: a multipart POST to the share_target action.
  const b64 = fs.readFileSync(FIXTURE).toString('base64');
  await Promise.all([
    page.waitForURL(/\?shared=1/, { timeout: 30_000 }),
    page.evaluate((data) => {
      const bin = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const form = document.createElement('form');
      form.method = 'POST';
      form.action = 'share-target';
      form.enctype = 'multipart/form-data';
      const input = document.createElement('input');
      input.type = 'file';
      input.name = 'photo';
      const dt = new DataTransfer();
      dt.items.add(new File([bin], 'shared-photo.png', { type: 'image/png' }));
      input.files = dt.files;
      form.append(input);
      document.body.append(form);
      form.submit();
    }, b64),
  ]);
  await page.waitForFunction(() => /shared-photo\.png: 45×37/.test(document.querySelector('#viewer-name').textContent), null, { timeout: 30_000 });
  return (await page.textContent('#viewer-name')).trim();
});

test('a new deployment shows "update available"', async () => {
  const swFile = path.join(process.env.SITE_DIR || '', 'sw.js');
  assert(fs.existsSync(swFile), `no ${swFile} (SITE_DIR not set)`);
  const original = fs.readFileSync(swFile);
  // The server prefers the precompressed siblings: set them aside, as a new build would rewrite them.
  const siblings = ['.br', '.gz'].map((e) => swFile + e).filter((f) => fs.existsSync(f));
  const saved = siblings.map((f) => [f, fs.readFileSync(f)]);
  for (const f of siblings) fs.unlinkSync(f);
  const { page, context } = await openPage('plain', { serviceWorkers: 'allow' });
  try {
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller) {
        await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
      }
    });
    assert(await page.isHidden('#update'), 'update banner shown on first visit');
    // "Deploy" a new version: any change to sw.js (build.sh writes a new precache list into it).
    fs.writeFileSync(swFile, Buffer.concat([original, Buffer.from('\n// next deployment\n')]));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration()).update());
    await page.waitForSelector('#update:not([hidden])', { timeout: 30_000 });
    await page.screenshot({ path: path.join(ART, 'update-available.png') });
    await Promise.all([page.waitForEvent('load', { timeout: 30_000 }), page.click('#update-reload')]);
    await page.waitForSelector('body[data-ready="1"]', { timeout: 60_000 });
    assert(await page.isHidden('#update'), 'the banner is still shown after the update');
    return 'banner shown, reload took the new version';
  } finally {
    fs.writeFileSync(swFile, original);
    for (const [f, b] of saved) fs.writeFileSync(f, b);
    await context.close();
  }
});

async function main() {
  let passed = 0;
  let failed = 0;
  for (const t of tests) {
    if (ONLY && !ONLY.split('|').some((o) => t.name.includes(o))) continue;
    const t0 = Date.now();
    try {
      const note = await t.fn();
      passed++;
      console.log(`PASS  ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${note ? `: ${note}` : ''}`);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${t.name} (${((Date.now() - t0) / 1000).toFixed(1)} s): ${err.message.split('\n')[0]}`);
      if (process.env.VERBOSE) console.log(err.stack);
    }
  }
  for (const b of Object.values(browsers)) await b.close();
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main();
