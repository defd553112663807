// DiffUIR Web service worker: precaches the app shell and the wasm (the list
// and its content hashes are written in by build.sh), keeps model packs by
// content hash on first use, receives shared photos (share_target), and
// waits for the page's go-ahead before replacing an older version, so the
// page can offer "update available".
const PRECACHE = /*@PRECACHE@*/ { version: 'dev', files: [], models: [] } /*@END@*/;

const SHELL = `diffuir-shell-${PRECACHE.version}`;
const MODELS = 'diffuir-models-v1';
const SHARE = 'diffuir-share';

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL);
      await Promise.all(
        PRECACHE.files.map(async (f) => {
          const res = await fetch(new Request(f.url, { cache: 'reload' }));
          if (!res.ok) throw new Error(`precache ${f.url}: HTTP ${res.status}`);
          await cache.put(f.url, res);
        }),
      );
      // The first version takes over at once; later ones wait for the page.
      if (!self.registration.active) await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith('diffuir-shell-') && key !== SHELL) await caches.delete(key);
      }
      // Bundled packs of older builds (models/ under this scope, not listed any more).
      const bundled = new URL('models/', self.registration.scope).href;
      const keep = new Set(PRECACHE.models.map((u) => new URL(u, self.registration.scope).href));
      const models = await caches.open(MODELS);
      for (const req of await models.keys()) {
        if (req.url.startsWith(bundled) && !keep.has(req.url)) await models.delete(req);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

async function fromShell(req) {
  const cache = await caches.open(SHELL);
  const nav = req.mode === 'navigate';
  let res = await cache.match(req, { ignoreSearch: nav, ignoreVary: true });
  if (!res && nav) res = await cache.match(new URL('./', self.registration.scope).href);
  if (res) return res;
  return fetch(req);
}

// Packs are named by content hash (name.<sha256 prefix>.duir): a cached
// copy never goes stale.
async function model(req) {
  const cache = await caches.open(MODELS);
  const hit = await cache.match(req.url);
  if (hit) return hit;
  const res = await fetch(req);
  if (res.ok && res.status === 200) {
    try {
      await cache.put(req.url, res.clone());
    } catch {
      // over quota: serve it anyway
    }
  }
  return res;
}

async function share(req) {
  try {
    const form = await req.formData();
    const file = form.getAll('photo').find((f) => f && typeof f === 'object');
    if (file) {
      const cache = await caches.open(SHARE);
      await cache.put(
        'shared-photo',
        new Response(file, { headers: { 'content-type': file.type || 'application/octet-stream', 'x-filename': encodeURIComponent(file.name || 'shared') } }),
      );
    }
  } catch {
    // a malformed share: just open the app
  }
  return Response.redirect(new URL('./?shared=1', self.registration.scope).href, 303);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  if (req.method === 'POST' && url.pathname.endsWith('/share-target')) {
    event.respondWith(share(req));
    return;
  }
  if (req.method !== 'GET' || req.headers.has('range')) return;
  if (url.pathname.endsWith('.duir')) {
    event.respondWith(model(req));
    return;
  }
  event.respondWith(fromShell(req));
});
