// The in-browser half of `npm run bench`. scripts/bench.mjs drives these
// functions through Playwright; each returns plain numbers (milliseconds,
// bytes) and never prints anything secret. Timings use performance.now(),
// fine-grained because the server makes this page cross-origin isolated.
import { Identity, TrustList, keepDecryptionWorkersReady, loadCore, openPackage } from '/www/src/core.js';
import { pdfRangeTransport } from '/www/src/worker/pdf-range.js';

const PDFJS_BASE = new URL('/www/vendor/pdfjs/', location.href);
/** Length of the AES-GCM tag at the end of each encrypted segment. */
const GCM_TAG_BYTES = 16;
const cache = new Map();
const state = { identity: null, trustList: null, pdfjs: null, openpgp: null, loadCoreMs: null };

async function fetchBytes(url) {
  if (!cache.has(url)) {
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`${url}: HTTP ${response.status}`);
    }
    cache.set(url, new Uint8Array(await response.arrayBuffer()));
  }
  return cache.get(url);
}

/**
 * The bytes of `url` for one open: a copy of the cached bytes, or with
 * `consume` the cached bytes themselves (dropped from the cache), so a
 * memory measurement holds the package once.
 */
async function packageBytes(url, consume) {
  const bytes = await fetchBytes(url);
  if (consume) {
    cache.delete(url);
    return bytes;
  }
  return bytes.slice();
}

async function fetchText(url) {
  return new TextDecoder().decode(await fetchBytes(url));
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Loads the module, verifies the trust list and unlocks the identity. */
async function setup({ trustUrl, rootKeyFingerprints, keyUrl, credentialUrl, passphrase, keepWorkersReady = true }) {
  // The module's cold start in three steps: fetching the file, compiling
  // it, instantiating it (with the glue's start-up).
  const started = performance.now();
  const wasmBytes = await (await fetch('/www/pkg/valise_wasm_bg.wasm')).arrayBuffer();
  const fetched = performance.now();
  const module = await WebAssembly.compile(wasmBytes);
  const compiled = performance.now();
  await loadCore(module);
  const instantiated = performance.now();
  state.loadCoreMs = instantiated - started;
  state.coldStart = { fetchMs: fetched - started, compileMs: compiled - fetched, instantiateMs: instantiated - compiled };
  state.trustList = TrustList.verify(await fetchText(trustUrl), { rootKeyFingerprints });
  const unlockStarted = performance.now();
  state.identity = await Identity.unlock({
    keyPem: await fetchText(keyUrl),
    passphrase,
    credential: (await fetchText(credentialUrl)).trim(),
    trustList: state.trustList,
  });
  const unlockMs = performance.now() - unlockStarted;
  state.keepWorkersReady = keepWorkersReady;
  await workersReady();
  return { loadCoreMs: state.loadCoreMs, ...state.coldStart, unlockMs, crossOriginIsolated };
}

/**
 * Waits until idle decryption workers are ready, as they are in the portal
 * when a user opens a package. The portal starts them at start-up and
 * again when idle after each stream, well before a person picks the next
 * file. A page set up with `keepWorkersReady: false` keeps none, so each
 * stream starts its workers while the package opens.
 */
async function workersReady() {
  if (state.keepWorkersReady) {
    await keepDecryptionWorkersReady();
  }
}

function context() {
  return { identity: state.identity, trustList: state.trustList, stale: 'warn' };
}

/** Opens a package on the main thread (decryptAll in the module). */
async function openMain(url, { consume = false } = {}) {
  const bytes = await packageBytes(url, consume);
  const started = performance.now();
  const opened = openPackage(bytes, context());
  const plaintext = await opened.decrypt();
  const ms = performance.now() - started;
  opened.close();
  return { ms, size: plaintext.length };
}

/**
 * Opens a package through the worker; records the time of every progress
 * update to find the longest gap, and how late the main thread runs a
 * 10 ms timer meanwhile (its responsiveness).
 */
async function openWorker(url, { inFlight, workers, consume = false, plaintextDigest = 'page' } = {}) {
  const bytes = await packageBytes(url, consume);
  let lateness = 0;
  let ticking = true;
  const tick = (expected) => {
    if (!ticking) {
      return;
    }
    lateness = Math.max(lateness, performance.now() - expected);
    const next = performance.now() + 10;
    setTimeout(() => tick(next), 10);
  };
  await workersReady();
  tick(performance.now());
  const started = performance.now();
  const opened = openPackage(bytes, context());
  const openedMs = performance.now() - started;
  const stream = await opened.decryptStream({ inFlight, workers, plaintextDigest });
  if (stream === null) {
    throw new Error('streaming is not available for this package');
  }
  const updates = [started];
  stream.onProgress(() => updates.push(performance.now()));
  await stream.done;
  const ended = performance.now();
  ticking = false;
  updates.push(ended);
  let gap = 0;
  for (let index = 1; index < updates.length; index += 1) {
    gap = Math.max(gap, updates[index] - updates[index - 1]);
  }
  opened.close();
  const firstUpdateMs = updates.length > 2 ? updates[1] - started : null;
  // From the last segment in to the end: the whole-plaintext digest.
  const lastUpdateToEndMs = updates.length > 2 ? ended - updates.at(-2) : null;
  return { ms: ended - started, workers: stream.workerCount, openedMs, firstUpdateMs, lastUpdateToEndMs, workerPrepareMs: stream.workerTiming?.prepareMs, workerDigestMs: stream.workerTiming?.digestMs, size: stream.size, maxGapMs: gap, updates: updates.length - 2, mainThreadLatenessMs: lateness };
}

/**
 * Flips one byte in the middle of a package (inside its encrypted payload)
 * and streams it: resolves to the name of the error the stream failed
 * with, or to null when it wrongly succeeded.
 */
async function openWorkerTampered(url) {
  const bytes = await packageBytes(url, false);
  bytes[bytes.length >> 1] ^= 0x01;
  const opened = openPackage(bytes, context());
  const stream = await opened.decryptStream();
  try {
    await stream.done;
    return { error: null };
  } catch (error) {
    return { error: error.name, zeroed: stream.bytes.every((byte) => byte === 0) };
  } finally {
    opened.close();
  }
}

/**
 * Random plaintext of `size` bytes in all, encrypted under a fresh
 * AES-256-GCM key in segments of `segmentSize` bytes.
 */
async function encryptedSegments(size, segmentSize) {
  const key = await crypto.subtle.generateKey({ name: 'AES-GCM', length: 256 }, false, ['encrypt', 'decrypt']);
  const segments = [];
  for (let offset = 0; offset < size; offset += segmentSize) {
    const plaintext = new Uint8Array(Math.min(segmentSize, size - offset));
    for (let filled = 0; filled < plaintext.length; filled += 65536) {
      crypto.getRandomValues(plaintext.subarray(filled, Math.min(plaintext.length, filled + 65536)));
    }
    const iv = crypto.getRandomValues(new Uint8Array(12));
    segments.push({ iv, offset, data: new Uint8Array(await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, plaintext)) });
  }
  return { key, segments };
}

