// DiffuirClient: the one client of the worker protocol (PROTOCOL.md), used
// by the page (app.js) and by the <diffuir-restore> widget.
//
//   const c = new DiffuirClient();
//   const caps = await c.init();                 // backend, WebGPU details, bundled models
//   await c.loadModel({url, sha256, size}, {onProgress, signal});
//   const r = await c.restore(fileOrBlob, {steps: 3}, {onProgress, signal});
//   r.blob, r.width, r.height, r.backend
//   const p = await c.profile({width: 64, height: 64}); // GPU backend: per-kernel times
//   const mixed = await c.blend(original, r.blob, 0.5);  // strength 50%
//   const jpeg = await c.encode(r.blob, {format: 'jpeg', quality: 90});
//   const zip = await c.zip([{name: 'a.png', data: r.blob}]);
//
// Errors are DiffuirError objects with a code (E_...); an aborted signal
// rejects with code E_CANCELLED (and name AbortError) at once. The worker
// stops a cancelled restore at the next sampler step; if it has not within
// hardCancelMs (a slow CPU step on a big tile can take a minute), the client
// terminates it and starts a new one, reloading the model on the next call
// (a 'restart' event tells).

export class DiffuirError extends Error {
  constructor(code, message) {
    super(message);
    this.name = code === 'E_CANCELLED' ? 'AbortError' : 'DiffuirError';
    this.code = code;
  }
}

// Human-readable advice per error code, for UIs that show errors.
export const ERROR_HINTS = {
  E_WASM_LOAD: 'The app could not start in this browser.',
  E_WORKER: 'The background worker failed to start.',
  E_WORKER_EXITED: 'The app stopped unexpectedly (maybe out of memory). Try a smaller photo.',
  E_NO_MODEL: 'Choose a model first.',
  E_MODEL_DOWNLOAD: 'The model could not be downloaded.',
  E_MODEL_CORRUPT: 'The model file is damaged.',
  E_MODEL_INVALID: 'This file is not a DiffUIR model.',
  E_IMAGE_DECODE: 'This file is not a photo the app can read.',
  E_IMAGE_TOO_LARGE: 'The photo is too large.',
  E_IMAGE_EMPTY: 'The photo is empty.',
  E_CANCELLED: 'Cancelled.',
  E_BAD_REQUEST: 'Invalid options.',
  E_BACKEND: 'The compute backend failed.',
  E_INTERNAL: 'Something went wrong inside the app.',
};

function defaultWorkerURL() {
  return new URL('./worker.js', import.meta.url);
}

// A module worker must be same-origin with the page; for a widget served
// from another origin, start it through a same-origin blob module that
// imports the real one (the host's CSP then needs worker-src blob:).
function startWorker(url) {
  const u = new URL(url, self.location.href);
  if (u.origin === self.location.origin) return new Worker(u, { type: 'module', name: 'diffuir' });
  const src = `import ${JSON.stringify(u.href)};`;
  const blob = new Blob([src], { type: 'text/javascript' });
  return new Worker(URL.createObjectURL(blob), { type: 'module', name: 'diffuir' });
}

async function toBuffer(data) {
  if (data instanceof ArrayBuffer) return data.slice(0);
  if (ArrayBuffer.isView(data)) return data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength);
  if (data && typeof data.arrayBuffer === 'function') return data.arrayBuffer();
  throw new DiffuirError('E_BAD_REQUEST', 'expected a Blob, File, ArrayBuffer or typed array');
}

// withBlob replaces a result's image (an ArrayBuffer) by blob, a Blob of its type.
function withBlob(r) {
  r.blob = new Blob([r.image], { type: r.mime });
  delete r.image;
  return r;
}

