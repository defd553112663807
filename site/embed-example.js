// The embedding example's script (a file, not inline: the page's CSP allows
// scripts from this origin only). It listens to the widgets' events and
// drives the second widget through its programmatic API.
const log = (id, text) => {
  document.getElementById(id).textContent = text;
};

for (const id of ['w1', 'w2']) {
  const el = document.getElementById(id);
  el.addEventListener('progress', (e) => {
    if (e.detail.phase === 'restore') log(`${id}-log`, `progress: ${Math.round(e.detail.fraction * 100)}%`);
  });
  el.addEventListener('done', (e) => log(`${id}-log`, `done: ${e.detail.width}×${e.detail.height} on the ${e.detail.backend.kind}`));
  el.addEventListener('error', (e) => log(`${id}-log`, `error ${e.detail.code}: ${e.detail.message}`));
}

document.getElementById('api-file').addEventListener('change', async (e) => {
  const files = [...e.target.files];
  if (!files.length) return;
  try {
    const results = await document.getElementById('w2').restore(files, { steps: 3, equalize: 'auto' });
    for (const r of results) console.log('restored', r.width, r.height, r.blob.size, 'bytes');
  } catch (err) {
    console.warn('restore failed', err.code, err.message);
  }
});