/** Runs `work(segment)` over every segment, `inFlight` calls at once. */
async function eachSegment(segments, inFlight, work) {
  let next = 0;
  const lane = async () => {
    while (next < segments.length) {
      const segment = segments[next];
      next += 1;
      await work(segment);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
}

/** Raw crypto.subtle AES-256-GCM over segments of the same sizes, `inFlight` calls at once. */
async function subtleBaseline({ size, segmentSize, inFlight = 4, runs = 3 }) {
  const { key, segments } = await encryptedSegments(size, segmentSize);
  const times = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    await eachSegment(segments, inFlight, (segment) => crypto.subtle.decrypt({ name: 'AES-GCM', iv: segment.iv }, key, segment.data));
    times.push(performance.now() - started);
  }
  return { ms: median(times), times };
}

/**
 * Has `worker` (a `subtle-worker.js`) decrypt and hash `segments`,
 * `inFlight` at a time; resolves when it is done.
 */
function subtleWorkerJob(worker, key, segments, inFlight, transfer = []) {
  return new Promise((resolve) => {
    worker.addEventListener('message', () => resolve(), { once: true });
    worker.postMessage({ key, segments, inFlight }, transfer);
  });
}

/**
 * Times the least WebCrypto work that opening a package of the format
 * takes, with nothing else: no parsing, no signature, no comparison.
 *
 * Each segment is decrypted and its encrypted bytes hashed (the signed
 * segment digest). That runs either on this page, `inFlight` segments at
 * once with the plaintext copied into one buffer, or split between two
 * workers, half as many each with the plaintext dropped. The faster of the
 * two counts. Then the plaintext is hashed whole (the signed
 * whole-plaintext digest). Each part counts its fastest of `runs` rounds,
 * so other jobs on the machine slow it less than the medians it is
 * compared with.
 *
 * No open that calls WebCrypto for these steps can beat this on the same
 * machine, so `subtle / ms` bounds M1 from above. The whole-plaintext
 * digest is one call that reports no progress while it runs, so its share
 * of the total shows what it leaves of the progress goal (M11).
 */
async function formatFloor({ size, segmentSize, inFlight = 4, runs = 3 }) {
  const { key, segments } = await encryptedSegments(size, segmentSize);
  const plaintext = new Uint8Array(segments.reduce((sum, segment) => sum + segment.data.length - GCM_TAG_BYTES, 0));
  const workers = [0, 1].map(() => new Worker(new URL('subtle-worker.js', import.meta.url)));
  const onPage = [];
  const inWorkers = [];
  const wholeDigests = [];

  for (let run = 0; run < runs; run += 1) {
    let started = performance.now();
    await eachSegment(segments, inFlight, async (segment) => {
      const [decrypted] = await Promise.all([
        crypto.subtle.decrypt({ name: 'AES-GCM', iv: segment.iv }, key, segment.data),
        crypto.subtle.digest('SHA-256', segment.data),
      ]);
      plaintext.set(new Uint8Array(decrypted), segment.offset);
    });
    onPage.push(performance.now() - started);

    // Each worker gets its own copy of its half, made before the clock
    // starts and moved, not copied, when posted.
    const halves = workers.map((_, half) => segments.filter((_, index) => index % 2 === half).map(({ iv, data }) => ({ iv, data: data.slice() })));
    started = performance.now();
    const perWorker = Math.max(1, inFlight / 2);
    await Promise.all(workers.map((worker, half) => subtleWorkerJob(worker, key, halves[half], perWorker, halves[half].map(({ data }) => data.buffer))));
    inWorkers.push(performance.now() - started);

    started = performance.now();
    await crypto.subtle.digest('SHA-256', plaintext);
    wholeDigests.push(performance.now() - started);
  }
  for (const worker of workers) {
    worker.terminate();
  }

  const onPageMs = Math.min(...onPage);
  const inWorkersMs = Math.min(...inWorkers);
  const segmentsMs = Math.min(onPageMs, inWorkersMs);
  const wholeDigestMs = Math.min(...wholeDigests);
  return { ms: segmentsMs + wholeDigestMs, segmentsMs, wholeDigestMs, onPageMs, inWorkersMs };
}

/**
 * Measures whether two workers beat one on this machine: the same segments decrypted
 * and hashed (the WebCrypto work of the streaming path) by one worker, two
 * at a time, or split between two workers, one at a time each. The timer
 * starts before the segments are posted, so both include the copy to the
 * workers. Runs alternate; returns the median of each.
 */
async function twoWorkersBaseline({ size, segmentSize, runs = 3 }) {
  const { key, segments } = await encryptedSegments(size, segmentSize);
  const workers = [0, 1].map(() => new Worker(new URL('subtle-worker.js', import.meta.url)));
  const job = (worker, part, inFlight) => subtleWorkerJob(worker, key, part, inFlight);
  const one = [];
  const two = [];
  for (let run = 0; run < runs; run += 1) {
    let started = performance.now();
    await job(workers[0], segments, 2);
    one.push(performance.now() - started);
    started = performance.now();
    await Promise.all([0, 1].map((half) => job(workers[half], segments.filter((_, index) => index % 2 === half), 1)));
    two.push(performance.now() - started);
  }
  for (const worker of workers) {
    worker.terminate();
  }
  return { ms: median(one), twoWorkersMs: median(two), one, two };
}

/** OpenPGP.js decrypting a binary message of `size` bytes encrypted to a P-256 key. */
async function openpgpBaseline({ size, runs = 3 }) {
  state.openpgp ??= await import('/openpgp/openpgp.min.mjs');
  const openpgp = state.openpgp;
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'nistP256',
    userIDs: [{ name: 'Bench', email: 'bench@example.invalid' }],
    format: 'object',
  });
  const data = new Uint8Array(size);
  for (let filled = 0; filled < size; filled += 65536) {
    crypto.getRandomValues(data.subarray(filled, Math.min(size, filled + 65536)));
  }
  const encrypted = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: data }),
    encryptionKeys: privateKey.toPublic(),
    format: 'binary',
  });
  const times = [];
  for (let run = 0; run < runs; run += 1) {
    const started = performance.now();
    const message = await openpgp.readMessage({ binaryMessage: encrypted });
    const { data: decrypted } = await openpgp.decrypt({ message, decryptionKeys: privateKey, format: 'binary' });
    times.push(performance.now() - started);
    if (decrypted.length !== size) {
      throw new Error(`OpenPGP.js returned ${decrypted.length} bytes, expected ${size}`);
    }
  }
  return { ms: median(times), times, version: openpgp.config.versionString };
}

