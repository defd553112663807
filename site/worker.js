// The DiffUIR worker: one dedicated module Web Worker that owns the Go
// WebAssembly runtime and speaks the message protocol of PROTOCOL.md.
// The page (app.js) and the <diffuir-restore> widget are its two clients,
// both through client.js.
import info from './build-info.js';
import { Eta, calibrationPNG, CALIBRATION_WARMUP, CALIBRATION_SIDE, concat } from './eta.js';
import { Pool, poolSize, jobKey } from './pool.js';

const MODEL_CACHE = 'diffuir-models-v1';

let api = null; // globalThis.diffuirGo once the wasm runs
let bootError = null; // {code, message} when the wasm could not start
let caps = null; // the last init result
let model = null; // the last loadModel result
const eta = new Eta(); // restore time estimates (eta.js)
let modelCopy = null; // {bytes, name, version} of the loaded model, for pool helpers
let modelVersion = 0;
const pool = new Pool(import.meta.url, () => modelCopy);
const pooled = new Map(); // id -> AbortController of a restore spread over the pool
const queue = []; // requests that arrived before the wasm was ready
const downloads = new Map(); // id -> AbortController of a model download
const cancelled = new Set(); // ids cancelled before they reached the bridge

function post(msg, transfer) {
  self.postMessage(msg, transfer || []);
}

// answer posts r, a bridge answer with bytes (a Uint8Array of its own
// buffer), with the bytes moved, not copied, as the ArrayBuffer named key.
function answer(id, r, key = 'image') {
  const { bytes, ...rest } = r;
  post({ id, type: 'result', result: { ...rest, [key]: bytes.buffer } }, [bytes.buffer]);
}

function fail(id, code, message) {
  post({ id, type: 'error', error: { code, message } });
}

function coded(code, message) {
  const e = new Error(message);
  e.code = code;
  return e;
}

// A turn of the event loop for Go (see wasm/js.go yield): a MessageChannel
// task, not setTimeout, which browsers clamp to 4 ms once nested.
{
  const ch = new MessageChannel();
  const waiting = [];
  ch.port1.onmessage = () => {
    const r = waiting.shift();
    if (r) r();
  };
  self.diffuirYield = () =>
    new Promise((resolve) => {
      waiting.push(resolve);
      ch.port2.postMessage(0);
    });
}

self.onmessage = (e) => {
  const msg = e.data;
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'cancel') {
    cancel(msg.target);
    return;
  }
  if (api || bootError) handle(msg);
  else queue.push(msg);
};

function cancel(target) {
  const dl = downloads.get(target);
  if (dl) dl.abort();
  const pc = pooled.get(target);
  if (pc) {
    pc.abort();
    return;
  }
  if (api && api.cancel(target)) return;
  cancelled.add(target);
}

async function boot() {
  const base = import.meta.url;
  const t0 = performance.now();
  // wasm_exec.js (from Go's GOROOT) defines globalThis.Go; it is a plain
  // script that runs as a module just as well.
  await import(new URL(info.wasmExec, base).href);
  const go = new self.Go();
  // The CPU backend's SIMD128 kernels (a second module on Go's memory);
  // the Go build needs their imports even where the browser has no SIMD.
  const { prepareSimd } = await import('./wasmsimd.js');
  const simd = await prepareSimd();
  go.importObject.diffuir_simd = simd.imports;
  const ready = new Promise((resolve) => {
    self.diffuirGoReady = resolve;
  });
  const url = new URL(info.wasm, base).href;
  let instance;
  try {
    ({ instance } = await WebAssembly.instantiateStreaming(fetch(url), go.importObject));
  } catch (err) {
    // A server without the application/wasm type: compile from bytes.
    const res = await fetch(url);
    if (!res.ok) throw coded('E_WASM_LOAD', `could not download the app's WebAssembly (HTTP ${res.status})`);
    ({ instance } = await WebAssembly.instantiate(await res.arrayBuffer(), go.importObject));
  }
  simd.attach(instance.exports.mem);
  go.run(instance).then(
    () => dead('E_WORKER_EXITED', 'the app runtime stopped; reload the page'),
    (err) => dead('E_WORKER_EXITED', `the app runtime crashed: ${err && err.message}`),
  );
  api = await ready;
  return performance.now() - t0;
}

