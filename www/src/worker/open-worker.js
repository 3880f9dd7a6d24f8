// The streaming decryption worker. The main thread has already parsed,
// unwrapped, verified and decided; it posts the package bytes (transferred,
// not copied), the stream plan and the data key as a non-extractable
// WebCrypto key. For each segment this worker asks its own instance of the
// module to check the encrypted bytes (size, segment hash, the SHA-256 in
// the originator's signed provenance), decrypts them with crypto.subtle
// (which checks the GCM tag), feeds the plaintext to the whole-plaintext
// digest in order, and only then posts the segment, transferring its buffer.
//
// Messages in:  { type: 'start', module, plan, key, buffer, byteOffset, inFlight }
//               { type: 'prioritize', indexes }
// Messages out: { type: 'segment', index, offset, data }   (data: ArrayBuffer)
//               { type: 'progress', verifiedBytes, totalBytes }
//               { type: 'done' }
//               { type: 'error', error }   (a tagged error of the module)
import init, { SegmentChecker } from '../../pkg/valise_wasm.js';

const job = {
  plan: null,
  key: null,
  encrypted: null,
  checker: null,
  inFlight: 4,
  running: 0,
  started: new Set(),
  priority: [],
  /** Plaintext of checked segments waiting for their turn in the digest. */
  waiting: new Map(),
  /** Segments already posted ahead of order (at the main thread's request). */
  postedEarly: new Set(),
  /** Segments the main thread asked for ahead of order. */
  requested: new Set(),
  nextSequential: 0,
  nextAbsorb: 0,
  verifiedBytes: 0,
  offsets: [],
  failed: false,
};

function fail(error) {
  if (job.failed) {
    return;
  }
  job.failed = true;
  const tagged =
    error && typeof error === 'object' && 'kind' in error && 'message' in error
      ? error
      : { kind: 'Internal', message: `Streaming decryption failed: ${error?.message ?? error}`, reasons: [] };
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
  // Throws a tagged Integrity error before anything is decrypted.
  job.checker.checkEncrypted(index, encrypted);
  try {
    return await crypto.subtle.decrypt({ name: 'AES-GCM', iv: encrypted.subarray(0, 12), tagLength: 128 }, job.key, encrypted.subarray(12));
  } catch {
    throw { kind: 'Integrity', message: `The package was altered or damaged: segment ${index} failed its tag check.`, reasons: [] };
  }
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
        if (index !== job.nextAbsorb && job.requested.has(index)) {
          // Wanted ahead of order (the end of a PDF, say): post a copy now,
          // keep the original for the digest.
          job.postedEarly.add(index);
          const copy = plaintext.slice(0);
          self.postMessage({ type: 'segment', index, offset: job.offsets[index], data: copy }, [copy]);
        }
        job.waiting.set(index, plaintext);
        absorb();
        pump();
      },
      (error) => {
        job.running -= 1;
        fail(error);
      },
    );
  }
}

/** Feeds checked plaintext to the digest in order and posts it. */
function absorb() {
  try {
    while (job.waiting.has(job.nextAbsorb)) {
      const index = job.nextAbsorb;
      const plaintext = job.waiting.get(index);
      job.waiting.delete(index);
      job.checker.absorbPlaintext(index, new Uint8Array(plaintext));
      if (!job.postedEarly.has(index)) {
        self.postMessage({ type: 'segment', index, offset: job.offsets[index], data: plaintext }, [plaintext]);
      }
      job.verifiedBytes += job.plan.segments[index].plaintextSize;
      job.nextAbsorb += 1;
      self.postMessage({ type: 'progress', verifiedBytes: job.verifiedBytes, totalBytes: job.plan.plaintextSize });
    }
    if (job.nextAbsorb === job.plan.segments.length) {
      job.checker.finish();
      job.encrypted = null;
      self.postMessage({ type: 'done' });
    }
  } catch (error) {
    fail(error);
  }
}

async function start({ module, plan, key, buffer, byteOffset = 0, byteLength, inFlight }) {
  try {
    await init({ module_or_path: module ?? new URL('../../pkg/valise_wasm_bg.wasm', import.meta.url) });
    job.plan = plan;
    job.key = key;
    job.encrypted = new Uint8Array(buffer, byteOffset, byteLength ?? buffer.byteLength - byteOffset);
    job.checker = new SegmentChecker(plan);
    job.inFlight = Math.max(1, inFlight ?? 4);
    let offset = 0;
    for (const segment of plan.segments) {
      job.offsets.push(offset);
      offset += segment.plaintextSize;
    }
    if (plan.segments.length === 0) {
      absorb();
      return;
    }
    pump();
  } catch (error) {
    fail(error);
  }
}

self.addEventListener('message', (event) => {
  const message = event.data;
  if (message?.type === 'start') {
    start(message);
  } else if (message?.type === 'prioritize') {
    for (const index of message.indexes) {
      job.requested.add(index);
      job.priority.push(index);
    }
    if (job.plan) {
      pump();
    }
  }
});