async function pdfjs() {
  if (!state.pdfjs) {
    state.pdfjs = await import(new URL('pdf.min.mjs', PDFJS_BASE).href);
    state.pdfjs.GlobalWorkerOptions.workerSrc = new URL('pdf.worker.min.mjs', PDFJS_BASE).href;
  }
  return state.pdfjs;
}

/** Renders page 1 to the canvas; resolves once it is painted. */
async function paintFirstPage(source) {
  const lib = await pdfjs();
  const task = lib.getDocument({
    ...source,
    isEvalSupported: false,
    enableXfa: false,
    useSystemFonts: false,
    standardFontDataUrl: new URL('standard_fonts/', PDFJS_BASE).href,
    cMapUrl: new URL('cmaps/', PDFJS_BASE).href,
    cMapPacked: true,
    wasmUrl: new URL('wasm/', PDFJS_BASE).href,
  });
  const document = await task.promise;
  const page = await document.getPage(1);
  const viewport = page.getViewport({ scale: 1 });
  const canvas = window.document.getElementById('canvas');
  canvas.width = Math.ceil(viewport.width);
  canvas.height = Math.ceil(viewport.height);
  await page.render({ canvas, canvasContext: canvas.getContext('2d'), viewport }).promise;
  await new Promise((resolve) => requestAnimationFrame(() => resolve()));
  return { document, task };
}

