// The Worker's entry: a thin static front before the Go handler.
//
// syumai/workers starts a fresh Go instance for every request it handles,
// 5-15 ms of CPU in workerd, while Cloudflare's free plan allows 10 ms per
// request. So this module answers the requests for built files itself,
// from manifest.mjs (the Go handler's own answers, written at build time by
// `go run ./tools/worker -manifest`, with the bytes from the static-assets
// binding) and starts Go only where it is needed: model packs from R2
// (PACKS_BUCKET), multi-range or conditional-range requests, and a Worker
// whose variables differ from the ones the manifest was made with.
import manifest from './manifest.mjs';

let go = null; // the Go handler's module (worker.mjs), imported on first need
let mismatch = null; // null: not checked yet

async function toGo(req, env, ctx) {
  if (!go) go = (await import('./worker.mjs')).default;
  return go.fetch(req, env, ctx);
}

// The manifest holds the handler's answers for one configuration.
function sameConfig(env) {
  if (mismatch === null) {
    const c = manifest.config;
    const truthy = (v) => ['1', 'true', 'yes', 'on'].includes(String(v || '').trim().toLowerCase());
    const prefix = String(env.PACKS_PREFIX || '').trim().replace(/^\/+|\/+$/g, '') || 'models';
    mismatch =
      String(env.FRAME_ANCESTORS || '').trim() !== c.frameAncestors || truthy(env.ISOLATION) !== c.isolation || prefix !== c.packsPrefix;
    if (mismatch) console.log('front: the Worker variables differ from the manifest; every request goes to the Go handler');
  }
  return !mismatch;
}

function answer(entry, body, extra) {
  const h = new Headers(entry.headers);
  if (extra) for (const [k, v] of Object.entries(extra)) v === null ? h.delete(k) : h.set(k, v);
  return new Response(body, { status: entry.status, headers: h });
}

function etagMatches(header, etag) {
  if (!header || !etag) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

// One "bytes=" range against size: [start, end] (inclusive), 'bad' (not
// satisfiable), or null (not a single simple range: Go decides).
function oneRange(header, size) {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start;
  let end;
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0) return 'bad';
    start = Math.max(0, size - n);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return null;
  }
  if (start >= size) return 'bad';
  return [start, end];
}

async function asset(env, url, key) {
  return env.ASSETS.fetch(new Request(new URL(`/${key}`, url.origin)));
}

export default {
  async fetch(req, env, ctx) {
    const url = new URL(req.url);
    const prefix = `/${manifest.config.packsPrefix}/`;
    if (!sameConfig(env) || !env.ASSETS || (String(env.PACKS_BUCKET || '').trim() && url.pathname.startsWith(prefix))) {
      return toGo(req, env, ctx);
    }
    const entry = manifest.paths[url.pathname];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return answer(manifest.methodNotAllowed, manifest.methodNotAllowed.body);
    }
    const head = req.method === 'HEAD';
    if (!entry) return answer(manifest.notFound, head ? null : manifest.notFound.body);
    if (!entry.asset) return answer(entry, head ? null : entry.body);
    const etag = entry.headers.etag;
    if (etagMatches(req.headers.get('if-none-match'), etag)) {
      return answer({ ...entry, status: 304 }, null, { 'content-type': null, 'content-length': null, 'accept-ranges': null });
    }
    const range = req.headers.get('range');
    if (range && entry.headers['accept-ranges'] === 'bytes') {
      if (req.headers.has('if-range')) return toGo(req, env, ctx);
      const size = Number(entry.headers['content-length']);
      const r = oneRange(range, size);
      if (r === null) return toGo(req, env, ctx);
      if (r === 'bad') {
        const e = manifest.notFound;
        return new Response(head ? null : '416 Requested Range Not Satisfiable\n', {
          status: 416,
          headers: { ...e.headers, 'content-range': `bytes */${size}`, 'content-type': 'text/plain; charset=utf-8' },
        });
      }
      const res = await asset(env, url, entry.asset);
      if (res.status !== 200) return toGo(req, env, ctx);
      const body = head ? null : (await res.arrayBuffer()).slice(r[0], r[1] + 1);
      return answer({ ...entry, status: 206 }, body, { 'content-range': `bytes ${r[0]}-${r[1]}/${size}`, 'content-length': String(r[1] - r[0] + 1) });
    }
    if (head) return answer(entry, null);
    const res = await asset(env, url, entry.asset);
    if (res.status !== 200) return toGo(req, env, ctx); // the assets changed since the build: Go reads them
    return answer(entry, res.body);
  },
};
