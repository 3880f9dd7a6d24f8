// The main-thread side of streaming decryption. It starts one or two
// workers (open-worker.js), hands each the plan and the WebCrypto key, and
// sends each the next encrypted segment whenever it requests work: segments
// a reader waits for first, then the rest in order (as few at once as the
// reader allows with `limitBackground`). It assembles the
// segments they release into one plaintext buffer that readers (a progress
// bar, pdf.js through its range transport) can use before the last segment
// is in. The whole-plaintext digest is checked either by `verifyPlaintext`
// here once every segment is in, or, with a single worker, by that worker
// before it reports 'done'.
import { errorFromTagged } from '../errors.js';

/**
 * The plaintext of a package as it arrives. `bytes` is the whole buffer;
 * `has(begin, end)` tells whether a range is complete; `whenRange(begin,
 * end)` resolves once it is, and sends the segments it lacks ahead of the
 * others; `done` resolves after every segment passed and the whole
 * plaintext matched the signed digest, or rejects with an IntegrityError or
 * InternalError (then `bytes` is zeroed).
 */
export class StreamedPlaintext {
  #lanes;
  #archive;
  #segments;
  #starts;
  #sent;
  #sentCount = 0;
  #arrived;
  #arrivedCount = 0;
  #priority = [];
  /** Buffers of encrypted segments the workers returned, for the next segments to reuse. */
  #spareBuffers = [];
  #nextInOrder = 0;
  /** Segments sent in order (not requested by a reader) whose plaintext has not arrived. */
  #backgroundInFlight = new Set();
  #backgroundLimit = Infinity;
  #workerDone = false;
  #waiters = [];
  #progressListeners = new Set();
  #verifyPlaintext;

  /**
   * `workers` are started open-worker.js workers (each already sent
   * 'start'), `archive` the package bytes the plan's offsets point into.
   * With `verifyPlaintext` null, the single worker checks the whole
   * plaintext.
   */
  constructor({ workers, plan, archive, verifyPlaintext }) {
    this.#lanes = workers.map((worker) => ({ worker, requested: 0 }));
    this.#archive = archive;
    this.#verifyPlaintext = verifyPlaintext;
    this.#segments = plan.segments;
    this.size = plan.plaintextSize;
    this.bytes = new Uint8Array(plan.plaintextSize);
    this.#sent = new Uint8Array(plan.segments.length);
    this.#arrived = new Uint8Array(plan.segments.length);
    this.#starts = [];
    let offset = 0;
    for (const segment of plan.segments) {
      this.#starts.push(offset);
      offset += segment.plaintextSize;
    }
    this.verifiedBytes = 0;
    /** Milliseconds the workers spent instantiating and hashing (`{ prepareMs, digestMs }`), once done. */
    this.workerTiming = null;
    this.timing = { prepareMs: 0, digestMs: 0 };
    this.failed = null;
    this.done = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A rejection is reported to whoever awaits `done`; never unhandled here.
    this.done.catch(() => {});
    for (const lane of this.#lanes) {
      lane.worker.addEventListener('message', (event) => this.receive(lane, event.data));
      lane.worker.addEventListener('error', (event) => {
        this.abort({ kind: 'Internal', message: `The decryption worker failed: ${event.message ?? 'unknown error'}`, reasons: [] });
      });
    }
    this.#pump();
    this.#finishIfComplete();
  }