function dead(code, message) {
  if (bootError) return;
  bootError = { code, message };
  api = null;
  post({ type: 'fatal', error: bootError });
}

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe|basic render driver/i;

// What the browser says about WebGPU, independent of the Go backend.
async function webgpuInfo() {
  const out = { available: false };
  if (!self.navigator.gpu) {
    out.reason = 'no navigator.gpu (WebGPU is off or unsupported)';
    return out;
  }
  try {
    const adapter = await self.navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) {
      out.reason = 'no WebGPU adapter';
      return out;
    }
    let ai = adapter.info;
    if (!ai && adapter.requestAdapterInfo) ai = await adapter.requestAdapterInfo();
    ai = ai || {};
    out.available = true;
    out.adapter = {
      vendor: ai.vendor || '',
      architecture: ai.architecture || '',
      device: ai.device || '',
      description: ai.description || '',
    };
    // A CPU implementation: the browser's fallback adapter (SwiftShader in
    // Chromium; adapter.isFallbackAdapter before info had it), or a software
    // driver under the browser, known by name.
    const names = Object.values(out.adapter).join(' ');
    out.adapter.software = !!(ai.isFallbackAdapter || adapter.isFallbackAdapter) || SOFTWARE_ADAPTER.test(names);
    out.f16 = adapter.features.has('shader-f16');
    const l = adapter.limits;
    out.limits = {
      maxBufferSize: l.maxBufferSize,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    };
  } catch (err) {
    out.reason = `requestAdapter failed: ${err && err.message}`;
  }
  return out;
}

// What init tells the Go side about the adapter, which runtime/restore's
// backend choice needs (gogpu names the browser's adapter just "WebGPU
// Adapter"): whether it is software, and its name.
function adapterHint(webgpu) {
  const a = webgpu.adapter;
  if (!a) return {};
  const name = [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ') || 'fallback adapter';
  return { software: !!a.software, adapter: name };
}

async function readWithProgress(res, total, onProgress, signal) {
  if (!res.body) return new Uint8Array(await res.arrayBuffer());
  const reader = res.body.getReader();
  const chunks = [];
  let loaded = 0;
  let last = 0;
  for (;;) {
    if (signal.aborted) throw coded('E_CANCELLED', 'cancelled');
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    const now = performance.now();
    if (now - last > 100) {
      last = now;
      onProgress(loaded, total);
    }
  }
  onProgress(loaded, total || loaded);
  return concat(chunks);
}

async function sha256Hex(bytes) {
  if (!self.crypto || !self.crypto.subtle) return null; // not a secure context
  const d = await self.crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

// Downloads a model pack, from the model cache when it holds this URL
// (packs are named by content hash, so a cached copy is never stale).
async function fetchModel(id, src) {
  const ctrl = new AbortController();
  downloads.set(id, ctrl);
  try {
    const url = new URL(src.url, self.location.href).href;
    let cache = null;
    try {
      cache = await self.caches.open(MODEL_CACHE);
    } catch {
      cache = null; // no Cache Storage (opaque origin, private mode)
    }
    let res = cache ? await cache.match(url) : undefined;
    const cached = !!res;
    if (!res) {
      try {
        res = await fetch(url, { signal: ctrl.signal });
      } catch (err) {
        if (ctrl.signal.aborted) throw coded('E_CANCELLED', 'cancelled');
        throw coded('E_MODEL_DOWNLOAD', `could not download the model (${err.message}); check the connection`);
      }
      if (!res.ok) throw coded('E_MODEL_DOWNLOAD', `could not download the model: HTTP ${res.status} for ${src.url}`);
    }
    const total = src.size || Number(res.headers.get('content-length')) || 0;
    const bytes = await readWithProgress(
      res,
      total,
      (loaded, t) => post({ id, type: 'progress', progress: { phase: 'download', loaded, total: t, cached } }),
      ctrl.signal,
    );
    if (src.size && bytes.length !== src.size) {
      throw coded('E_MODEL_CORRUPT', `the model download is incomplete (${bytes.length} of ${src.size} bytes); try again`);
    }
    if (src.sha256) {
      const got = await sha256Hex(bytes);
      if (got && got !== src.sha256) {
        if (cached) await cache.delete(url);
        throw coded('E_MODEL_CORRUPT', 'the downloaded model is damaged (SHA-256 mismatch); try again');
      }
    }
    if (cache && !cached) {
      try {
        await cache.put(url, new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }));
      } catch {
        // quota: the model still works, it just is not kept for offline use
      }
    }
    return { bytes, cached };
  } finally {
    downloads.delete(id);
  }
}

