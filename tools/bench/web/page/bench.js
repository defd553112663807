// The benchmark page: restores one synthetic photo with one implementation
// and reports timings and the output. The driver (../bench.mjs) opens this
// page in a fresh browser per implementation and calls
//
//   await window.benchRun({impl, kind, size: [h, w], steps, runs, budgetMs, profile, profileReps, ...})
//
// kind 'diffuir': this runtime through its worker protocol (site/client.js),
//   backend 'gpu' (WebGPU) or 'cpu' (the pure-Go fallback), zero noise,
//   whole image in one tile, no equalization. With profile (and backend
//   'gpu'), after the timed runs, the worker's per-kernel profile of one UNet
//   pass at this size.
// kind 'ort': onnxruntime-web on the exported UNet (tools/pyref/export_onnx.py),
//   execution provider 'webgpu' or 'wasm', with the sampler's scalar updates
//   done here exactly as runtime/sampler does them (float32, zero noise).
//
// Everything is fetched from this page's origin: /app/ (dist/site), /ort/
// (onnxruntime-web's dist), /models/ (the pack and the .onnx files).

const log = (s) => {
  document.getElementById('log').textContent += `${s}\n`;
  console.log(s);
};

// ---------------------------------------------------------------------------
// The input photo: deterministic, photo-like (smooth shading, edges, texture).

function makeInput(h, w) {
  const rgb = new Uint8Array(3 * h * w); // planar: R plane, G plane, B plane
  let s = 0x9e3779b9;
  const rnd = () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const u = x / w;
      const v = y / h;
      const disc = (u - 0.6) ** 2 + (v - 0.4) ** 2 < 0.06 ? 1 : 0;
      const stripes = Math.sin(18 * u + 7 * v) > 0.6 ? 1 : 0;
      const n = rnd() - 0.5;
      const r = 0.25 + 0.5 * u + 0.25 * disc - 0.1 * stripes + 0.08 * n;
      const g = 0.35 + 0.3 * v + 0.15 * stripes - 0.2 * disc + 0.08 * n;
      const b = 0.6 - 0.35 * v + 0.2 * disc * u + 0.08 * (rnd() - 0.5);
      const i = y * w + x;
      rgb[i] = Math.round(255 * Math.min(1, Math.max(0, r)));
      rgb[h * w + i] = Math.round(255 * Math.min(1, Math.max(0, g)));
      rgb[2 * h * w + i] = Math.round(255 * Math.min(1, Math.max(0, b)));
    }
  }
  return rgb;
}

