// <diffuir-restore>: an embeddable photo-restoration widget, the second
// client of the DiffUIR worker protocol (the page is the first).
//
//   <script type="module" src="/widget/diffuir-restore.js"></script>
//   <diffuir-restore src="photo.jpg" model="default" steps="3"></diffuir-restore>
//
// Attributes: src (photo URL), model ("default" = the bundled default pack,
// or the URL of a .duir pack), steps, equalize (auto|on|off), tile, seed,
// noise-scale, strength (0-100, default 100: how much of the restored photo
// to keep, blended with the original), autorestore (restore as soon as the
// photo loads), backend (auto|cpu|gpu; read once, by the first widget on
// the page).
// Events: progress, done, error (CustomEvent; see diffuir-restore.d.ts).
// API: el.restore(blob?, options?) -> Promise<result>;
//      el.restore([blob, ...], options?) -> Promise<result[]> (one after the other);
//      el.cancel(). options.strength is 0-100 too.
//
// Works under a strict CSP (script-src 'self' 'wasm-unsafe-eval'; no inline
// script or style: styles are a constructed stylesheet) and without
// cross-origin isolation. All widgets of a page share one worker.
import { DiffuirClient, DiffuirError, describeBackend, restoredName } from '../client.js';

const CSS = `
:host { display: inline-block; max-width: 100%; font: 14px/1.4 system-ui, sans-serif; color: #17202e; }
:host([hidden]) { display: none; }
.box { border: 1px solid #d5dbe6; border-radius: 8px; background: #fff; padding: 8px; max-width: 100%; }
.stage { position: relative; line-height: 0; min-width: 160px; min-height: 60px; background: #eef1f6; border-radius: 4px; overflow: hidden; }
.stage img { display: block; max-width: 100%; height: auto; width: 100%; }
.stage .after { position: absolute; inset: 0; clip-path: inset(0 0 0 var(--split, 50%)); }
.stage img[hidden] { display: none; }
.split { width: 100%; margin: 6px 0 0; }
.split[hidden] { display: none; }
.bar { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; margin-top: 6px; }
button, a.dl { font: inherit; min-height: 34px; padding: 4px 10px; border-radius: 6px; border: 1px solid #b9c2d2; background: #f7f9fc; color: inherit; cursor: pointer; text-decoration: none; display: inline-flex; align-items: center; }
button.go { background: #1d4fbf; border-color: #1d4fbf; color: #fff; font-weight: 600; }
button:disabled { opacity: .55; cursor: not-allowed; }
button[hidden], a.dl[hidden], progress[hidden] { display: none; }
:focus-visible { outline: 3px solid #1d4fbf; outline-offset: 2px; }
progress { flex: 1 1 80px; height: 10px; }
.status { font-size: 12px; color: #5a6577; margin: 4px 0 0; }
.status[data-kind="error"] { color: #b3261e; }
`;

let sheet = null;
function styles(root) {
  try {
    if (!sheet) {
      sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
    }
    root.adoptedStyleSheets = [sheet];
  } catch {
    // No constructable stylesheets (old Safari): a <link> to a same-origin
    // copy would be the CSP-safe fallback; the widget still works unstyled.
  }
}

const TEMPLATE = `
<div class="box" part="box">
  <div class="stage" part="stage">
    <img class="before" alt="Original photo" hidden>
    <img class="after" alt="Restored photo" hidden>
  </div>
  <input class="split" type="range" min="0" max="100" value="50" aria-label="Before / after split" hidden>
  <div class="bar">
    <button type="button" class="go" part="button" disabled>Restore</button>
    <button type="button" class="stop" hidden>Cancel</button>
    <progress max="1" value="0" hidden aria-label="Progress"></progress>
    <a class="dl" hidden download>Download</a>
  </div>
  <p class="status" role="status" aria-live="polite"></p>
</div>`;

// One worker and one job at a time for every widget of the page.
let shared = null;
function sharedClient(backend) {
  if (!shared) {
    shared = { client: new DiffuirClient({ backend: backend || 'auto' }), modelKey: null, modelInfo: null, chain: Promise.resolve() };
    shared.client.addEventListener('fatal', () => {
      shared.modelKey = null;
    });
  }
  return shared;
}

