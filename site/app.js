// The DiffUIR Web page: a client of the worker protocol (client.js).
import { DiffuirClient, ERROR_HINTS, describeBackend, restoredName } from './client.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const backendPref = ['cpu', 'gpu', 'auto'].includes(params.get('backend')) ? params.get('backend') : 'auto';
const client = new DiffuirClient({ backend: backendPref });

const state = {
  caps: null,
  model: null, // info of the loaded model
  modelLoading: null, // AbortController of a model load
  userModels: [], // {label, file}
  photo: null, // {blob, name}
  beforeURL: null,
  result: null, // {blob, resultId, format, width, height, name}
  afterURL: null,
  running: null, // AbortController of a restore
  zoom: 'fit',
};

// ---------- messages ----------

function showMessage(text, kind = 'error') {
  const m = $('message');
  m.textContent = text;
  m.dataset.kind = kind;
  m.hidden = !text;
}

function errorText(err) {
  const code = err && err.code;
  const hint = ERROR_HINTS[code];
  const msg = (err && err.message) || String(err);
  const sentence = `${msg.charAt(0).toUpperCase()}${msg.slice(1)}${/[.!?]$/.test(msg) ? '' : '.'}`;
  if (!hint || msg.toLowerCase().startsWith(hint.toLowerCase().replace(/\.$/, ''))) return sentence;
  return `${hint} ${sentence}`;
}

function showError(err, where) {
  if (err && err.code === 'E_CANCELLED') {
    showMessage('Cancelled.', 'info');
    return;
  }
  console.error(where, err);
  showMessage(errorText(err), 'error');
}

function fmtBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
  return `${n} B`;
}

function updateButtons() {
  const busy = !!state.running;
  $('restore').disabled = busy || !state.model || !state.photo || !!state.modelLoading;
  $('cancel').hidden = !busy;
  $('download').disabled = busy || !state.result;
  $('split').disabled = !state.result;
  for (const b of document.querySelectorAll('.sample')) b.disabled = busy;
  $('photo-pick').disabled = busy;
  $('model-select').disabled = busy;
  $('model-pick').disabled = busy;
}

// ---------- backend and models ----------

function setBackendLine(caps) {
  const el = $('backend');
  el.textContent = describeBackend(caps);
  el.dataset.kind = caps && caps.backend ? caps.backend.kind : '';
  if (caps && caps.webgpu && caps.webgpu.available && caps.backend.kind === 'gpu') {
    const a = caps.webgpu.adapter;
    el.title = `WebGPU adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' ')}; shader-f16: ${caps.webgpu.f16 ? 'yes' : 'no'}`;
  } else if (backendPref === 'auto' && caps && caps.webgpu && caps.webgpu.adapter && caps.webgpu.adapter.software) {
    el.title = 'Add ?backend=gpu to the address to run on the WebGPU adapter anyway.';
  }
}

function fillModelMenu() {
  const sel = $('model-select');
  sel.textContent = '';
  const models = (state.caps && state.caps.models) || [];
  if (models.length === 0) {
    const o = new Option('No bundled model: open a pack or a .pt checkpoint', '');
    o.disabled = true;
    sel.add(o);
  }
  models.forEach((m, i) => sel.add(new Option(`${i === 0 ? 'Bundled default' : 'Bundled'}: ${m.label} (${fmtBytes(m.size)})`, `bundled:${i}`)));
  state.userModels.forEach((m, i) => sel.add(new Option(`From file: ${m.label}`, `user:${i}`)));
}

async function loadModel(source, label) {
  if (state.modelLoading) state.modelLoading.abort();
  const ctrl = new AbortController();
  state.modelLoading = ctrl;
  state.model = null;
  updateButtons();
  const status = $('model-status');
  status.textContent = `Loading ${label}…`;
  delete status.dataset.state;
  try {
    const info = await client.loadModel(source, {
      signal: ctrl.signal,
      name: label,
      onProgress: (p) => {
        if (p.phase === 'download' && p.total) {
          status.textContent = `${p.cached ? 'Reading' : 'Downloading'} ${label}: ${Math.floor((100 * p.loaded) / p.total)}% of ${fmtBytes(p.total)}`;
        } else if (p.phase === 'load') status.textContent = `Preparing ${label}…`;
      },
    });
    state.model = info;
    $('opt-steps').value = $('opt-steps').dataset.touched ? $('opt-steps').value : info.defaultSteps;
    status.textContent = `Model ready: ${info.label} (${info.name}, ${(info.params / 1e6).toFixed(1)}M parameters${info.converted ? ', converted from a checkpoint' : ''}).`;
    status.dataset.state = 'ready';
    showMessage('');
  } catch (err) {
    if (err.code === 'E_CANCELLED') return;
    status.textContent = `No model loaded: ${errorText(err)}`;
    status.dataset.state = 'error';
    showError(err, 'model');
  } finally {
    if (state.modelLoading === ctrl) state.modelLoading = null;
    updateButtons();
  }
}

