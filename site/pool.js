// Every core for the CPU backend: the tiles of one restore spread over N
// workers, each its own wasm instance (Go's wasm port has one thread), no
// SharedArrayBuffer and so no cross-origin isolation needed. The worker
// that got the request (worker.js) is one of them and blends: helpers are
// more copies of worker.js, restoring the tiles they are handed
// (restoreTiles, internal to this file and worker.js), and every tile goes
// through the same restore.Plan, RestoreTiles and Plan.Blend (in plan
// order) as one worker's restore, so the output is identical to it.
//
// N comes from navigator.hardwareConcurrency, capped by a memory budget:
// half of navigator.deviceMemory (4 GB where the browser does not say)
// over what one worker needs for a default tile. A photo of one tile, and
// any photo while N is 1, takes the ordinary single-worker path.

const WORKER_MB = 1000; // a 512-px tile's activations (751 MiB planned) plus the photo's planes
const MAX_WORKERS = 8;

// poolSize is how many workers (this one included) a CPU restore may use.
export function poolSize(nav = self.navigator) {
  const cores = Math.max(1, (nav && nav.hardwareConcurrency) || 1);
  const memGB = (nav && nav.deviceMemory) || 4;
  const byMemory = Math.max(1, Math.floor((memGB * 1024 * 0.5) / WORKER_MB));
  return Math.min(cores, byMemory, MAX_WORKERS);
}

let nextKey = 0;

export class Pool {
  // url: worker.js's URL; model(): the current model's {bytes, name, version}.
  constructor(url, model) {
    this.url = url;
    this.model = model;
    this.helpers = []; // {worker, ready: Promise, modelVersion, pending: Map}
    this.seq = 0;
  }

  _spawn() {
    const h = { worker: new Worker(this.url, { type: 'module', name: 'diffuir-helper' }), pending: new Map(), modelVersion: -1, dead: null };
    h.worker.onmessage = (e) => {
      const m = e.data;
      if (m.type === 'fatal') {
        h.dead = m.error;
        for (const p of h.pending.values()) p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
        h.pending.clear();
        return;
      }
      const p = h.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') p.onProgress && p.onProgress(m.progress);
      else {
        h.pending.delete(m.id);
        if (m.type === 'result') p.resolve(m.result);
        else p.reject(Object.assign(new Error(m.error.message), { code: m.error.code }));
      }
    };
    h.worker.onerror = (e) => {
      h.dead = { code: 'E_WORKER_EXITED', message: e.message || 'helper worker failed' };
      for (const p of h.pending.values()) p.reject(new Error(h.dead.message));
      h.pending.clear();
    };
    h.ready = this._call(h, { type: 'init', backend: 'cpu' });
    return h;
  }

  _call(h, msg, onProgress, transfer) {
    const id = ++this.seq;
    return new Promise((resolve, reject) => {
      if (h.dead) {
        reject(new Error(h.dead.message));
        return;
      }
      h.pending.set(id, { resolve, reject, onProgress });
      h.worker.postMessage({ ...msg, id }, transfer || []);
    });
  }

  // helpers returns up to n ready helpers with the current model loaded;
  // ones that fail to start are dropped (the job runs on fewer workers).
  async _helpers(n) {
    // A helper that died in an earlier job (its instance ran out of memory,
    // say) is replaced, not handed tiles it can only give back.
    for (const h of this.helpers) if (h.dead) h.worker.terminate();
    this.helpers = this.helpers.filter((h) => !h.dead);
    while (this.helpers.length < n) this.helpers.push(this._spawn());
    const m = this.model();
    const ok = await Promise.all(
      this.helpers.slice(0, n).map(async (h) => {
        try {
          await h.ready;
          if (h.modelVersion !== m.version) {
            await this._call(h, { type: 'loadModel', source: { bytes: m.bytes.slice().buffer, name: m.name } });
            h.modelVersion = m.version;
          }
          return h;
        } catch {
          h.worker.terminate();
          this.helpers = this.helpers.filter((x) => x !== h);
          return null;
        }
      }),
    );
    return ok.filter(Boolean);
  }

  // restore runs one restore over this worker (api: its Go bridge) and up
  // to n-1 helpers. plan is api.tilePlan's answer for key. Resolves with
  // what api.blendTiles returns, plus workers.
  async restore({ api, key, id, bytes, options, plan, n, onProgress, signal }) {
    const helpers = await this._helpers(Math.min(n, plan.tiles) - 1);
    const queue = Array.from({ length: plan.tiles }, (_, i) => i);
    const total = plan.tiles * plan.steps;
    let done = 0;
    let failed = null;
    const running = new Map(); // helper -> request id, for cancel
    const step = (p) => {
      done++;
      onProgress({ tile: p.tile, tiles: plan.tiles, step: p.step, steps: p.steps, fraction: done / total, workers: helpers.length + 1 });
    };
    // Tiles reach Go's blender in any order (Blend sorts them); each one is
    // handed over as soon as it is back, so JS holds few at a time.
    const add = async (t) => api.addTile(key, t.index, t.rgb instanceof Float32Array ? t.rgb : new Float32Array(t.rgb));
    const local = async () => {
      while (queue.length && !failed) {
        const i = queue.shift();
        const tiles = await api.restoreTiles(id, key, bytes, options, [i], step);
        for (const t of tiles) await add(t);
      }
    };
    // Each helper keeps three tiles in hand: this worker hears that one is
    // done only between its own sampler steps, and a helper with an empty
    // hand would wait for that. Every request carries the photo (the
    // helper decodes it once per job, for whichever request comes first).
    const remote = async (h) => {
      const inflight = new Set();
      let broken = false;
      const launch = () => {
        if (!queue.length || failed || broken) return false;
        const i = queue.shift();
        const req = this._call(h, { type: 'restoreTiles', key, image: bytes.slice().buffer, options, indices: [i] }, step);
        const p = req.then(
          async (tiles) => {
            for (const t of tiles) await add(t);
          },
          (err) => {
            if (failed || (err && err.code === 'E_CANCELLED')) throw err;
            queue.unshift(i); // this helper is gone: the others take its tile
            broken = true;
          },
        );
        const done = p.finally(() => inflight.delete(done));
        inflight.add(done);
        return true;
      };
      for (;;) {
        while (inflight.size < 3 && launch());
        if (!inflight.size) return;
        await Promise.race(inflight);
      }
    };
    const onAbort = () => {
      failed = failed || Object.assign(new Error('cancelled'), { code: 'E_CANCELLED' });
      api.cancel(id);
      for (const h of helpers) for (const hid of h.pending.keys()) h.worker.postMessage({ type: 'cancel', target: hid });
    };
    signal.addEventListener('abort', onAbort);
    try {
      const jobs = [local(), ...helpers.map(remote)];
      const results = await Promise.allSettled(jobs);
      const bad = results.find((r) => r.status === 'rejected');
      if (bad) {
        if (!failed) onAbort();
        throw bad.reason;
      }
      if (failed) throw failed;
      await local(); // tiles a failed helper handed back after the others had finished
      const r = await api.blendTiles(key, options);
      r.workers = helpers.length + 1;
      return r;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }
}

export function jobKey() {
  return `job-${Date.now()}-${++nextKey}`;
}