async function handle(msg) {
  const { id, type } = msg;
  if (bootError) {
    fail(id, bootError.code, bootError.message);
    return;
  }
  if (cancelled.has(id)) {
    cancelled.delete(id);
    fail(id, 'E_CANCELLED', 'cancelled');
    return;
  }
  try {
    switch (type) {
      case 'init': {
        const webgpu = await webgpuInfo();
        const go = await api.init({ backend: msg.backend || 'auto', ...adapterHint(webgpu) });
        caps = { ...go, webgpu, models: info.models, build: info.version };
        post({ id, type: 'result', result: caps });
        break;
      }
      case 'loadModel': {
        const src = msg.source || {};
        let bytes;
        let cached = false;
        if (src.bytes) bytes = new Uint8Array(src.bytes);
        else if (src.url) ({ bytes, cached } = await fetchModel(id, src));
        else throw coded('E_BAD_REQUEST', 'loadModel needs source.url or source.bytes');
        post({ id, type: 'progress', progress: { phase: 'load' } });
        const r = await api.loadModel(bytes, src.name || '');
        model = r;
        modelCopy = { bytes: bytes.slice(), name: src.name || '', version: ++modelVersion };
        post({ id, type: 'result', result: { ...r, mults: Array.from(r.mults), cached } });
        break;
      }
      case 'restore': {
        if (!msg.image) throw coded('E_BAD_REQUEST', 'restore needs image bytes');
        const t = eta.tracker(backendKey(), 0, 0, 0);
        const onProgress = (p) => post({ id, type: 'progress', progress: { phase: 'restore', ...p, ...t.progress(p.fraction) } });
        const opts = msg.options || {};
        const n = Math.min(poolSize(), opts.workers > 0 ? opts.workers : Infinity);
        const cpu = caps && caps.backend && caps.backend.kind === 'cpu';
        let r;
        if (cpu && n > 1 && modelCopy) r = await restorePooled(id, new Uint8Array(msg.image), opts, n, onProgress);
        else r = await api.restore(id, new Uint8Array(msg.image), opts, onProgress);
        eta.learn(backendKey(r.backend), r.width, r.height, r.steps, t.done());
        answer(id, r);
        break;
      }
      case 'encode':
        answer(id, await api.encode(new Uint8Array(msg.image), msg.options || {}));
        break;
      case 'blend':
        answer(id, await api.blend(new Uint8Array(msg.original), new Uint8Array(msg.restored), msg.strength, msg.options || {}));
        break;
      case 'zip': {
        const files = (msg.files || []).map((f) => ({ name: f.name, bytes: new Uint8Array(f.data) }));
        answer(id, await api.zip(files), 'data');
        break;
      }
      case 'restoreTiles': {
        // From the pool's coordinator (pool.js): tiles of its job, as floats.
        const r = await api.restoreTiles(id, msg.key, msg.image ? new Uint8Array(msg.image) : null, msg.options || {}, msg.indices, (p) =>
          post({ id, type: 'progress', progress: p }),
        );
        const tiles = r.map((t) => ({ index: t.index, rgb: t.rgb.buffer }));
        post({ id, type: 'result', result: tiles }, tiles.map((t) => t.rgb));
        break;
      }
      case 'estimate': {
        post({ id, type: 'result', result: await estimate(id, msg) });
        // The photo is likely restored next: ready its program now, while
        // the user looks at it (best effort; a restore reports any error).
        await api.prepare(Number(msg.width) || 0, Number(msg.height) || 0, msg.options || {}).catch(() => {});
        break;
      }
      case 'profile': {
        const r = await api.profile(msg.options || {});
        post({ id, type: 'result', result: r });
        break;
      }
      default:
        throw coded('E_BAD_REQUEST', `unknown request type ${JSON.stringify(type)}`);
    }
  } catch (err) {
    fail(id, (err && err.code) || 'E_INTERNAL', (err && err.message) || String(err));
  }
}