export class DiffuirClient extends EventTarget {
  constructor({ workerURL = defaultWorkerURL(), backend = 'auto', hardCancelMs = 2000 } = {}) {
    super();
    this.hardCancelMs = hardCancelMs;
    this.cancelling = new Map(); // id -> timer of a cancelled restore the worker has not confirmed
    this.restarts = 0;
    this._modelSource = null; // what to reload after a restart: {url,...} or a Blob
    this._modelLost = false;
    this._reload = null;
    this.workerURL = workerURL;
    this.backend = backend;
    this.worker = null;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, onProgress}
    this.caps = null;
    this._init = null;
  }

  _start() {
    if (this.worker) return;
    try {
      this.worker = startWorker(this.workerURL);
    } catch (err) {
      throw new DiffuirError('E_WORKER', `could not start the worker: ${err.message}`);
    }
    this.worker.onmessage = (e) => this._onMessage(e.data);
    this.worker.onerror = (e) => {
      e.preventDefault();
      this._fatal({ code: 'E_WORKER', message: `the worker failed: ${e.message || 'script error'}` });
    };
    this.worker.onmessageerror = () => this._fatal({ code: 'E_WORKER', message: 'a message could not be read' });
  }

  _onMessage(msg) {
    if (this.cancelling.has(msg.id) && msg.type !== 'progress') {
      clearTimeout(this.cancelling.get(msg.id));
      this.cancelling.delete(msg.id);
    }
    if (msg.type === 'ready') {
      this.dispatchEvent(new CustomEvent('ready', { detail: msg }));
      return;
    }
    if (msg.type === 'fatal') {
      this._fatal(msg.error);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // answered already (cancelled on this side)
    if (msg.type === 'progress') {
      if (p.onProgress) p.onProgress(msg.progress);
      return;
    }
    this.pending.delete(msg.id);
    if (msg.type === 'result') p.resolve(msg.result);
    else if (msg.type === 'error') p.reject(new DiffuirError(msg.error.code, msg.error.message));
  }

  _stop(err) {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    for (const t of this.cancelling.values()) clearTimeout(t);
    this.cancelling.clear();
    if (this.worker) this.worker.terminate();
    this.worker = null;
    this._init = null;
    this.caps = null;
    this._modelLost = !!this._modelSource;
  }

  // The worker is unusable: fail everything pending; the next call starts a new one.
  _fatal(error) {
    const err = new DiffuirError(error.code || 'E_WORKER', error.message || 'worker failed');
    this._stop(err);
    this.dispatchEvent(new CustomEvent('fatal', { detail: err }));
  }

  // A cancelled restore did not stop in time: replace the worker.
  _restart() {
    this.restarts++;
    this._stop(new DiffuirError('E_WORKER', 'the worker was restarted to stop a cancelled job; try again'));
    this.dispatchEvent(new CustomEvent('restart', { detail: { restarts: this.restarts } }));
  }

  _request(type, fields = {}, { signal, onProgress, transfer } = {}) {
    this._start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (signal && signal.aborted) {
        reject(new DiffuirError('E_CANCELLED', 'cancelled'));
        return;
      }
      this.pending.set(id, { resolve, reject, onProgress });
      if (signal) {
        signal.addEventListener(
          'abort',
          () => {
            if (!this.pending.has(id)) return;
            this.pending.delete(id);
            const w = this.worker;
            if (w) w.postMessage({ id: this.nextId++, type: 'cancel', target: id });
            if (w && type === 'restore' && this.hardCancelMs >= 0) {
              this.cancelling.set(
                id,
                setTimeout(() => {
                  if (this.worker === w && this.cancelling.has(id)) this._restart();
                }, this.hardCancelMs),
              );
            }
            reject(new DiffuirError('E_CANCELLED', 'cancelled'));
          },
          { once: true },
        );
      }
      this.worker.postMessage({ id, type, ...fields }, transfer || []);
    });
  }

  // Starts the worker and chooses the backend; resolves with the capabilities.
  init() {
    if (!this._init) {
      this._init = this._request('init', { backend: this.backend }).then((caps) => {
        this.caps = caps;
        return caps;
      });
      this._init.catch(() => {
        this._init = null;
      });
    }
    return this._init;
  }

  // source: {url, sha256?, size?, name?} or a Blob/File/ArrayBuffer (a .duir
  // pack, or a .pt / .safetensors checkpoint converted in the worker).
  async loadModel(source, { signal, onProgress, name } = {}) {
    await this.init();
    let src;
    const transfer = [];
    if (source && typeof source.url === 'string') src = { url: source.url, sha256: source.sha256, size: source.size, name: source.name || name };
    else {
      if (!(source instanceof Blob)) source = new Blob([await toBuffer(source)]); // kept for a reload after a restart
      const bytes = await source.arrayBuffer();
      transfer.push(bytes);
      src = { bytes, name: name || source.name || '' };
    }
    this._modelSource = null;
    this._modelLost = false;
    this.model = await this._request('loadModel', { source: src }, { signal, onProgress, transfer });
    this._modelSource = source && typeof source.url === 'string' ? { ...src } : source;
    this._modelName = src.name;
    return this.model;
  }

  // After a restart, loads the last model again before the next job.
  async _ensureModel() {
    if (!this._modelLost || !this._modelSource) return;
    if (!this._reload) {
      this._reload = this.loadModel(this._modelSource, { name: this._modelName }).finally(() => {
        this._reload = null;
      });
    }
    await this._reload;
  }

  // Restores a photo; resolves with {blob, mime, width, height, backend, ms,
  // ...}. options: steps, seed, noiseScale, equalize, tile,
  // overlap, format, quality (PROTOCOL.md).
  async restore(image, options = {}, { signal, onProgress } = {}) {
    await this.init();
    await this._ensureModel();
    const bytes = await toBuffer(image);
    return withBlob(await this._request('restore', { image: bytes, options }, { signal, onProgress, transfer: [bytes] }));
  }

  // How long a restore of width×height would take on this device: resolves
  // with {ms, basis: 'measured'|'calibrated'|'none', steps, backend}. The
  // first call without a rate for the backend runs short calibration
  // restores (about 1.5 s on the CPU) unless calibrate is false.
  async estimate(width, height, options = {}, { calibrate = true, signal } = {}) {
    await this.init();
    await this._ensureModel();
    return this._request('estimate', { width, height, options, calibrate }, { signal });
  }

  // Re-encodes an image (a restored PNG, say) as png or jpeg; depth 8 or 16
  // sets a PNG's bits per channel (default: the image's). Resolves with a Blob.
  async encode(image, { format = 'png', quality = 92, depth = 0 } = {}) {
    return (await this._encode(image, { format, quality, depth })).blob;
  }

  // Decodes a photo in the worker (for formats the browser cannot show):
  // resolves with {blob (8-bit PNG), width, height, inputFormat}.
  async decode(image) {
    return this._encode(image, { depth: 8 });
  }

  async _encode(image, options) {
    await this.init();
    const bytes = await toBuffer(image);
    return withBlob(await this._request('encode', { image: bytes, options }, { transfer: [bytes] }));
  }

  // Mixes a photo with its restored version: (1-strength)·original +
  // strength·restored, computed in Go at the restored file's depth; 1 gives
  // the restored pixels exactly, 0 the original's. Resolves with a Blob.
  async blend(original, restored, strength, { format = 'png', quality = 92 } = {}) {
    await this.init();
    const a = await toBuffer(original);
    const b = await toBuffer(restored);
    return withBlob(await this._request('blend', { original: a, restored: b, strength, options: { format, quality } }, { transfer: [a, b] })).blob;
  }

  // Packs files ([{name, data: Blob|ArrayBuffer}]) into one zip (Go's
  // archive/zip, in the worker). Resolves with a Blob.
  async zip(files) {
    await this.init();
    const list = [];
    for (const f of files) list.push({ name: f.name, data: await toBuffer(f.data) });
    const r = await this._request('zip', { files: list }, { transfer: list.map((f) => f.data) });
    return new Blob([r.data], { type: r.mime });
  }

  // Developer and benchmark request: where one UNet pass at {width, height}
  // spends its time on the GPU backend (PROTOCOL.md, profile). Resolves with
  // {kernels: [{kernel, ms, count, share}], summedMs, passMs, dispatches, ...}.
  // It cannot be cancelled: it runs to the end (seconds on a software adapter).
  async profile(options = {}) {
    await this.init();
    await this._ensureModel();
    return this._request('profile', { options });
  }

  terminate() {
    this._fatal({ code: 'E_CANCELLED', message: 'terminated' });
  }
}

// Describes the backend in a status line.
export function describeBackend(caps) {
  if (!caps || !caps.backend) return 'Starting…';
  const b = caps.backend;
  const a = caps.webgpu && caps.webgpu.adapter;
  if (b.kind === 'gpu') {
    const named = a && [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' ');
    return `GPU: ${named || b.name.replace(/^gpu: /, '')}${a && a.software ? ' (software: slower than the CPU here)' : ''}`;
  }
  // Beside a software adapter the CPU is the faster choice, not a slow fallback.
  if (a && a.software) return `CPU (${b.reason || b.name})`;
  return `CPU fallback: slow (${b.reason || b.name})`;
}

// A filename for a restored photo: photo.jpg -> photo-restored.png.
export function restoredName(name, format) {
  const base = (name || 'photo').replace(/\.[^./\\]*$/, '').replace(/[\\/:*?"<>|]+/g, '_') || 'photo';
  return `${base}-restored.${format === 'jpeg' ? 'jpg' : 'png'}`;
}
