// Time you can plan by: how long a restore will take before it starts, and
// how long is left while it runs. The worker (worker.js) owns one Eta.
//
// The model is linear in the work: ms ≈ rate × megapixels × steps, one
// rate per backend (the CPU with or without the SIMD128 kernels, the GPU),
// learnt from every finished restore of CALIBRATION_SIDE² or more on this
// device and kept in Cache Storage (workers have no localStorage). Without
// a rate yet, estimate() can calibrate: a timed 1-step restore of a small
// synthetic photo after the engine has warmed up on a smaller one; it
// compiles nothing the real restore would reuse, so it is only done when
// asked, and the first real restore replaces its rate. During a restore
// the remaining time comes from the progress fraction once the first step
// is done (the measured pace of this very image), before that from the
// rate.
const CACHE = 'diffuir-timing-v1';
const KEY = new URL('./timing.json', import.meta.url).href;
// The calibration photos' sides: warm-up, then timed. V8 tiers the kernels
// up over the first restores, so a rate timed on the first ones (or on a
// photo small enough that it finishes before then) was 1.6x or more too
// slow; 128² for 1 step takes 0.26 s on the CPU of docs/BENCHMARKS.md.
export const CALIBRATION_WARMUP = 64;
export const CALIBRATION_SIDE = 128;

export class Eta {
  constructor() {
    this.rates = {}; // backend key -> {msPerMpStep, n}
    this.loaded = this._load();
  }

  async _load() {
    try {
      const c = await self.caches.open(CACHE);
      const r = await c.match(KEY);
      if (r) this.rates = (await r.json()) || {};
    } catch {
      // no Cache Storage (opaque origin, private mode): rates last this session only
    }
  }

  async _save() {
    try {
      const c = await self.caches.open(CACHE);
      await c.put(KEY, new Response(JSON.stringify(this.rates), { headers: { 'content-type': 'application/json' } }));
    } catch {
      // as above
    }
  }

  // The work of a restore in megapixel-steps.
  static work(width, height, steps) {
    return ((width * height) / 1e6) * Math.max(1, steps);
  }

  // ms for a restore of width×height with steps steps, or null without a rate.
  estimate(backend, width, height, steps) {
    const r = this.rates[backend];
    return r ? Math.round(r.msPerMpStep * Eta.work(width, height, steps)) : null;
  }
  // basis says where the backend's rate comes from: 'measured' restores,
  // a 'calibrated' one, or null (none yet).
  basis(backend) {
    const r = this.rates[backend];
    return r ? (r.calibrated ? 'calibrated' : 'measured') : null;
  }
  // calibrate sets the backend's rate from a timed 1-step restore of a
  // side² photo, until the first real restore replaces it.
  calibrate(backend, side, ms) {
    if (!(ms > 0)) return;
    this.rates[backend] = { msPerMpStep: ms / Eta.work(side, side, 1), n: 0, calibrated: true };
    this._save();
  }

  // learn records a finished restore (ms measured around it). A running
  // average over the last few restores, so one slow run (a busy machine)
  // does not dominate.
  learn(backend, width, height, steps, ms) {
    const w = Eta.work(width, height, steps);
    if (!(w > 0) || !(ms > 0)) return;
    // A photo smaller than the calibration's is mostly per-restore cost
    // (a 45×37 one made the rate 2.7x too slow for 256²).
    if (width * height < CALIBRATION_SIDE * CALIBRATION_SIDE) return;
    const v = ms / w;
    const r = this.rates[backend];
    if (!r || r.calibrated) this.rates[backend] = { msPerMpStep: v, n: 1 };
    else {
      const k = Math.min(r.n, 3);
      r.msPerMpStep = (r.msPerMpStep * k + v) / (k + 1);
      r.n++;
    }
    this._save();
  }

  // tracker follows one restore: progress(fraction) -> {elapsedMs, remainingMs}.
  tracker(backend, width, height, steps) {
    const t0 = performance.now();
    const prior = this.estimate(backend, width, height, steps);
    return {
      progress: (fraction) => {
        const elapsedMs = Math.round(performance.now() - t0);
        let remainingMs = null;
        if (fraction > 0) remainingMs = Math.round((elapsedMs * (1 - fraction)) / fraction);
        else if (prior !== null) remainingMs = Math.max(0, prior - elapsedMs);
        return { elapsedMs, remainingMs };
      },
      done: () => {
        const ms = performance.now() - t0;
        this.learn(backend, width, height, steps, ms);
        return Math.round(ms);
      },
    };
  }
}

// calibrationPNG is a side² RGB PNG of smooth colour ramps (stored,
// uncompressed deflate: no encoder needed), for estimate's calibration.
export function calibrationPNG(side) {
  const w = side;
  const h = side;
  const raw = new Uint8Array(h * (1 + 3 * w));
  for (let y = 0; y < h; y++) {
    const o = y * (1 + 3 * w);
    raw[o] = 0; // filter: none
    for (let x = 0; x < w; x++) {
      raw[o + 1 + 3 * x] = (x * 255) / w;
      raw[o + 2 + 3 * x] = (y * 255) / h;
      raw[o + 3 + 3 * x] = ((x + y) * 127) / w;
    }
  }
  // zlib: header, stored blocks of at most 65535 bytes, Adler-32
  const blocks = [];
  for (let i = 0; i < raw.length; i += 65535) {
    const part = raw.subarray(i, Math.min(i + 65535, raw.length));
    const last = i + 65535 >= raw.length ? 1 : 0;
    blocks.push(Uint8Array.of(last, part.length & 255, part.length >> 8, ~part.length & 255, (~part.length >> 8) & 255), part);
  }
  let a = 1;
  let b = 0;
  for (const v of raw) {
    a = (a + v) % 65521;
    b = (b + a) % 65521;
  }
  const z = concat([Uint8Array.of(0x78, 0x01), ...blocks, be32((b << 16) | a)]);
  const ihdr = concat([be32(w), be32(h), Uint8Array.of(8, 2, 0, 0, 0)]);
  return concat([Uint8Array.of(137, 80, 78, 71, 13, 10, 26, 10), chunk('IHDR', ihdr), chunk('IDAT', z), chunk('IEND', new Uint8Array(0))]);
}

function be32(v) {
  return Uint8Array.of((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

// concat joins Uint8Arrays (also the worker's model download chunks).
export function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

let crcTable = null;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (const v of bytes) c = crcTable[(c ^ v) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const t = new TextEncoder().encode(type);
  const td = concat([t, data]);
  return concat([be32(data.length), td, be32(crc32(td))]);
}

