// The DiffUIR Web page: a client of the worker protocol (client.js).
//
// Photos form a list (state.items): each is queued, restored one after the
// other by the worker, and shown in the viewer when chosen. The strength
// slider blends a result with its original: live in the viewer (the
// restored image's opacity over the original), and exactly, in Go, for
// downloads (client.blend); "Download all" zips every result in the worker
// (client.zip, Go's archive/zip).
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
  items: [], // the photo list: see newItem
  current: null, // the item shown in the viewer
  running: false, // a run of the queue is under way
  zoom: 'fit',
  strength: 100, // percent of the restored image in the blend
};

let nextItemId = 1;

// One photo of the list. status: queued | running | done | error | cancelled.
function newItem(blob, name) {
  return { id: nextItemId++, blob, name, status: 'queued', fraction: 0, note: '', result: null, beforeURL: null, afterURL: null, ctrl: null, el: null };
}

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

// The progress line and bar go back to nothing: a new run, or an error.
function resetProgress() {
  $('progress').hidden = true;
  $('progress').value = 0;
  $('progress-text').textContent = '';
}

function fmtBytes(n) {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KB`;
  return `${n} B`;
}

const pending = () => state.items.filter((it) => it.status !== 'done');
const done = () => state.items.filter((it) => it.status === 'done');

function updateButtons() {
  const busy = state.running;
  const todo = pending().length;
  const restore = $('restore');
  // With every photo restored, the button restores the one in the viewer again (other options, say).
  restore.disabled = busy || !state.model || (todo === 0 && !state.current) || !!state.modelLoading;
  restore.textContent = todo > 1 ? `Restore ${todo} photos` : todo === 1 || !state.current ? 'Restore photo' : 'Restore again';
  $('cancel').hidden = !busy;
  $('cancel').textContent = state.items.filter((it) => it.status === 'queued' || it.status === 'running').length > 1 ? 'Cancel all' : 'Cancel';
  const cur = state.current;
  $('download').disabled = !(cur && cur.result) || $('download').dataset.busy === '1';
  $('download-all').disabled = done().length === 0 || $('download-all').dataset.busy === '1';
  $('clear').disabled = busy || state.items.length === 0;
  $('split').disabled = !(cur && cur.result);
  $('strength').disabled = done().length === 0;
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
    status.textContent = 'No model loaded.';
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

// ---------- the photo list ----------

const MODEL_EXT = /\.(duir|pt|pth|ckpt|safetensors|bin)(\.gz)?$/i;

// Adds photos (Files or {blob, name}) to the list and shows the first in
// the viewer; a model file among them is opened as a model instead.
async function addPhotos(files) {
  const photos = [];
  for (const f of files) {
    const blob = f.blob || f;
    const name = f.name || 'photo';
    if (MODEL_EXT.test(name)) addUserModel(blob);
    else if (blob) photos.push(newItem(blob, name));
  }
  if (!photos.length) return;
  showMessage('');
  if (!state.running) resetProgress();
  for (const it of photos) {
    state.items.push(it);
    renderItem(it);
  }
  updateList();
  updateButtons();
  await showItem(photos[0]);
  // Preview URLs for the rest (formats the browser cannot show are decoded lazily, when viewed).
  for (const it of photos.slice(1)) it.beforeURL = URL.createObjectURL(it.blob);
  updateButtons();
}

function renderItem(it) {
  const li = document.createElement('li');
  li.className = 'item';
  li.dataset.id = String(it.id);
  const view = document.createElement('button');
  view.type = 'button';
  view.className = 'item-view';
  view.addEventListener('click', () => showItem(it));
  const name = document.createElement('span');
  name.className = 'item-name';
  name.textContent = it.name;
  const status = document.createElement('span');
  status.className = 'item-status';
  view.append(name, status);
  const bar = document.createElement('progress');
  bar.max = 1;
  bar.value = 0;
  bar.setAttribute('aria-label', `Progress of ${it.name}`);
  const x = document.createElement('button');
  x.type = 'button';
  x.className = 'item-x';
  x.addEventListener('click', () => cancelOrRemove(it));
  li.append(view, bar, x);
  it.el = li;
  $('queue').append(li);
  updateItem(it);
}

const STATUS_TEXT = { queued: 'waiting', running: 'restoring', done: 'restored', error: 'failed', cancelled: 'cancelled' };

function updateItem(it) {
  const li = it.el;
  if (!li) return;
  li.dataset.status = it.status;
  li.classList.toggle('current', it === state.current);
  const view = li.querySelector('.item-view');
  view.setAttribute('aria-pressed', String(it === state.current));
  view.title = `Show ${it.name} in the viewer`;
  const st = li.querySelector('.item-status');
  // A failure's text is in the message line once; the row says "failed" and keeps the text as a tooltip.
  st.textContent = it.status === 'running' ? `${Math.round(it.fraction * 100)}%` : STATUS_TEXT[it.status];
  st.title = it.status === 'error' ? it.note : '';
  const bar = li.querySelector('progress');
  bar.value = it.status === 'done' ? 1 : it.fraction;
  bar.hidden = it.status !== 'running' && it.status !== 'done';
  const x = li.querySelector('.item-x');
  const stop = it.status === 'running' || (it.status === 'queued' && !!it.ctrl);
  x.textContent = stop ? 'Cancel' : 'Remove';
  x.setAttribute('aria-label', `${stop ? 'Cancel' : 'Remove'} ${it.name}`);
}

function updateList() {
  $('queue').hidden = state.items.length === 0;
  const n = state.items.length;
  const d = done().length;
  $('photo-status').textContent = n === 0 ? '' : `${n} photo${n === 1 ? '' : 's'}${d ? `, ${d} restored` : ''}.`;
  for (const it of state.items) updateItem(it);
}

function dropItem(it) {
  if (it.beforeURL) URL.revokeObjectURL(it.beforeURL);
  if (it.afterURL) URL.revokeObjectURL(it.afterURL);
  it.el && it.el.remove();
  const i = state.items.indexOf(it);
  if (i >= 0) state.items.splice(i, 1);
  if (state.current === it) {
    state.current = null;
    const next = state.items[Math.min(i, state.items.length - 1)];
    if (next) showItem(next);
    else showEmpty();
  }
}

function cancelOrRemove(it) {
  if (it.status === 'running' || (it.status === 'queued' && it.ctrl)) {
    if (it.ctrl) it.ctrl.abort();
    it.status = 'cancelled';
    it.fraction = 0;
  } else dropItem(it);
  updateList();
  updateButtons();
}

function clearList() {
  if (state.running) return;
  for (const it of [...state.items]) dropItem(it);
  showMessage('');
  resetProgress();
  updateList();
  updateButtons();
}

// ---------- viewer ----------

function showEmpty() {
  $('img-before').hidden = true;
  $('img-before').removeAttribute('src');
  hideAfter();
  $('viewer-empty').hidden = false;
  $('result-info').textContent = '';
  delete document.body.dataset.result;
  updateButtons();
}

function hideAfter() {
  $('img-after').hidden = true;
  $('img-after').removeAttribute('src');
  $('stage').classList.remove('compare');
}

function loadImg(img, url) {
  return new Promise((resolve) => {
    img.onload = () => resolve(true);
    img.onerror = () => resolve(false);
    img.src = url;
  });
}

// Shows item it in the viewer: the original, and the result when there is one.
async function showItem(it) {
  state.current = it;
  updateList();
  const img = $('img-before');
  if (!it.beforeURL) it.beforeURL = URL.createObjectURL(it.blob);
  let ok = await loadImg(img, it.beforeURL);
  if (state.current !== it) return;
  if (!ok && !it.decoded) {
    // The browser cannot show it (TIFF, or not an image at all): ask the worker.
    it.decoded = true;
    try {
      const d = await client.decode(it.blob);
      URL.revokeObjectURL(it.beforeURL);
      it.beforeURL = URL.createObjectURL(d.blob);
      ok = await loadImg(img, it.beforeURL);
    } catch (err) {
      // Not a photo: it leaves the list, and the error is said once, in the message line.
      dropItem(it);
      updateList();
      resetProgress();
      showError(err, 'photo');
      updateButtons();
      return;
    }
    if (state.current !== it) return;
  }
  img.hidden = false;
  img.alt = `Original: ${it.name}`;
  $('viewer-empty').hidden = true;
  if (ok) it.size = `${img.naturalWidth}×${img.naturalHeight}`;
  $('viewer-name').textContent = `${it.name}${it.size ? `: ${it.size}` : ''} (${fmtBytes(it.blob.size)})`;
  if (ok) showEstimate(it, img.naturalWidth, img.naturalHeight);
  await showResult(it);
  applyZoom();
}

// Adds the expected restore time to the viewer's line (site/eta.js: from
// the restores measured on this device, or a short calibration).
async function showEstimate(it, w, h) {
  if (!state.model) return;
  try {
    const e = await client.estimate(w, h, readOptions());
    if (state.current !== it || e.ms === null) return;
    $('viewer-name').textContent += ` · about ${fmtSeconds(e.ms)} to restore here`;
  } catch {
    // no estimate: the line stays as it is
  }
}

function fmtSeconds(ms) {
  const s = ms / 1000;
  if (s < 10) return `${s.toFixed(1)} s`;
  if (s < 120) return `${Math.round(s)} s`;
  return `${Math.round(s / 60)} min`;
}

async function showResult(it) {
  if (state.current !== it) return;
  if (!it.result) {
    hideAfter();
    $('result-info').textContent = '';
    delete document.body.dataset.result;
    updateButtons();
    return;
  }
  const r = it.result;
  if (!it.afterURL) it.afterURL = URL.createObjectURL(r.blob);
  const img = $('img-after');
  await loadImg(img, it.afterURL);
  if (state.current !== it) return;
  img.hidden = false;
  img.alt = `Restored: ${it.name}`;
  $('stage').classList.add('compare');
  setSplit($('split').value);
  setStrength($('strength').value);
  $('result-info').textContent = `${r.width}×${r.height}, ${r.steps} step${r.steps === 1 ? '' : 's'}${r.tiles > 1 ? `, ${r.tiles} tiles` : ''}${r.equalized ? ', low-light equalized' : ''}, on ${r.backend.kind === 'gpu' ? 'the GPU' : 'the CPU'}.`;
  if (!state.running) document.body.dataset.result = 'ready';
  updateButtons();
}

function setSplit(v) {
  v = Number(v);
  const stage = $('stage');
  stage.style.setProperty('--split', `${v}%`);
  $('split').setAttribute('aria-valuetext', `${v}% original, ${100 - v}% restored`);
  // A label shows only while its side of the split has room for it.
  const w = stage.clientWidth;
  const before = stage.querySelector('.tag-before');
  const after = stage.querySelector('.tag-after');
  stage.classList.toggle('no-before', (w * v) / 100 < before.offsetWidth + 12 || v <= 0);
  stage.classList.toggle('no-after', (w * (100 - v)) / 100 < after.offsetWidth + 12 || v >= 100);
}

function setStrength(v) {
  v = Math.max(0, Math.min(100, Math.round(Number(v))));
  state.strength = v;
  // Live: the restored image over the original at this opacity is the same
  // blend, (1-s)·original + s·restored, that downloads compute exactly.
  $('stage').style.setProperty('--strength', String(v / 100));
  $('strength-value').textContent = `${v}%`;
  $('strength').setAttribute('aria-valuetext', `${v}% restored, ${100 - v}% original`);
}

const ZOOMS = ['fit', 1, 2, 4, 8];

// Fit shows the whole photo: the largest size at which both its width and
// its height fit the viewer.
function applyZoom() {
  const stage = $('stage');
  const img = $('img-before');
  stage.dataset.zoom = state.zoom === 'fit' ? 'fit' : 'px';
  const w = img.naturalWidth;
  const h = img.naturalHeight;
  if (!w || !h || img.hidden) {
    stage.style.removeProperty('width');
    $('zoom-level').textContent = state.zoom === 'fit' ? 'Zoom: fit' : `Zoom: ${state.zoom * 100}%`;
    return;
  }
  if (state.zoom === 'fit') {
    const vp = $('viewport');
    const maxH = parseFloat(getComputedStyle(vp).maxHeight) || window.innerHeight * 0.7;
    const borders = vp.offsetHeight - vp.clientHeight;
    const s = Math.min(vp.clientWidth / w, (maxH - borders) / h);
    stage.style.width = `${Math.max(1, Math.floor(w * s))}px`;
    $('zoom-level').textContent = `Zoom: fit (${Math.round(s * 100)}%)`;
  } else {
    stage.style.width = `${w * state.zoom}px`;
    $('zoom-level').textContent = `Zoom: ${state.zoom * 100}%`;
  }
  setSplit($('split').value);
}

function zoomBy(dir) {
  let i = ZOOMS.indexOf(state.zoom) + dir;
  i = Math.max(0, Math.min(ZOOMS.length - 1, i));
  state.zoom = ZOOMS[i];
  applyZoom();
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

// Restores every photo of the list that has no result yet, one after the other.
async function runQueue() {
  if (state.running || !state.model) return;
  let todo = pending();
  if (!todo.length && state.current) todo = [state.current];
  if (!todo.length) return;
  for (const it of todo) {
    it.status = 'queued';
    it.fraction = 0;
    it.note = '';
    it.ctrl = new AbortController();
  }
  state.running = true;
  showMessage('');
  delete document.body.dataset.result;
  updateList();
  updateButtons();
  const bar = $('progress');
  const text = $('progress-text');
  bar.hidden = false;
  bar.value = 0;
  text.textContent = 'Starting…';
  const t0 = performance.now();
  const opts = readOptions();
  let failed = 0;
  let cancelled = 0;
  let lastErr = null;
  for (let i = 0; i < todo.length; i++) {
    const it = todo[i];
    if (!state.items.includes(it)) continue; // removed meanwhile
    if (it.status === 'cancelled' || it.ctrl.signal.aborted) {
      it.status = 'cancelled';
      cancelled++;
      updateItem(it);
      continue;
    }
    it.status = 'running';
    updateList();
    const of = todo.length > 1 ? `photo ${i + 1} of ${todo.length} · ` : '';
    try {
      const r = await client.restore(it.blob, opts, {
        signal: it.ctrl.signal,
        onProgress: (p) => {
          it.fraction = p.fraction;
          updateItem(it);
          bar.value = (i + p.fraction) / todo.length;
          text.textContent = `${of}${Math.round(p.fraction * 100)}% · step ${p.step}/${p.steps}${p.tiles > 1 ? ` · tile ${p.tile}/${p.tiles}` : ''}${p.remainingMs != null && p.fraction < 1 ? ` · about ${fmtSeconds(p.remainingMs)} left` : ''}`;
        },
      });
      if (it.afterURL) URL.revokeObjectURL(it.afterURL);
      it.afterURL = null;
      it.result = { ...r, name: restoredName(it.name, r.format) };
      it.status = 'done';
      if (r.fallback) {
        showMessage(r.fallback, 'info');
        state.caps.backend = r.backend;
        setBackendLine(state.caps);
      }
      // The viewer follows the run only while it has nothing else to show: the
      // photo in it keeps its place when it is still waiting its turn.
      const cur = state.current;
      if (cur === it || !cur || (!cur.result && !todo.includes(cur))) {
        if (state.current !== it) await showItem(it);
        else await showResult(it);
      }
    } catch (err) {
      if (err.code === 'E_CANCELLED') {
        it.status = it.result ? 'done' : 'cancelled'; // a cancelled re-run keeps the earlier result
        cancelled++;
      } else {
        it.status = 'error';
        it.note = errorText(err);
        failed++;
        lastErr = err;
        console.error('restore', it.name, err);
      }
      it.fraction = 0;
    }
    it.ctrl = null;
    updateList();
  }
  state.running = false;
  for (const it of todo) it.ctrl = null;
  const ok = todo.filter((it) => it.status === 'done').length;
  if (ok === 0) {
    resetProgress();
  } else {
    bar.value = 1;
    const secs = ((performance.now() - t0) / 1000).toFixed(1);
    text.textContent = todo.length > 1 ? `Restored ${ok} of ${todo.length} photos in ${secs} s` : `Done in ${secs} s`;
  }
  if (failed && lastErr) {
    // Shown once, in the message line (the list marks which photos failed).
    const what = todo.length > 1 ? `${failed} of ${todo.length} photos could not be restored. ` : '';
    showMessage(`${what}${errorText(lastErr)}`, 'error');
  } else if (cancelled) showMessage(todo.length > 1 ? `Cancelled: ${cancelled} of ${todo.length} photos.` : 'Cancelled.', 'info');
  if (state.current && state.current.result) document.body.dataset.result = 'ready';
  if (ok) document.body.dataset.batch = String(ok);
  updateList();
  updateButtons();
}

function cancelAll() {
  for (const it of state.items) {
    if (it.status === 'running' || it.status === 'queued') {
      if (it.ctrl) {
        it.ctrl.abort();
        it.status = 'cancelled';
      }
    }
  }
  updateList();
}

// ---------- downloads ----------

// The bytes of item it's result at the current strength, in format.
async function resultBlob(it, format) {
  const r = it.result;
  if (state.strength === 100 && format === r.format) return r.blob;
  return client.blend(it.blob, r.blob, state.strength / 100, { format, quality: 92 });
}

function save(blob, name) {
  const a = document.createElement('a');
  const url = URL.createObjectURL(blob);
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function busyWhile(id, fn) {
  $(id).dataset.busy = '1';
  updateButtons();
  try {
    await fn();
  } catch (err) {
    showError(err, 'download');
  } finally {
    delete $(id).dataset.busy;
    updateButtons();
  }
}

function download() {
  const it = state.current;
  if (!it || !it.result) return;
  const format = $('dl-format').value;
  return busyWhile('download', async () => save(await resultBlob(it, format), restoredName(it.name, format)));
}

function downloadAll() {
  const items = done();
  if (!items.length) return;
  const format = $('dl-format').value;
  return busyWhile('download-all', async () => {
    const used = new Set();
    const files = [];
    for (const it of items) {
      let name = restoredName(it.name, format);
      for (let n = 2; used.has(name); n++) name = restoredName(`${it.name.replace(/\.[^.]*$/, '')}-${n}`, format);
      used.add(name);
      files.push({ name, data: await resultBlob(it, format) });
    }
    save(await client.zip(files), `restored-photos-${files.length}.zip`);
  });
}

// ---------- wiring ----------

function fileList(list) {
  return Array.from(list || []).map((f) => ({ blob: f, name: f.name || 'photo' }));
}

async function loadSamples(urls) {
  try {
    const files = [];
    for (const url of urls) {
      const res = await fetch(url);
      if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
      files.push({ blob: await res.blob(), name: url.split('/').pop() });
    }
    await addPhotos(files);
  } catch (err) {
    showMessage(`Could not load the sample photo: ${err.message}`);
  }
}

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
    const files = fileList(e.target.files);
    e.target.value = '';
    if (files.length) addPhotos(files);
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
    const files = fileList(e.dataTransfer && e.dataTransfer.files);
    if (files.length) addPhotos(files);
  });
  document.addEventListener('paste', (e) => {
    if (e.target instanceof HTMLInputElement && e.target.type !== 'file') return;
    const files = fileList(e.clipboardData && e.clipboardData.files).map((f) => ({ ...f, name: f.name && f.name !== 'image.png' ? f.name : 'pasted.png' }));
    if (files.length) {
      e.preventDefault();
      addPhotos(files);
    }
  });
  const samples = [...document.querySelectorAll('.sample[data-sample]')];
  for (const b of samples) b.addEventListener('click', () => loadSamples([b.dataset.sample]));
  $('samples-all').addEventListener('click', () => loadSamples(samples.map((b) => b.dataset.sample)));
  $('opt-steps').addEventListener('input', (e) => {
    e.target.dataset.touched = '1';
  });
  $('restore').addEventListener('click', runQueue);
  $('cancel').addEventListener('click', cancelAll);
  $('clear').addEventListener('click', clearList);
  $('download').addEventListener('click', download);
  $('download-all').addEventListener('click', downloadAll);
  $('split').addEventListener('input', (e) => setSplit(e.target.value));
  $('strength').addEventListener('input', (e) => setStrength(e.target.value));
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
  if (window.ResizeObserver) new ResizeObserver(() => state.zoom === 'fit' && applyZoom()).observe($('viewport'));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && state.running) cancelAll();
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
      if (p.files && p.files.length) addPhotos(await Promise.all(p.files.map((h) => h.getFile())));
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
        addPhotos([{ blob: await res.blob(), name }]);
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
setStrength($('strength').value);
updateList();
updateButtons();
start().catch((err) => {
  $('backend').textContent = 'Not started';
  showError(err, 'start');
});
// For tests and the console.
window.diffuir = { client, state };