async function encodePNG(rgb, h, w) {
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  const img = ctx.createImageData(w, h);
  for (let i = 0; i < h * w; i++) {
    img.data[4 * i] = rgb[i];
    img.data[4 * i + 1] = rgb[h * w + i];
    img.data[4 * i + 2] = rgb[2 * h * w + i];
    img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  return c.convertToBlob({ type: 'image/png' });
}

// Decodes an opaque 8-bit PNG to planar RGB bytes, without color conversion.
async function decodePNG(blob) {
  const bmp = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  const { width: w, height: h } = bmp;
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  ctx.drawImage(bmp, 0, 0);
  const d = ctx.getImageData(0, 0, w, h).data;
  const rgb = new Uint8Array(3 * h * w);
  for (let i = 0; i < h * w; i++) {
    rgb[i] = d[4 * i];
    rgb[h * w + i] = d[4 * i + 1];
    rgb[2 * h * w + i] = d[4 * i + 2];
  }
  return { rgb, h, w };
}

function b64(bytes) {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

// ---------------------------------------------------------------------------
// The sampler, as runtime/sampler computes it (float32 at every operation).

const f = Math.fround;

function linspace(start, end, n) {
  start = f(start);
  end = f(end);
  const out = new Float32Array(n);
  if (n === 1) {
    out[0] = start;
    return out;
  }
  const step = f(f(end - start) / f(n - 1));
  const half = Math.floor(n / 2);
  for (let i = 0; i < n; i++) out[i] = i < half ? f(start + f(step * i)) : f(end - f(step * (n - 1 - i)));
  return out;
}

export function schedule(T = 1000, deltaEnd = 1.8e-3) {
  const betas = linspace(1e-4, 0.02, T);
  const alphaBar = new Float32Array(T);
  const deltaBar = new Float32Array(T);
  let acp = f(1);
  for (let i = 0; i < T; i++) {
    acp = f(acp * f(1 - betas[i]));
    alphaBar[i] = f(1 - f(Math.sqrt(acp)));
  }
  const d = linspace(1e-6, deltaEnd, T);
  let sum = f(0);
  for (let i = 0; i < T; i++) {
    sum = f(sum + d[i]);
    deltaBar[i] = Math.min(Math.max(sum, 0), 1);
  }
  return { alphaBar, deltaBar, T };
}

export function steps(sched, n) {
  const { alphaBar: a, deltaBar: d, T } = sched;
  const lin = linspace(-1, T - 1, n + 1);
  const times = new Array(n + 1);
  for (let i = 0; i <= n; i++) times[n - i] = Math.trunc(lin[i]);
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = times[i];
    const next = times[i + 1];
    const st = { t, next, time: f(a[t] * T), last: next < 0, alpha: 0, delta: 0 };
    if (!st.last) {
      st.alpha = f(a[t] - a[next]);
      st.delta = f(d[t] - d[next]);
    }
    out.push(st);
  }
  return out;
}

const clamp1 = (v) => Math.min(Math.max(v, -1), 1);

// Reflect-pads a C×h×w planar tensor right/bottom to C×ph×pw, into dst at channel offset.
function reflectPad(dst, dstOff, src, c, h, w, ph, pw) {
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < ph; y++) {
      const sy = y < h ? y : 2 * (h - 1) - y;
      for (let x = 0; x < pw; x++) {
        const sx = x < w ? x : 2 * (w - 1) - x;
        dst[dstOff + (ch * ph + y) * pw + x] = src[(ch * h + sy) * w + sx];
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Implementations. Each returns {ready(), restore() -> {rgb8, float?}, info}.

async function diffuirImpl(cfg, input) {
  const t0 = performance.now();
  const { DiffuirClient } = await import('/app/client.js');
  const client = new DiffuirClient({ backend: cfg.backend });
  const caps = await client.init();
  const tInit = performance.now();
  if (caps.backend.kind !== cfg.backend) throw new Error(`asked for backend ${cfg.backend}, got ${caps.backend.kind}: ${caps.backend.reason || ''}`);
  const model = await client.loadModel({ url: cfg.modelURL });
  const tModel = performance.now();
  const png = await encodePNG(input, cfg.size[0], cfg.size[1]);
  const opts = { steps: cfg.steps, noiseScale: 0, equalize: 'off', tile: -1, format: 'png', depth: 8 };
  let last = null;
  // What the page would promise before the click (site/eta.js): on the CPU
  // a fresh browser calibrates first; outside the timed columns.
  let estimate = null;
  if (client.estimate) {
    try {
      estimate = await client.estimate(cfg.size[1], cfg.size[0], opts);
    } catch (e) {
      estimate = { error: String(e) };
    }
  }
  return {
    estimate,
    phases: { start: tInit - t0, model: tModel - tInit },
    info: {
      backend: caps.backend.name,
      adapter: caps.webgpu && caps.webgpu.adapter ? Object.values(caps.webgpu.adapter).filter(Boolean).join(' ') : '',
      version: caps.version,
      model: `${model.name} (${model.params} params)`,
    },
    async restore() {
      const r = await client.restore(png, opts);
      if (r.fallback) throw new Error(`the GPU failed and the CPU finished: ${r.fallback}`);
      last = r;
      const { rgb } = await decodePNG(r.blob);
      return { rgb8: rgb, workerMs: r.ms };
    },
    // Per-kernel times of one UNet pass at this size (the worker's profile
    // request): only the GPU backend has them.
    profile: cfg.backend === 'gpu' ? () => client.profile({ width: cfg.size[1], height: cfg.size[0], reps: cfg.profileReps }) : null,
    get lastBackend() {
      return last && last.backend && last.backend.kind;
    },
  };
}

async function ortImpl(cfg, input) {
  const t0 = performance.now();
  const ort = await import(`/ort/${cfg.bundle}`);
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.numThreads = cfg.threads;
  ort.env.wasm.proxy = false;
  const tImport = performance.now();
  const res = await fetch(cfg.modelURL);
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${cfg.modelURL}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const tFetch = performance.now();
  const session = await ort.InferenceSession.create(bytes, { executionProviders: [cfg.ep], graphOptimizationLevel: 'all' });
  const tSession = performance.now();

  const [h, w] = cfg.size;
  const ph = Math.ceil(h / 16) * 16;
  const pw = Math.ceil(w / 16) * 16;
  const C = cfg.channels;
  const n = h * w;
  const pn = ph * pw;
  const xin = new Float32Array(3 * n);
  for (let i = 0; i < 3 * n; i++) xin[i] = f(f(input[i] / 255) * 2 - 1);
  const sched = schedule();
  const plan = steps(sched, cfg.steps);
  const c0 = f(1 - sched.deltaBar[sched.T - 1]);
  const inBuf = new Float32Array(C * pn); // channels 6, 7 (pad8) stay zero
  reflectPad(inBuf, 3 * pn, xin, 3, h, w, ph, pw);
  return {
    phases: { start: tImport - t0 + (tSession - tFetch), model: tFetch - tImport, sessionMs: tSession - tFetch },
    info: { ort: ort.env.versions ? ort.env.versions.web || ort.env.versions.common : '', ep: cfg.ep, bundle: cfg.bundle, channels: C, threads: cfg.threads },
    plan,
    async restore() {
      const x = new Float32Array(3 * n);
      for (let i = 0; i < 3 * n; i++) x[i] = f(c0 * xin[i]);
      for (const st of plan) {
        reflectPad(inBuf, 0, x, 3, h, w, ph, pw);
        const feeds = {
          x: new ort.Tensor('float32', inBuf, [1, C, ph, pw]),
          time: new ort.Tensor('float32', new Float32Array([st.time]), [1]),
        };
        const out = await session.run(feeds);
        const r = out.r.data; // (1, 3, ph, pw)
        for (let c = 0; c < 3; c++) {
          for (let y = 0; y < h; y++) {
            for (let xx = 0; xx < w; xx++) {
              const i = (c * h + y) * w + xx;
              const rv = clamp1(r[(c * ph + y) * pw + xx]);
              x[i] = st.last ? clamp1(f(xin[i] - rv)) : f(f(x[i] - f(st.alpha * rv)) + f(st.delta * xin[i]));
            }
          }
        }
        out.r.dispose && out.r.dispose();
        if (st.last) break;
      }
      const rgb8 = new Uint8Array(3 * n);
      const u = new Float32Array(3 * n);
      for (let i = 0; i < 3 * n; i++) {
        u[i] = Math.min(Math.max(f(f(x[i] + 1) / 2), 0), 1);
        rgb8[i] = Math.round(u[i] * 255);
      }
      return { rgb8, float: u };
    },
  };
}

// ---------------------------------------------------------------------------

window.benchRun = async (cfg) => {
  const [h, w] = cfg.size;
  const input = makeInput(h, w);
  // The PNG round trip must be exact, or the comparison means nothing.
  const back = await decodePNG(await encodePNG(input, h, w));
  for (let i = 0; i < input.length; i++) if (back.rgb[i] !== input[i]) throw new Error('the input PNG does not round-trip exactly');

  const t0 = performance.now();
  const impl = cfg.kind === 'diffuir' ? await diffuirImpl(cfg, input) : await ortImpl(cfg, input);
  log(`${cfg.impl}: ready in ${(performance.now() - t0).toFixed(0)} ms`);
  const tf = performance.now();
  const first = await impl.restore();
  const firstMs = performance.now() - tf;
  log(`${cfg.impl}: first restore ${firstMs.toFixed(0)} ms`);
  if (impl.estimate) log(`${cfg.impl}: estimated before the first restore: ${JSON.stringify(impl.estimate)}`);
  const runs = [];
  let out = first;
  const tb = performance.now();
  for (let k = 0; k < cfg.runs; k++) {
    if (k > 0 && performance.now() - tb > cfg.budgetMs) break;
    const ts = performance.now();
    out = await impl.restore();
    runs.push(performance.now() - ts);
    log(`${cfg.impl}: run ${k + 1}: ${runs[k].toFixed(0)} ms`);
  }
  let profile = null;
  if (cfg.profile && impl.profile) {
    const tp = performance.now();
    profile = await impl.profile();
    log(`${cfg.impl}: profile ${(performance.now() - tp).toFixed(0)} ms (one pass ${profile.passMs.toFixed(0)} ms, dispatches summed ${profile.summedMs.toFixed(0)} ms)`);
  }
  let sameAsFirst = true;
  for (let i = 0; i < out.rgb8.length; i++) if (out.rgb8[i] !== first.rgb8[i]) sameAsFirst = false;
  const mem = {};
  if (performance.measureUserAgentSpecificMemory && self.crossOriginIsolated) {
    try {
      const m = await Promise.race([performance.measureUserAgentSpecificMemory(), new Promise((r) => setTimeout(() => r(null), 20000))]);
      if (m) mem.uaBytes = m.bytes;
    } catch (e) {
      mem.uaError = String(e);
    }
  }
  return {
    impl: cfg.impl,
    info: impl.info,
    phases: { ...impl.phases, first: firstMs },
    estimate: impl.estimate || null,
    firstResultMs: tf - t0 + firstMs,
    runs,
    sameAsFirst,
    mem,
    rgb8: b64(first.rgb8),
    float: first.float ? b64(new Uint8Array(first.float.buffer)) : null,
    plan: impl.plan,
    profile,
  };
};

window.benchReady = true;