/**
 * Time from bytes in memory to the first painted page. `mode`: "plain"
 * (pdf.js on the unprotected PDF), "main" (open and decryptAll, then
 * pdf.js) or "stream" (open, workers and pdf.js's range transport, with
 * `streamOptions` passed to decryptStream).
 */
async function pdfFirstPaint(url, mode, streamOptions = {}) {
  const bytes = (await fetchBytes(url)).slice();
  await pdfjs();
  await workersReady();
  const started = performance.now();
  let opened = null;
  let stream = null;
  let source;
  // Steps of the stream path, in milliseconds from the start: the open on
  // the main thread, the worker started, pdf.js's first range request and
  // the last segment verified.
  const steps = {};
  const since = () => performance.now() - started;
  if (mode === 'plain') {
    source = { data: bytes };
  } else {
    opened = openPackage(bytes, context());
    steps.openedMs = since();
    if (mode === 'main') {
      source = { data: await opened.decrypt() };
    } else {
      const { background, ...decryptOptions } = streamOptions;
      stream = await opened.decryptStream(decryptOptions);
      steps.streamStartedMs = since();
      stream.onProgress((verified, total) => {
        if (verified === total) {
          steps.verifiedMs = since();
        }
      });
      const range = pdfRangeTransport(state.pdfjs, stream);
      const request = range.requestDataRange;
      range.requestDataRange = (begin, end) => {
        steps.firstRequestMs ??= since();
        request(begin, end);
      };
      if (globalThis.benchTrace) {
        const request = range.requestDataRange;
        range.requestDataRange = (begin, end) => {
          console.log(`trace ${(performance.now() - started).toFixed(0)} request ${begin}-${end}`);
          request(begin, end);
        };
        stream.onProgress((verified) => console.log(`trace ${(performance.now() - started).toFixed(0)} verified ${verified}`));
      }
      // The transport caps the segments decrypting in the background until
      // page one is drawn, as the portal's renderer does; `background`
      // overrides that cap.
      if (background !== undefined) {
        stream.limitBackground(background);
      }
      source = { range, length: stream.size, disableAutoFetch: true, disableStream: true };
    }
  }
  const { task } = await paintFirstPage(source);
  const ms = performance.now() - started;
  stream?.limitBackground(Infinity);
  let allMs = null;
  if (stream) {
    await stream.done;
    allMs = performance.now() - started;
  }
  await task.destroy();
  opened?.close();
  return { ms, allMs, ...steps };
}

/**
 * Time from the package bytes in memory to the first painted page through
 * the portal's renderer: openPackage, the worker stream, and `render` of
 * www/src/render/index.js. That renderer checks the media type on the first
 * verified bytes and feeds pdf.js through the range transport with the
 * portal's options. The document screen around it (banners, enforcement)
 * is not drawn.
 */
async function pdfFirstPaintPortal(url) {
  const bytes = (await fetchBytes(url)).slice();
  const { render } = await import('/www/src/render/index.js');
  const container = document.createElement('div');
  // US Letter at scale 1, the size the pdf.js baseline paints at.
  container.style.width = '612px';
  document.body.prepend(container);
  await workersReady();
  const started = performance.now();
  const opened = openPackage(bytes, context());
  const stream = await opened.decryptStream();
  const painted = new Promise((resolve) => container.addEventListener('valise-page-rendered', resolve, { once: true }));
  const handle = await render(container, { stream, mediaType: opened.metadata.mediaType, rights: { view: true, copy: false } });
  await painted;
  const ms = performance.now() - started;
  await stream.done;
  const allMs = performance.now() - started;
  handle.destroy();
  container.remove();
  opened.close();
  return { ms, allMs };
}

window.bench = { setup, openMain, openWorker, openWorkerTampered, subtleBaseline, formatFloor, twoWorkersBaseline, openpgpBaseline, pdfFirstPaint, pdfFirstPaintPortal, fetchBytes: async (url) => (await fetchBytes(url)).length };
document.getElementById('status').textContent = 'ready';