function loadSelectedModel() {
  const v = $('model-select').value;
  if (v.startsWith('bundled:')) {
    const m = state.caps.models[Number(v.slice(8))];
    loadModel({ url: m.url, sha256: m.sha256, size: m.size, name: m.label }, m.label);
  } else if (v.startsWith('user:')) {
    const m = state.userModels[Number(v.slice(5))];
    loadModel(m.file, m.label);
  }
}

function addUserModel(file) {
  state.userModels.push({ label: file.name, file });
  fillModelMenu();
  $('model-select').value = `user:${state.userModels.length - 1}`;
  loadModel(file, file.name);
}

// ---------- photo ----------

const MODEL_EXT = /\.(duir|pt|pth|ckpt|safetensors|bin)(\.gz)?$/i;

async function setPhoto(blob, name) {
  if (!blob) return;
  if (name && MODEL_EXT.test(name)) {
    addUserModel(blob);
    return;
  }
  if (state.running) {
    showMessage('A photo is being restored: wait for it, or cancel it first.', 'info');
    return;
  }
  showMessage('');
  state.photo = { blob, name: name || 'photo' };
  delete $('photo-status').dataset.state;
  clearResult();
  $('photo-status').textContent = `${state.photo.name} (${fmtBytes(blob.size)})`;
  await showBefore(blob);
  updateButtons();
}

function showBefore(blob) {
  const img = $('img-before');
  if (state.beforeURL) URL.revokeObjectURL(state.beforeURL);
  state.beforeURL = URL.createObjectURL(blob);
  return new Promise((resolve) => {
    img.onload = () => {
      img.hidden = false;
      $('viewer-empty').hidden = true;
      $('photo-status').textContent = `${state.photo.name}: ${img.naturalWidth}×${img.naturalHeight} (${fmtBytes(blob.size)})`;
      applyZoom();
      resolve();
    };
    img.onerror = async () => {
      // The browser cannot show it (TIFF, or not an image at all): ask the worker.
      img.onerror = null;
      try {
        const d = await client.decode(blob);
        img.onerror = () => resolve();
        if (state.beforeURL) URL.revokeObjectURL(state.beforeURL);
        state.beforeURL = URL.createObjectURL(d.blob);
        img.src = state.beforeURL;
      } catch (err) {
        img.hidden = true;
        state.photo = null;
        $('photo-status').textContent = errorText(err);
        $('photo-status').dataset.state = 'error';
        showError(err, 'photo');
        updateButtons();
        resolve();
      }
    };
    img.src = state.beforeURL;
  });
}

function clearResult() {
  state.result = null;
  delete document.body.dataset.result;
  if (state.afterURL) URL.revokeObjectURL(state.afterURL);
  state.afterURL = null;
  $('img-after').hidden = true;
  $('img-after').removeAttribute('src');
  $('stage').classList.remove('compare');
  $('result-info').textContent = '';
}

async function loadSample(url) {
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    await setPhoto(await res.blob(), url.split('/').pop());
  } catch (err) {
    showMessage(`Could not load the sample photo: ${err.message}`);
  }
}

// ---------- restore ----------

function readOptions() {
  const num = (id, def) => {
    const v = Number($(id).value);
    return Number.isFinite(v) ? v : def;
  };
  return {
    steps: Math.min(20, Math.max(1, Math.round(num('opt-steps', 3)))),
    equalize: $('opt-equalize').value,
    tile: Math.round(num('opt-tile', 0)),
    seed: Math.max(0, Math.round(num('opt-seed', 0))),
    noiseScale: Math.min(10, Math.max(0, num('opt-noise', 1))),
    format: 'png',
  };
}