// restorePooled spreads a CPU restore's tiles over n workers (pool.js); a
// photo of one tile runs here alone, through the same tile calls.
async function restorePooled(id, bytes, options, n, onProgress) {
  const key = jobKey();
  const ctrl = new AbortController();
  pooled.set(id, ctrl);
  try {
    if (cancelled.delete(id)) throw coded('E_CANCELLED', 'cancelled');
    const plan = await api.tilePlan(key, bytes, options);
    // A cancel while the photo was decoded for the plan aborted ctrl, which
    // the one-tile path below would not see.
    if (ctrl.signal.aborted) throw coded('E_CANCELLED', 'cancelled');
    if (plan.tiles < 2) {
      pooled.delete(id);
      return await api.restore(id, bytes, options, onProgress); // the ordinary path, retries included
    }
    return await pool.restore({ api, key, id, bytes, options, plan, n, onProgress, signal: ctrl.signal });
  } finally {
    pooled.delete(id);
  }
}

// The key of the current backend's rate (eta.js): the CPU with and without
// its SIMD kernels, or the GPU, differ several-fold.
function backendKey(b) {
  b = b || (caps && caps.backend) || {};
  return `${b.kind || '?'}: ${b.name || ''}`;
}

// estimate answers how long a restore of width×height would take here, in
// ms: from the restores measured on this device, else (unless calibrate is
// false) from a one-step calibration restore of a small photo.
async function estimate(id, msg) {
  if (!model) throw coded('E_NO_MODEL', 'load a model first');
  const w = Number(msg.width) || 0;
  const h = Number(msg.height) || 0;
  if (w <= 0 || h <= 0) throw coded('E_BAD_REQUEST', 'estimate needs width and height');
  const steps = (msg.options && msg.options.steps) || model.defaultSteps || 3;
  await eta.loaded;
  let ms = eta.estimate(backendKey(), w, h, steps);
  // Only the CPU calibrates: on a GPU the first restore compiles every
  // pipeline, which a calibration would pay for and not measure.
  const cpu = caps && caps.backend && caps.backend.kind === 'cpu';
  if (ms === null && cpu && msg.calibrate !== false) {
    if (cancelled.delete(id)) throw coded('E_CANCELLED', 'cancelled'); // came while eta loaded: the bridge knows only running requests
    // The small photo twice, then the timed one twice, timing the last: the
    // first runs pay for compiling the program and committing its memory,
    // and for the engine's baseline code (V8 tiers the kernels up as they
    // run), which made one-shot calibrations 4-6x too pessimistic.
    const sides = [CALIBRATION_WARMUP, CALIBRATION_WARMUP, CALIBRATION_SIDE, CALIBRATION_SIDE];
    for (const [k, side] of sides.entries()) {
      const t0 = performance.now();
      const r = await api.restore(id, calibrationPNG(side), { steps: 1, tile: -1, seed: 1, equalize: 'off' }, () => {});
      if (k === sides.length - 1) eta.calibrate(backendKey(r.backend), side, performance.now() - t0);
    }
    ms = eta.estimate(backendKey(), w, h, steps);
  }
  return { ms, basis: eta.basis(backendKey()) || 'none', steps, backend: backendKey() };
}

boot().then(
  (ms) => {
    post({ type: 'ready', version: info.version, bootMs: Math.round(ms) });
    for (const m of queue.splice(0)) handle(m);
  },
  (err) => {
    bootError = {
      code: 'E_WASM_LOAD',
      message: `the app could not start: ${(err && err.message) || err}. Your browser may not support WebAssembly, or the download failed.`,
    };
    post({ type: 'fatal', error: bootError });
    for (const m of queue.splice(0)) handle(m);
  },
);