// Runs fn after every job queued before it (model loads must not interleave).
function exclusive(fn) {
  const s = shared;
  const run = s.chain.then(fn, fn);
  s.chain = run.catch(() => {});
  return run;
}

async function ensureModel(s, spec, opts) {
  const caps = await s.client.init();
  let src;
  if (!spec || spec === 'default') {
    const m = caps.models && caps.models[0];
    if (!m) throw new DiffuirError('E_NO_MODEL', 'this site bundles no model: set the model attribute to the URL of a .duir pack');
    src = { url: new URL(m.url, new URL('../', import.meta.url)).href, sha256: m.sha256, size: m.size, name: m.label };
  } else {
    src = { url: new URL(spec, document.baseURI).href, name: spec.split('/').pop() };
  }
  if (s.modelKey !== src.url) {
    s.modelKey = null;
    s.modelInfo = await s.client.loadModel(src, opts);
    s.modelKey = src.url;
  }
  return s.modelInfo;
}

const int = (v) => (v === null || v === '' || !Number.isFinite(Number(v)) ? undefined : Math.round(Number(v)));

export class DiffuirRestoreElement extends HTMLElement {
  static get observedAttributes() {
    return ['src'];
  }

  constructor() {
    super();
    const root = this.attachShadow({ mode: 'open' });
    styles(root);
    root.innerHTML = TEMPLATE;
    this._q = (sel) => root.querySelector(sel);
    this._ctrl = null;
    this._blob = null; // the photo to restore
    this._name = 'photo';
    this._urls = [];
    this.result = null;
    this._q('.go').addEventListener('click', () => this.restore().catch(() => {}));
    this._q('.stop').addEventListener('click', () => this.cancel());
    this._q('.split').addEventListener('input', (e) => this._split(e.target.value));
  }

  connectedCallback() {
    if (this.hasAttribute('src') && !this._blob) this._loadSrc();
  }

  disconnectedCallback() {
    this.cancel();
  }

  attributeChangedCallback(name, oldV, newV) {
    if (name === 'src' && oldV !== newV && this.isConnected) this._loadSrc();
  }

  get options() {
    const o = {};
    const steps = int(this.getAttribute('steps'));
    if (steps !== undefined) o.steps = steps;
    const tile = int(this.getAttribute('tile'));
    if (tile !== undefined) o.tile = tile;
    const seed = int(this.getAttribute('seed'));
    if (seed !== undefined) o.seed = seed;
    const ns = this.getAttribute('noise-scale');
    if (ns !== null && ns !== '' && Number.isFinite(Number(ns))) o.noiseScale = Number(ns);
    const eq = this.getAttribute('equalize');
    if (eq) o.equalize = eq;
    const st = this.getAttribute('strength');
    if (st !== null && st !== '' && Number.isFinite(Number(st))) o.strength = Number(st);
    return o;
  }

  _status(text, kind = '') {
    const s = this._q('.status');
    s.textContent = text;
    s.dataset.kind = kind;
  }

  _url(blob) {
    const u = URL.createObjectURL(blob);
    this._urls.push(u);
    while (this._urls.length > 4) URL.revokeObjectURL(this._urls.shift());
    return u;
  }

  _split(v) {
    this._q('.stage').style.setProperty('--split', `${v}%`);
  }

  _emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  _fail(err) {
    const detail = { code: err.code || 'E_INTERNAL', message: err.message || String(err) };
    this._status(detail.code === 'E_CANCELLED' ? 'Cancelled.' : detail.message, detail.code === 'E_CANCELLED' ? '' : 'error');
    this._emit('error', detail);
  }

  async _loadSrc() {
    const src = this.getAttribute('src');
    if (!src) return;
    try {
      const res = await fetch(new URL(src, document.baseURI));
      if (!res.ok) throw new DiffuirError('E_IMAGE_DECODE', `could not load ${src}: HTTP ${res.status}`);
      this._setPhoto(await res.blob(), src.split('/').pop().split('?')[0]);
      if (this.hasAttribute('autorestore')) this.restore().catch(() => {});
    } catch (err) {
      this._fail(err.code ? err : new DiffuirError('E_IMAGE_DECODE', `could not load ${src}: ${err.message}`));
    }
  }