async function runRestore() {
  if (!state.photo || !state.model || state.running) return;
  const ctrl = new AbortController();
  state.running = ctrl;
  showMessage('');
  updateButtons();
  const bar = $('progress');
  const text = $('progress-text');
  bar.hidden = false;
  bar.value = 0;
  text.textContent = 'Starting…';
  const t0 = performance.now();
  try {
    const r = await client.restore(state.photo.blob, readOptions(), {
      signal: ctrl.signal,
      onProgress: (p) => {
        bar.value = p.fraction;
        text.textContent = `${Math.round(p.fraction * 100)}% · step ${p.step}/${p.steps}${p.tiles > 1 ? ` · tile ${p.tile}/${p.tiles}` : ''}`;
      },
    });
    clearResult();
    state.result = { ...r, name: restoredName(state.photo.name, r.format) };
    state.afterURL = URL.createObjectURL(r.blob);
    const img = $('img-after');
    await new Promise((resolve) => {
      img.onload = resolve;
      img.onerror = resolve;
      img.src = state.afterURL;
    });
    img.hidden = false;
    $('stage').classList.add('compare');
    setSplit($('split').value);
    bar.value = 1;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    text.textContent = `Done in ${secs} s`;
    $('result-info').textContent = `${r.width}×${r.height}, ${r.steps} step${r.steps === 1 ? '' : 's'}${r.tiles > 1 ? `, ${r.tiles} tiles` : ''}${r.equalized ? ', low-light equalized' : ''}, on ${r.backend.kind === 'gpu' ? 'the GPU' : 'the CPU'}.`;
    if (r.fallback) {
      showMessage(r.fallback, 'info');
      state.caps.backend = r.backend;
      setBackendLine(state.caps);
    }
    document.body.dataset.result = 'ready';
  } catch (err) {
    bar.hidden = true;
    text.textContent = '';
    showError(err, 'restore');
  } finally {
    state.running = null;
    updateButtons();
  }
}

async function download() {
  const r = state.result;
  if (!r) return;
  const format = $('dl-format').value;
  let blob = r.blob;
  try {
    if (format !== r.format) blob = await client.encode(r.resultId, format, 92);
  } catch (err) {
    showError(err, 'download');
    return;
  }
  const a = document.createElement('a');
  const url = URL.createObjectURL(blob);
  a.href = url;
  a.download = restoredName(state.photo ? state.photo.name : 'photo', format);
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------- viewer ----------

function setSplit(v) {
  $('stage').style.setProperty('--split', `${v}%`);
  $('split').setAttribute('aria-valuetext', `${v}% original, ${100 - v}% restored`);
}

const ZOOMS = ['fit', 1, 2, 4, 8];

function applyZoom() {
  const stage = $('stage');
  const img = $('img-before');
  stage.dataset.zoom = state.zoom === 'fit' ? 'fit' : 'px';
  if (state.zoom === 'fit' || !img.naturalWidth) {
    stage.style.removeProperty('width');
    $('zoom-level').textContent = 'Zoom: fit';
  } else {
    stage.style.width = `${img.naturalWidth * state.zoom}px`;
    $('zoom-level').textContent = `Zoom: ${state.zoom * 100}%`;
  }
}

function zoomBy(dir) {
  let i = ZOOMS.indexOf(state.zoom) + dir;
  i = Math.max(0, Math.min(ZOOMS.length - 1, i));
  state.zoom = ZOOMS[i];
  applyZoom();
}

// ---------- wiring ----------

function wire() {
  $('model-select').addEventListener('change', loadSelectedModel);
  $('model-pick').addEventListener('click', () => $('model-file').click());
  $('model-file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) addUserModel(f);
    e.target.value = '';
  });
  $('photo-pick').addEventListener('click', () => $('photo-file').click());
  $('photo-file').addEventListener('change', (e) => {
    const f = e.target.files[0];
    if (f) setPhoto(f, f.name);
    e.target.value = '';
  });
  const drop = $('drop');
  // The whole page takes drops (photos, or model files by extension).
  document.body.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  document.body.addEventListener('dragleave', (e) => {
    if (!e.relatedTarget) drop.classList.remove('over');
  });
  document.body.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer && e.dataTransfer.files[0];
    if (f && !state.running) setPhoto(f, f.name);
  });
  document.addEventListener('paste', (e) => {
    if (e.target instanceof HTMLInputElement && e.target.type !== 'file') return;
    const items = (e.clipboardData && e.clipboardData.files) || [];
    const f = items[0];
    if (f) {
      e.preventDefault();
      setPhoto(f, f.name && f.name !== 'image.png' ? f.name : 'pasted.png');
    }
  });
  for (const b of document.querySelectorAll('.sample')) b.addEventListener('click', () => loadSample(b.dataset.sample));
  $('opt-steps').addEventListener('input', (e) => {
    e.target.dataset.touched = '1';
  });
  $('restore').addEventListener('click', runRestore);
  $('cancel').addEventListener('click', () => state.running && state.running.abort());
  $('download').addEventListener('click', download);
  $('split').addEventListener('input', (e) => setSplit(e.target.value));
  $('zoom-in').addEventListener('click', () => zoomBy(1));
  $('zoom-out').addEventListener('click', () => zoomBy(-1));
  $('zoom-fit').addEventListener('click', () => {
    state.zoom = 'fit';
    applyZoom();
  });
  $('viewport').addEventListener('keydown', (e) => {
    if (e.key === '+' || e.key === '=') zoomBy(1);
    else if (e.key === '-') zoomBy(-1);
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.running) state.running.abort();
  });
  client.addEventListener('restart', (e) => {
    // A cancelled job did not stop at once: the client replaced the worker
    // and reloads the model before the next restore.
    document.body.dataset.workerRestarts = String(e.detail.restarts);
  });
  client.addEventListener('fatal', (e) => {
    showError(e.detail, 'worker');
    $('backend').textContent = 'The app stopped; it restarts on the next action.';
    state.model = null;
    state.running = null;
    $('model-status').textContent = 'No model loaded.';
    updateButtons();
    // A fresh worker: start it and reload the chosen model.
    start().catch(() => {});
  });
}