  /** Number of workers decrypting this stream. */
  get workerCount() {
    return this.#lanes.length;
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

  /** Resolves once `[begin, end)` has arrived; sends its segments ahead of order. */
  whenRange(begin, end) {
    if (this.failed) {
      return Promise.reject(this.failed);
    }
    const missing = this.#missing(begin, end);
    if (missing.length === 0) {
      return Promise.resolve();
    }
    const arrived = new Promise((resolve, reject) => this.#waiters.push({ begin, end, resolve, reject }));
    this.#priority.push(...missing.filter((index) => !this.#sent[index]));
    this.#pump();
    return arrived;
  }

  /**
   * Picks the next segment to send: requested ones first, then in order
   * while fewer than the background cap of those are out. Returns -1 when
   * none is to be sent now.
   */
  #nextIndex() {
    while (this.#priority.length > 0) {
      const index = this.#priority.shift();
      if (!this.#sent[index]) {
        return index;
      }
    }
    while (this.#nextInOrder < this.#segments.length && this.#sent[this.#nextInOrder]) {
      this.#nextInOrder += 1;
    }
    if (this.#nextInOrder >= this.#segments.length || this.#backgroundInFlight.size >= this.#backgroundLimit) {
      return -1;
    }
    this.#backgroundInFlight.add(this.#nextInOrder);
    return this.#nextInOrder;
  }

  /**
   * Caps the number of unrequested segments that decrypt at once (at least
   * one). Infinity lifts the cap. A reader that needs only a few ranges
   * first, such as pdf.js painting page one, keeps more of the CPU this way.
   */
  limitBackground(limit) {
    this.#backgroundLimit = Math.max(1, limit);
    this.#pump();
  }

  /**
   * Sends segments to the workers that requested work. Each segment is
   * copied out of the archive into a buffer of its own, which is
   * transferred and comes back with the plaintext, so a few buffers serve
   * every segment. Once every segment left, the archive's buffer goes to a
   * worker, so it is freed when the workers end, before the page hashes the
   * whole plaintext (which copies it). Left to garbage collection, it stayed
   * in memory through that copy, and the peak rose by the package size.
   */
  #pump() {
    while (!this.failed && this.#archive !== null) {
      const lane = this.#lanes.reduce((best, candidate) => (candidate.requested > best.requested ? candidate : best));
      if (lane.requested === 0) {
        return;
      }
      const index = this.#nextIndex();
      if (index < 0) {
        return;
      }
      const { offset, encryptedSize } = this.#segments[index];
      const reusable = this.#spareBuffers.findIndex((buffer) => buffer.byteLength >= encryptedSize);
      const data = reusable < 0 ? new ArrayBuffer(encryptedSize) : this.#spareBuffers.splice(reusable, 1)[0];
      new Uint8Array(data, 0, encryptedSize).set(this.#archive.subarray(offset, offset + encryptedSize));
      this.#sent[index] = 1;
      this.#sentCount += 1;
      lane.requested -= 1;
      lane.worker.postMessage({ type: 'segment', index, data, length: encryptedSize }, [data]);
      if (this.#sentCount === this.#segments.length) {
        const { buffer } = this.#archive;
        this.#archive = null;
        lane.worker.postMessage({ type: 'release', buffer }, [buffer]);
      }
    }
  }

  /** Handles one message of the worker of `lane`. */
  receive(lane, message) {
    if (this.failed) {
      return;
    }
    if (message.type === 'segment') {
      const { index } = message;
      if (!this.#sent[index] || this.#arrived[index]) {
        this.abort({ kind: 'Internal', message: `The decryption worker returned segment ${index}, which it was not waiting for.`, reasons: [] });
        return;
      }
      const plaintext = new Uint8Array(message.data);
      this.bytes.set(plaintext, this.#starts[index]);
      // The worker's buffer is garbage from here on, so leave no second copy of the plaintext in it.
      // TODO: these buffers may keep a stream's peak memory above 1.5 times the document
      // (M5 in docs/benchmarks.md). Neither detaching them at once nor handing them to
      // a worker that the page ended every 8 MiB measured better.
      plaintext.fill(0);
      if (message.encrypted && this.#archive !== null) {
        this.#spareBuffers.push(message.encrypted);
      }
      this.#arrived[index] = 1;
      this.#arrivedCount += 1;
      this.#backgroundInFlight.delete(index);
      this.verifiedBytes += this.#segments[index].plaintextSize;
      this.#waiters = this.#waiters.filter((waiter) => {
        if (this.has(waiter.begin, waiter.end)) {
          waiter.resolve();
          return false;
        }
        return true;
      });
      for (const listener of this.#progressListeners) {
        listener(this.verifiedBytes, this.size);
      }
      this.#finishIfComplete();
    } else if (message.type === 'request') {
      lane.requested += message.count;
      this.#pump();
    } else if (message.type === 'started') {
      this.timing.prepareMs = Math.max(this.timing.prepareMs, message.prepareMs);
    } else if (message.type === 'done') {
      this.timing.digestMs = message.digestMs;
      this.#workerDone = true;
      this.#finishIfComplete();
    } else if (message.type === 'error') {
      this.abort(message.error);
    }
  }

  /** Resolves `done` once every segment arrived and the whole plaintext matched. */
  #finishIfComplete() {
    if (this.#arrivedCount < this.#segments.length || (this.#verifyPlaintext === null && !this.#workerDone)) {
      return;
    }
    this.workerTiming = this.timing;
    this.#terminate();
    if (this.#verifyPlaintext === null) {
      this.resolveDone(this.bytes);
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
  }

  #terminate() {
    for (const lane of this.#lanes) {
      lane.worker.terminate();
    }
    this.#archive = null;
    this.#spareBuffers = [];
  }

  /** Stops the workers, zeroes what arrived and rejects every waiter. */
  abort(tagged = { kind: 'Internal', message: 'Decryption was cancelled.', reasons: [] }) {
    if (this.failed) {
      return;
    }
    const error = tagged instanceof Error ? tagged : errorFromTagged(tagged);
    this.failed = error;
    this.#terminate();
    this.bytes.fill(0);
    for (const waiter of this.#waiters) {
      waiter.reject(error);
    }
    this.#waiters = [];
    this.rejectDone(error);
  }
}

/**
 * Segments each worker requests at once by default. One queued segment keeps
 * WebCrypto busy while the worker handles the previous result
 * (docs/benchmarks.md).
 */
export const SEGMENTS_IN_FLIGHT = 2;

/**
 * Most workers a stream uses: two where the browser reports two or more
 * cores, since the WebCrypto work of a stream ran faster split over two
 * workers than in one on a 2-core machine (docs/benchmarks.md).
 */
export const STREAM_WORKERS = Math.min(2, Math.max(1, globalThis.navigator?.hardwareConcurrency ?? 1));

