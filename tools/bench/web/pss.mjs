// Memory of a browser run: the proportional set size (PSS) of every process
// this driver started (the browser and its renderer, GPU and utility
// processes; SwiftShader's "GPU memory" is ordinary memory of the GPU
// process). bench.mjs and poolcheck.mjs measure their peaks with it.
import fs from 'node:fs';

// pssBytes sums the PSS of this process's descendants, in bytes.
export function pssBytes() {
  const kids = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch {
      // gone
    }
  }
  let kb = 0;
  const todo = [process.pid];
  while (todo.length) {
    for (const c of kids.get(todo.pop()) || []) {
      todo.push(c);
      try {
        const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${c}/smaps_rollup`, 'utf8'));
        if (m) kb += Number(m[1]);
      } catch {
        // gone
      }
    }
  }
  return kb * 1024;
}

// peakSampler samples pssBytes every ms milliseconds from now: idle is the
// first sample; stop() ends the sampling and returns the peak (one last
// sample included).
export function peakSampler(ms) {
  const idle = pssBytes();
  let peak = idle;
  const timer = setInterval(() => {
    peak = Math.max(peak, pssBytes());
  }, ms);
  return {
    idle,
    stop() {
      clearInterval(timer);
      return Math.max(peak, pssBytes());
    },
  };
}