// Files opened with the installed app (manifest file_handlers) or shared to it (share_target).
function wireLaunch() {
  if ('launchQueue' in window) {
    window.launchQueue.setConsumer(async (p) => {
      if (p.files && p.files.length) {
        const f = await p.files[0].getFile();
        setPhoto(f, f.name);
      }
    });
  }
  if (params.has('shared') && 'caches' in window) {
    caches
      .open('diffuir-share')
      .then(async (c) => {
        const res = await c.match('shared-photo');
        if (!res) return;
        await c.delete('shared-photo');
        const name = decodeURIComponent(res.headers.get('x-filename') || 'shared.jpg');
        setPhoto(await res.blob(), name);
      })
      .catch(() => {});
  }
}

function wireServiceWorker() {
  if (!('serviceWorker' in navigator) || params.has('nosw')) return;
  let reloading = false;
  const showUpdate = (reg) => {
    $('update').hidden = false;
    $('update-reload').onclick = () => {
      if (reg.waiting) reg.waiting.postMessage({ type: 'skip-waiting' });
    };
  };
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (reloading || $('update').hidden) return; // only after the user asked for the update
    reloading = true;
    location.reload();
  });
  navigator.serviceWorker
    .register('sw.js')
    .then((reg) => {
      if (reg.waiting && navigator.serviceWorker.controller) showUpdate(reg);
      reg.addEventListener('updatefound', () => {
        const sw = reg.installing;
        if (!sw) return;
        sw.addEventListener('statechange', () => {
          if (sw.state === 'installed' && navigator.serviceWorker.controller) showUpdate(reg);
        });
      });
      // Check for a new version now and then while the page stays open.
      setInterval(() => reg.update().catch(() => {}), 60 * 60 * 1000);
    })
    .catch((err) => console.warn('service worker not registered:', err));
}

async function start() {
  const caps = await client.init();
  state.caps = caps;
  setBackendLine(caps);
  fillModelMenu();
  if (state.userModels.length && $('model-select').value.startsWith('user:')) loadSelectedModel();
  else if (caps.models.length) {
    $('model-select').value = 'bundled:0';
    loadSelectedModel();
  } else {
    $('model-status').textContent = 'This build has no bundled model. Open a DiffUIR weight pack (.duir) or drop a PyTorch checkpoint (.pt).';
  }
  document.body.dataset.ready = '1';
}

wire();
wireLaunch();
wireServiceWorker();
updateButtons();
start().catch((err) => {
  $('backend').textContent = 'Not started';
  showError(err, 'start');
});
// For tests and the console.
window.diffuir = { client, state };
