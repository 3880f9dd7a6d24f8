// The main-thread side of streaming decryption: starts the worker, hands it
// the package bytes (transferred), the plan and the WebCrypto key, and
// assembles the segments it releases into one plaintext buffer that
// readers (a progress bar, pdf.js through its range transport) can use
// before the last segment is in. The whole-plaintext digest is checked
// either by the worker before it reports 'done' or by `verifyPlaintext` here.
import { errorFromTagged } from '../errors.js';

/**
 * The plaintext of a package as it arrives. `bytes` is the whole buffer;
 * `has(begin, end)` tells whether a range is complete; `whenRange(begin,
 * end)` resolves once it is, and asks the worker for the segments it lacks
 * first; `done` resolves after every segment passed and the whole
 * plaintext matched the signed digest, or rejects with an IntegrityError or
 * InternalError (then `bytes` is zeroed).
 */
export class StreamedPlaintext {
  #worker;
  #segments;
  #starts;
  #arrived;
  #waiters = [];
  #progressListeners = new Set();

  #verifyPlaintext;

  constructor(worker, plan, verifyPlaintext) {
    this.#worker = worker;
    this.#verifyPlaintext = verifyPlaintext;
    this.#segments = plan.segments;
    this.size = plan.plaintextSize;
    this.bytes = new Uint8Array(plan.plaintextSize);
    this.#arrived = new Uint8Array(plan.segments.length);
    this.#starts = [];
    let offset = 0;
    for (const segment of plan.segments) {
      this.#starts.push(offset);
      offset += segment.plaintextSize;
    }
    this.verifiedBytes = 0;
    /** Milliseconds the worker spent instantiating and hashing (`{ prepareMs, digestMs }`), once it is done. */
    this.workerTiming = null;
    this.failed = null;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A rejection is reported to whoever awaits `done`; never unhandled here.
    this.done.catch(() => {});
  }

  /** Registers `listener(verifiedBytes, totalBytes)`; returns a function that removes it. */
  onProgress(listener) {
    this.#progressListeners.add(listener);
    return () => this.#progressListeners.delete(listener);
  }

  /** Index of the segment holding plaintext byte `position`. */
  segmentAt(position) {
    let low = 0;
    let high = this.#starts.length - 1;
    while (low < high) {
      const middle = (low + high + 1) >> 1;
      if (this.#starts[middle] <= position) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    return low;
  }

  #missing(begin, end) {
    const missing = [];
    if (end <= begin) {
      return missing;
    }
    for (let index = this.segmentAt(begin); index <= this.segmentAt(end - 1); index += 1) {
      if (!this.#arrived[index]) {
        missing.push(index);
      }
    }
    return missing;
  }

  /** Tells whether plaintext bytes `[begin, end)` have all arrived. */
  has(begin, end) {
    return this.#missing(begin, end).length === 0;
  }

  /** Resolves once `[begin, end)` has arrived; asks for it ahead of order. */
  whenRange(begin, end) {
    if (this.failed) {
      return Promise.reject(this.failed);
    }
    const missing = this.#missing(begin, end);
    if (missing.length === 0) {
      return Promise.resolve();
    }
    const arrived = new Promise((resolve, reject) => this.#waiters.push({ begin, end, resolve, reject }));
    this.#worker.postMessage({ type: 'prioritize', indexes: missing });
    return arrived;
  }

  /** Handles one message of the worker. */
  receive(message) {
    if (message.type === 'segment') {
      this.bytes.set(new Uint8Array(message.data), message.offset);
      this.#arrived[message.index] = 1;
      this.#waiters = this.#waiters.filter((waiter) => {
        if (this.has(waiter.begin, waiter.end)) {
          waiter.resolve();
          return false;
        }
        return true;
      });
    } else if (message.type === 'progress') {
      this.verifiedBytes = message.verifiedBytes;
      for (const listener of this.#progressListeners) {
        listener(message.verifiedBytes, message.totalBytes);
      }
    } else if (message.type === 'done') {
      this.workerTiming = message.timing ?? null;
      this.#worker.terminate();
      if (this.#verifyPlaintext === null) {
        if (!this.failed) {
          this.resolveDone(this.bytes);
        }
        return;
      }
      this.#verifyPlaintext(this.bytes).then(
        () => {
          if (!this.failed) {
            this.resolveDone(this.bytes);
          }
        },
        (error) => this.abort(error),
      );
    } else if (message.type === 'error') {
      this.abort(message.error);
    }
  }

  /** Stops the worker, zeroes what arrived and rejects every waiter. */
  abort(tagged = { kind: 'Internal', message: 'Decryption was cancelled.', reasons: [] }) {
    if (this.failed) {
      return;
    }
    const error = tagged instanceof Error ? tagged : errorFromTagged(tagged);
    this.failed = error;
    this.#worker.terminate();
    this.bytes.fill(0);
    for (const waiter of this.#waiters) {
      waiter.reject(error);
    }
    this.#waiters = [];
    this.rejectDone(error);
  }
}

/**
 * Segments the worker decrypts at once by default. One queued segment keeps
 * WebCrypto busy while the worker handles the previous result; four were
 * slower than one or two on a 2-core machine (docs/benchmarks.md).
 */
export const SEGMENTS_IN_FLIGHT = 2;

/** Packages from this size on stream through the worker; openPackage prepares one for them. */
export const STREAM_FROM_BYTES = 8 * 1024 * 1024;

let spare = null;

function newWorker(module) {
  const worker = new Worker(new URL('./open-worker.js', import.meta.url), { type: 'module', name: 'valise-open' });
  worker.postMessage({ type: 'prepare', module });
  return worker;
}

/**
 * Starts a decryption worker ahead of the next startStream, so loading its
 * script and instantiating `module` (a compiled WebAssembly.Module, or null
 * to fetch it) overlap with work on the main thread. The worker receives no
 * package until startStream passes one. Calling it again while a prepared
 * worker waits does nothing.
 */
export function prepareStreamWorker(module = null) {
  if (typeof Worker !== 'undefined') {
    spare ??= newWorker(module);
  }
}

/**
 * Starts streaming decryption in a worker (the prepared one, if any).
 * `bytes` is the package archive: its buffer is transferred to the worker
 * (detached here) unless `copy` is true. `module` is the compiled
 * WebAssembly.Module to reuse, if known. `verifyPlaintext(bytes)`, when
 * given, checks the whole plaintext again on the page once the worker is
 * done, and rejects on a mismatch. Returns a StreamedPlaintext.
 */
// TODO: spread segments over two workers. On an idle 2-core machine the
// bare WebCrypto work of a stream ran 1.7 times faster in two workers than
// in one, but a second worker started by the streaming worker made the
// open slower (docs/benchmarks.md).
export function startStream({ plan, key, bytes, verifyPlaintext = null, module = null, inFlight = SEGMENTS_IN_FLIGHT, copy = false }) {
  const worker = spare ?? newWorker(module);
  spare = null;
  const stream = new StreamedPlaintext(worker, plan, verifyPlaintext);
  worker.addEventListener('message', (event) => stream.receive(event.data));
  worker.addEventListener('error', (event) => {
    stream.abort({ kind: 'Internal', message: `The decryption worker failed: ${event.message ?? 'unknown error'}`, reasons: [] });
  });
  const source = copy ? bytes.slice() : bytes;
  worker.postMessage(
    {
      type: 'start',
      module,
      plan,
      key,
      buffer: source.buffer,
      byteOffset: source.byteOffset,
      byteLength: source.byteLength,
      inFlight,
      plaintextDigestOnPage: verifyPlaintext !== null,
    },
    [source.buffer],
  );
  return stream;
}