/**
 * Packages from this size on stream through STREAM_WORKERS workers, smaller
 * ones through one. On a 2-core machine two workers opened 64 MiB 12 to
 * 19 % faster than one and mostly painted a 100 MiB PDF's first page
 * sooner, but painted a 10 MiB PDF's first page later (docs/benchmarks.md).
 */
export const TWO_WORKERS_FROM_BYTES = 32 * 1024 * 1024;

/** Returns how many workers stream a package of `size` bytes by default. */
export function streamWorkersFor(size) {
  return size >= TWO_WORKERS_FROM_BYTES ? STREAM_WORKERS : 1;
}

/** Packages from this size on stream through the workers; openPackage prepares them. */
export const STREAM_FROM_BYTES = 8 * 1024 * 1024;

/** Started workers that hold no package yet, each `{ worker, ready }`. */
let spares = [];
/** Set by keepStreamWorkersReady: `{ module }` to keep spares started with. */
let keptReady = null;
let refillScheduled = false;
/** Streams that have not ended; no idle worker starts while one runs. */
let activeStreams = 0;

function newWorker(module) {
  const worker = new Worker(new URL('./open-worker.js', import.meta.url), { type: 'module', name: 'valise-open' });
  const ready = new Promise((resolve) => {
    const settle = (event) => {
      if (event.type === 'error' || event.data?.type === 'prepared') {
        worker.removeEventListener('message', settle);
        worker.removeEventListener('error', settle);
        resolve();
      }
    };
    worker.addEventListener('message', settle);
    worker.addEventListener('error', settle);
  });
  worker.postMessage({ type: 'prepare', module });
  return { worker, ready };
}

/**
 * Starts the decryption workers for a package of `size` bytes ahead of the
 * next startStream, so loading their script and instantiating `module` (a
 * compiled WebAssembly.Module, or null to fetch it) overlap with work on the
 * main thread. The workers receive no package until startStream passes one.
 * Calling it again while enough prepared workers wait does nothing.
 */
export function prepareStreamWorker(module = null, size = 0) {
  if (typeof Worker !== 'undefined') {
    while (spares.length < streamWorkersFor(size)) {
      spares.push(newWorker(module));
    }
  }
}

/**
 * Keeps STREAM_WORKERS workers started and idle from now on, their module
 * instantiated, and starts new ones when the page is idle after each
 * stream. Starting a worker took about 50 ms on a 2-core machine, and a
 * stream that found none waited that long for its first segment
 * (docs/benchmarks.md). An idle worker contains no key and no plaintext: it
 * receives them only in the stream that takes it, and ends with that
 * stream.
 */
export function keepStreamWorkersReady(module = null) {
  keptReady = { module };
  prepareStreamWorker(module, Infinity);
}

/** Resolves once every idle worker has instantiated its module. */
export function streamWorkersReady() {
  return Promise.all(spares.map((spare) => spare.ready));
}

/**
 * Replaces the workers that streams took, if the page keeps workers ready,
 * once the page is idle and no stream runs: starting a worker takes CPU
 * time that a running stream needs.
 */
function refillWhenIdle() {
  if (keptReady === null || refillScheduled) {
    return;
  }
  refillScheduled = true;
  const refill = () => {
    refillScheduled = false;
    if (activeStreams === 0) {
      prepareStreamWorker(keptReady.module, Infinity);
    }
  };
  if (typeof requestIdleCallback === 'function') {
    requestIdleCallback(refill, { timeout: 2000 });
  } else {
    setTimeout(refill, 200);
  }
}

/**
 * Starts streaming decryption in `workers` workers (by default as many as
 * streamWorkersFor the plaintext size, the prepared ones first). `bytes` is
 * the package archive: its buffer is transferred to a worker (detached
 * here) once every segment was handed out. `module` is the compiled
 * WebAssembly.Module to reuse, if known. `verifyPlaintext(bytes)` checks
 * the whole plaintext on the page once every segment is in, and rejects on
 * a mismatch. When it is null, a single worker hashes the plaintext as it
 * goes instead. Returns a StreamedPlaintext.
 */
export function startStream({ plan, key, bytes, verifyPlaintext = null, module = null, inFlight = SEGMENTS_IN_FLIGHT, workers = streamWorkersFor(plan.plaintextSize) }) {
  const count = verifyPlaintext === null ? 1 : Math.max(1, workers);
  const chosen = spares.splice(0, count).map((spare) => spare.worker);
  if (keptReady === null) {
    for (const extra of spares) {
      extra.worker.terminate();
    }
    spares = [];
  }
  while (chosen.length < count) {
    chosen.push(newWorker(module).worker);
  }
  for (const worker of chosen) {
    worker.postMessage({ type: 'start', module, plan, key, inFlight, digestPlaintext: verifyPlaintext === null });
  }
  const stream = new StreamedPlaintext({ workers: chosen, plan, archive: bytes, verifyPlaintext });
  activeStreams += 1;
  const ended = () => {
    activeStreams -= 1;
    refillWhenIdle();
  };
  stream.done.then(ended, ended);
  return stream;
}
