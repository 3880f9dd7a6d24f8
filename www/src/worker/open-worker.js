// A streaming decryption worker. The main thread has already parsed,
// unwrapped, verified and decided; it posts the stream plan and the data key
// as a non-extractable WebCrypto key. This worker requests `inFlight`
// segments, then one more each time it has posted a result, and the page
// sends one encrypted segment per request (its buffer transferred). For
// each segment, this worker's own instance of the module has crypto.subtle
// decrypt it (which checks the GCM tag) and hash the encrypted bytes. The
// module then compares size, segment hash and SHA-256 with the verified
// manifest and the originator's signed provenance. Only then does this
// worker post the plaintext, transferring its buffer. The page runs one or two of these
// workers and decides which segment goes where (stream.js).
//
// With `digestPlaintext`, this worker also hashes the plaintext in segment
// order as segments pass, so it must receive every segment; it posts 'done'
// only after that digest matched the signed one. Otherwise the page checks
// the whole plaintext and this worker never posts 'done'.
//
// A page may start the worker ahead of time ('prepare'): while it opens a
// package on the main thread, or long before, to keep it idle for the next
// stream. Loading its glue and instantiating the module then cost the
// stream nothing.
//
// Messages in:  { type: 'prepare', module }
//               { type: 'start', module, plan, key, inFlight, digestPlaintext }
//               { type: 'segment', index, data, length }   (the encrypted segment: the first `length` bytes of `data`)
//               { type: 'release', buffer }   (the package, kept only so it is freed when this worker ends)
// Messages out: { type: 'prepared' }   (after 'prepare', once instantiating the module succeeded or failed)
//               { type: 'started', prepareMs }   (milliseconds spent instantiating the module)
//               { type: 'request', count }   (requests `count` more segments)
//               { type: 'segment', index, data, encrypted }   (data: the plaintext's ArrayBuffer;
//                 encrypted: the buffer the segment came in, returned for reuse)
//               { type: 'done', digestMs }   (with digestPlaintext only)
//               { type: 'error', error }   (a tagged error of the module)
import init, { SegmentChecker } from '../../pkg/valise_wasm.js';

const job = {
  plan: null,
  key: null,
  checker: null,
  started: null,
  finished: 0,
  /** Index of the next segment the whole-plaintext digest needs. */
  nextToHash: 0,
  /** Plaintext of passed segments ahead of `nextToHash`, kept until their turn. */
  heldForDigest: new Map(),
  failed: false,
  prepareMs: 0,
  digestMs: 0,
};

let ready = null;

/** Instantiates this worker's module once; `module` is a compiled WebAssembly.Module or null. */
function prepare(module) {
  const started = performance.now();
  ready ??= init({ module_or_path: module ?? new URL('../../pkg/valise_wasm_bg.wasm', import.meta.url) }).then(() => {
    job.prepareMs = performance.now() - started;
  });
  return ready;
}

function fail(error) {
  if (job.failed) {
    return;
  }
  job.failed = true;
  const tagged =
    error && typeof error === 'object' && 'kind' in error && 'message' in error
      ? error
      : { kind: 'Internal', message: `Streaming decryption failed: ${error?.message ?? error}`, reasons: [] };
  // The message names the segment and the check, never any byte of it.
  console.error(`valise-open worker: ${tagged.kind}: ${tagged.message}`);
  self.postMessage({ type: 'error', error: tagged });
}

async function decryptSegment(index, encrypted) {
  // The module starts decryption and SHA-256 in crypto.subtle at once. Its
  // checks throw a tagged Integrity error, and nothing is posted before
  // they pass.
  const [plaintext, digest] = await job.checker.decryptSegment(job.key, encrypted);
  job.checker.checkSegment(index, encrypted, plaintext, digest);
  return plaintext;
}

/**
 * Feeds a passed segment to the whole-plaintext digest, in segment order,
 * and returns the buffer to post. A segment that passed ahead of its turn
 * is posted as a copy and its own buffer stays here until its turn.
 */
function feedDigest(index, plaintext) {
  if (!job.checker.needsPlaintext) {
    return plaintext;
  }
  if (index !== job.nextToHash) {
    job.heldForDigest.set(index, plaintext);
    return plaintext.slice(0);
  }
  const started = performance.now();
  job.checker.addPlaintext(index, new Uint8Array(plaintext));
  job.nextToHash += 1;
  while (job.heldForDigest.has(job.nextToHash)) {
    job.checker.addPlaintext(job.nextToHash, new Uint8Array(job.heldForDigest.get(job.nextToHash)));
    job.heldForDigest.delete(job.nextToHash);
    job.nextToHash += 1;
  }
  job.digestMs += performance.now() - started;
  return plaintext;
}

async function handleSegment(index, data, length) {
  try {
    await job.started;
    if (job.failed) {
      return;
    }
    const plaintext = await decryptSegment(index, new Uint8Array(data, 0, length ?? data.byteLength));
    if (job.failed) {
      return;
    }
    const posted = feedDigest(index, plaintext);
    self.postMessage({ type: 'segment', index, data: posted, encrypted: data }, [posted, data]);
    self.postMessage({ type: 'request', count: 1 });
    job.finished += 1;
    if (job.checker.needsPlaintext && job.finished === job.plan.segments.length) {
      job.checker.finish();
      self.postMessage({ type: 'done', digestMs: job.digestMs });
    }
  } catch (error) {
    fail(error);
  }
}

async function start({ module, plan, key, inFlight = 2, digestPlaintext = false }) {
  await prepare(module);
  job.plan = plan;
  job.key = key;
  job.checker = new SegmentChecker(plan);
  if (!digestPlaintext) {
    // Each segment's signed SHA-256 is still checked; only the whole-plaintext one moves to the page.
    job.checker.leavePlaintextDigestToPage();
  }
  self.postMessage({ type: 'started', prepareMs: job.prepareMs });
  self.postMessage({ type: 'request', count: Math.max(1, inFlight) });
  if (digestPlaintext && plan.segments.length === 0) {
    job.checker.finish();
    self.postMessage({ type: 'done', digestMs: 0 });
  }
}

self.addEventListener('message', (event) => {
  const message = event.data;
  if (message?.type === 'prepare') {
    // A failure here is reported by the 'start' that awaits the same promise.
    const prepared = () => self.postMessage({ type: 'prepared' });
    prepare(message.module).then(prepared, prepared);
  } else if (message?.type === 'start') {
    job.started = start(message);
    job.started.catch(fail);
  } else if (message?.type === 'release') {
    // Nothing to do: the buffer ends with this worker.
  } else if (message?.type === 'segment') {
    if (job.started === null) {
      fail(new Error(`segment ${message.index} arrived before the stream started`));
      return;
    }
    handleSegment(message.index, message.data, message.length);
  }
});
