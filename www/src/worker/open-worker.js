// The streaming decryption worker. The main thread has already parsed,
// unwrapped, verified and decided; it posts the package bytes (transferred,
// not copied), the stream plan and the data key as a non-extractable
// WebCrypto key. For each segment, several at a time, this worker has
// crypto.subtle decrypt it (which checks the GCM tag) and hash the
// encrypted bytes, asks its own instance of the module to compare size,
// segment hash and SHA-256 with the verified manifest and the originator's
// signed provenance, and only then posts the plaintext, transferring its
// buffer. Segments the page asks for (pdf.js reading the end of a file
// first) go ahead of the others. Unless the page checks the whole-plaintext
// digest itself (plaintextDigestOnPage), the checker hashes the plaintext in
// segment order as segments pass, and the worker posts 'done' only after it
// matched the signed one.
//
// A page may start the worker ahead of time ('prepare'), so compiling its
// glue and instantiating the module overlap with the open on the main thread.
//
// Messages in:  { type: 'prepare', module }
//               { type: 'start', module, plan, key, buffer, byteOffset, inFlight, plaintextDigestOnPage }
//               { type: 'prioritize', indexes }
// Messages out: { type: 'segment', index, offset, data }   (data: ArrayBuffer)
//               { type: 'progress', verifiedBytes, totalBytes }
//               { type: 'done', timing }   (timing: milliseconds this worker spent
//                 instantiating its module and hashing the plaintext, for the benchmarks)
//               { type: 'error', error }   (a tagged error of the module)
import init, { SegmentChecker } from '../../pkg/valise_wasm.js';

const job = {
  plan: null,
  key: null,
  encrypted: null,
  checker: null,
  inFlight: 2,
  running: 0,
  started: new Set(),
  priority: [],
  nextSequential: 0,
  finished: 0,
  verifiedBytes: 0,
  offsets: [],
  /** Index of the next segment the whole-plaintext digest needs. */
  nextToHash: 0,
  /** Plaintext of passed segments ahead of `nextToHash`, kept until their turn. */
  heldForDigest: new Map(),
  failed: false,
  timing: { prepareMs: 0, digestMs: 0 },
};

let ready = null;

/** Instantiates this worker's module once; `module` is a compiled WebAssembly.Module or null. */
function prepare(module) {
  const started = performance.now();
  ready ??= init({ module_or_path: module ?? new URL('../../pkg/valise_wasm_bg.wasm', import.meta.url) }).then(() => {
    job.timing.prepareMs = performance.now() - started;
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

/** Picks the next segment to decrypt: requested ones first, then in order. */
function nextIndex() {
  while (job.priority.length > 0) {
    const index = job.priority.shift();
    if (!job.started.has(index)) {
      return index;
    }
  }
  while (job.nextSequential < job.plan.segments.length && job.started.has(job.nextSequential)) {
    job.nextSequential += 1;
  }
  return job.nextSequential < job.plan.segments.length ? job.nextSequential : -1;
}

async function decryptSegment(index) {
  const segment = job.plan.segments[index];
  const encrypted = job.encrypted.subarray(segment.offset, segment.offset + segment.encryptedSize);
  const [digest, plaintext] = await Promise.all([
    job.checker.needsDigest ? crypto.subtle.digest('SHA-256', encrypted) : null,
    crypto.subtle
      .decrypt({ name: 'AES-GCM', iv: encrypted.subarray(0, 12), tagLength: 128 }, job.key, encrypted.subarray(12))
      .catch(() => null),
  ]);
  if (plaintext === null) {
    throw { kind: 'Integrity', message: `The package was altered or damaged: segment ${index} failed its tag check.`, reasons: [] };
  }
  // Throws a tagged Integrity error; nothing is posted before it passes.
  job.checker.checkSegment(
    index,
    encrypted.length,
    encrypted.subarray(encrypted.length - 16),
    digest === null ? undefined : new Uint8Array(digest),
    plaintext.byteLength,
  );
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
  job.timing.digestMs += performance.now() - started;
  return plaintext;
}

function pump() {
  while (!job.failed && job.running < job.inFlight) {
    const index = nextIndex();
    if (index < 0) {
      return;
    }
    job.started.add(index);
    job.running += 1;
    decryptSegment(index).then(
      (plaintext) => {
        job.running -= 1;
        if (job.failed) {
          return;
        }
        let posted;
        try {
          posted = feedDigest(index, plaintext);
        } catch (error) {
          fail(error);
          return;
        }
        self.postMessage({ type: 'segment', index, offset: job.offsets[index], data: posted }, [posted]);
        job.verifiedBytes += job.plan.segments[index].plaintextSize;
        job.finished += 1;
        self.postMessage({ type: 'progress', verifiedBytes: job.verifiedBytes, totalBytes: job.plan.plaintextSize });
        if (job.finished === job.plan.segments.length) {
          complete();
        } else {
          pump();
        }
      },
      (error) => {
        job.running -= 1;
        fail(error);
      },
    );
  }
}

function complete() {
  try {
    job.checker.finish();
    job.encrypted = null;
    self.postMessage({ type: 'done', timing: job.timing });
  } catch (error) {
    fail(error);
  }
}

async function start({ module, plan, key, buffer, byteOffset = 0, byteLength, inFlight, plaintextDigestOnPage = false }) {
  try {
    await prepare(module);
    job.plan = plan;
    job.key = key;
    job.encrypted = new Uint8Array(buffer, byteOffset, byteLength ?? buffer.byteLength - byteOffset);
    job.checker = new SegmentChecker(plan);
    if (plaintextDigestOnPage) {
      // Each segment's signed SHA-256 is still checked; only the whole-plaintext one moves to the page.
      job.checker.leavePlaintextDigestToPage();
    }
    job.inFlight = Math.max(1, inFlight ?? 2);
    let offset = 0;
    for (const segment of plan.segments) {
      job.offsets.push(offset);
      offset += segment.plaintextSize;
    }
    if (plan.segments.length === 0) {
      complete();
      return;
    }
    pump();
  } catch (error) {
    fail(error);
  }
}

self.addEventListener('message', (event) => {
  const message = event.data;
  if (message?.type === 'prepare') {
    // A failure here is reported by the 'start' that awaits the same promise.
    prepare(message.module).catch(() => {});
  } else if (message?.type === 'start') {
    start(message);
  } else if (message?.type === 'prioritize') {
    job.priority.push(...message.indexes);
    if (job.plan) {
      pump();
    }
  }
});