  _setPhoto(blob, name) {
    this._blob = blob;
    if (!this._ctrl) this._q('.go').disabled = false;
    this._name = name || 'photo';
    const before = this._q('.before');
    before.src = this._url(blob);
    before.hidden = false;
    this._q('.after').hidden = true;
    this._q('.split').hidden = true;
    this._q('.dl').hidden = true;
    this.result = null;
  }

  // Restores blob (or the photo of the src attribute) with options merged
  // over the attributes; resolves with the result, rejects with
  // {code, message} errors (code E_CANCELLED after cancel()). Given an array
  // of blobs, restores them one after the other (the widget shows each in
  // turn) and resolves with the array of results; the first error stops it.
  async restore(blob, options = {}) {
    if (Array.isArray(blob)) {
      const out = [];
      for (const b of blob) out.push(await this.restore(b, options));
      return out;
    }
    if (blob) this._setPhoto(blob, blob.name || this._name);
    if (!this._blob) throw new DiffuirError('E_BAD_REQUEST', 'no photo: set src or pass a Blob');
    const { strength: strengthOpt, ...rest } = { ...this.options, ...options };
    const strength = strengthOpt === undefined ? 100 : Number(strengthOpt);
    if (!(strength >= 0 && strength <= 100)) throw new DiffuirError('E_BAD_REQUEST', `strength ${strengthOpt}: want 0 to 100`);
    this.cancel();
    const ctrl = new AbortController();
    this._ctrl = ctrl;
    const s = sharedClient(this.getAttribute('backend'));
    const go = this._q('.go');
    const stop = this._q('.stop');
    const bar = this._q('progress');
    go.disabled = true;
    stop.hidden = false;
    bar.hidden = false;
    bar.value = 0;
    const photo = this._blob;
    const opts = rest;
    try {
      const r = await exclusive(async () => {
        if (ctrl.signal.aborted) throw new DiffuirError('E_CANCELLED', 'cancelled');
        this._status('Loading the model…');
        await ensureModel(s, this.getAttribute('model'), {
          signal: ctrl.signal,
          onProgress: (p) => {
            if (p.phase === 'download' && p.total) {
              bar.value = p.loaded / p.total;
              this._status(`Downloading the model: ${Math.floor((100 * p.loaded) / p.total)}%`);
            }
            this._emit('progress', p);
          },
        });
        this._status(`Restoring… (${describeBackend(s.client.caps)})`);
        bar.value = 0;
        const res = await s.client.restore(photo, opts, {
          signal: ctrl.signal,
          onProgress: (p) => {
            bar.value = p.fraction;
            this._emit('progress', p);
          },
        });
        // Strength below 100%: the result blended with the original, exactly, in Go.
        if (strength !== 100) res.blob = await s.client.blend(photo, res.blob, strength / 100, { format: res.format, quality: opts.quality || 92 });
        return res;
      });
      const url = this._url(r.blob);
      const after = this._q('.after');
      after.src = url;
      after.hidden = false;
      this._q('.split').hidden = false;
      this._split(this._q('.split').value);
      const dl = this._q('.dl');
      dl.href = url;
      dl.download = restoredName(this._name, r.format);
      dl.hidden = false;
      this._status(`Restored in ${(r.ms / 1000).toFixed(1)} s on the ${r.backend.kind.toUpperCase()}${strength !== 100 ? `, at ${strength}% strength` : ''}.`);
      this.result = { blob: r.blob, url, width: r.width, height: r.height, mime: r.mime, backend: r.backend, ms: r.ms, strength };
      this._emit('done', this.result);
      return this.result;
    } catch (err) {
      this._fail(err);
      throw err;
    } finally {
      if (this._ctrl === ctrl) this._ctrl = null;
      go.disabled = !this._blob;
      stop.hidden = true;
      bar.hidden = true;
    }
  }

  cancel() {
    if (this._ctrl) this._ctrl.abort();
  }

  // What the shared worker reported: backend, WebGPU details, bundled models.
  capabilities() {
    return sharedClient(this.getAttribute('backend')).client.init();
  }
}

if (!customElements.get('diffuir-restore')) customElements.define('diffuir-restore', DiffuirRestoreElement);
