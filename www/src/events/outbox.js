// The browser's access-event outbox: a bounded, durable queue in IndexedDB
// that delivers signed events in batches to the collector each package
// names, at least once.
//
// - An event and the chain state that follows it are written in one
//   IndexedDB transaction. After a crash, a reload or a closed tab the queue
//   and the chain agree, so no event is lost and no sequence number is
//   reused.
// - The queue is bounded. When it is full `enqueue` throws OutboxFullError and
//   queues nothing, so the caller does not open a package whose rights
//   require events.
// - Delivery POSTs `application/cloudevents-batch+json`. A 2xx response
//   removes the batch and a 4xx response removes it and records the
//   collector's message. A 413 (too many events or bytes) splits the batch
//   and sends the parts, and a single event that still gets 413 stays
//   queued. A 429 (the reader is over the collector's quota),
//   a 5xx response or a network failure keeps it and retries with
//   exponential backoff and jitter. Delivery resumes when the
//   browser comes back online, and a `sendBeacon` flush runs when the page is
//   hidden. The collector drops duplicates by event id.

/** IndexedDB database name. */
export const DATABASE_NAME = 'valise-events';
const DATABASE_VERSION = 1;
const QUEUE_STORE = 'queue';
const META_STORE = 'meta';
/** Key prefix of each reader's chain state; the reader key follows. */
const CHAIN_KEY_PREFIX = 'chain:';
/** Key of the profile's agent id, shared by every reader's chain. */
const AGENT_KEY = 'agent';
/** Hash a chain's first event names as its predecessor: 32 zero bytes. */
const GENESIS_HASH = '0'.repeat(64);
const STATUS_KEY = 'status';

/** Maximum number of queued events. */
export const MAX_QUEUED = 5000;
/** Maximum number of events per request. */
export const BATCH_SIZE = 100;
/** First retry delay, in milliseconds; it doubles on each failure. */
export const RETRY_BASE_MS = 1000;
/** Maximum retry delay, in milliseconds. */
export const RETRY_MAX_MS = 5 * 60 * 1000;
/**
 * Largest body given to `sendBeacon`. The Fetch standard limits the bodies
 * of in-flight keepalive requests, beacons included, to 64 KiB in total.
 */
const BEACON_MAX_BYTES = 60 * 1024;
const BATCH_MEDIA_TYPE = 'application/cloudevents-batch+json';

/** The queue is full: nothing was queued. */
export class OutboxFullError extends Error {
  constructor(count) {
    super(`the access-event queue is full (${count} events waiting)`);
    this.name = 'OutboxFullError';
    this.count = count;
  }
}

/** IndexedDB is missing or refused the write: nothing was queued. */
export class OutboxStorageError extends Error {
  constructor(message, options) {
    super(message, options);
    this.name = 'OutboxStorageError';
  }
}

function request(idbRequest) {
  return new Promise((resolve, reject) => {
    idbRequest.onsuccess = () => resolve(idbRequest.result);
    idbRequest.onerror = () => reject(idbRequest.error);
  });
}

function completion(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onabort = () => reject(transaction.error ?? new Error('transaction aborted'));
    transaction.onerror = () => reject(transaction.error);
  });
}

function openDatabase(indexedDB) {
  if (!indexedDB) {
    return Promise.reject(new OutboxStorageError('IndexedDB is not available in this browser'));
  }
  const opening = indexedDB.open(DATABASE_NAME, DATABASE_VERSION);
  opening.onupgradeneeded = () => {
    const database = opening.result;
    if (!database.objectStoreNames.contains(QUEUE_STORE)) {
      database.createObjectStore(QUEUE_STORE, { autoIncrement: true });
    }
    if (!database.objectStoreNames.contains(META_STORE)) {
      database.createObjectStore(META_STORE);
    }
  };
  return request(opening);
}

/** The durable queue of one browser profile. */
/**
 * Returns the key under which a reader's chain is stored: the JSON array
 * `[community, organization, person]`, which no two readers share.
 */
export function readerKey({ community, organization, person }) {
  return JSON.stringify([community, organization, person]);
}

export class Outbox {
  #database;
  #fetch;
  #random;
  #maxQueued;
  #retryTimer = null;
  #failures = 0;
  #flushing = null;
  #flushAgain = null;
  #listeners = [];
  // The batch size each collector URL accepted after a 413, so later
  // flushes and beacons start at that size.
  #batchSizes = new Map();
  // The queued events in memory, so the pagehide handler can hand them to
  // sendBeacon synchronously, because the page may be gone before an
  // IndexedDB read completes.
  #snapshot = [];

  constructor(database, { fetch, random, maxQueued }) {
    this.#database = database;
    this.#fetch = fetch;
    this.#random = random;
    this.#maxQueued = maxQueued;
  }

  /**
   * Opens the outbox. Options replace the browser's `indexedDB`, `fetch`
   * and `Math.random`, and the queue bound, for tests.
   */
  static async open(options = {}) {
    try {
      const database = await openDatabase(options.indexedDB ?? globalThis.indexedDB);
      const outbox = new Outbox(database, {
        fetch: options.fetch ?? ((...args) => globalThis.fetch(...args)),
        random: options.random ?? Math.random,
        maxQueued: options.maxQueued ?? MAX_QUEUED,
      });
      await outbox.#refreshSnapshot();
      return outbox;
    } catch (error) {
      if (error instanceof OutboxStorageError) throw error;
      throw new OutboxStorageError(`cannot open the access-event queue: ${error?.message ?? error}`, { cause: error });
    }
  }

  /**
   * Returns the chain state `{ agent, seq, prevHash }` of one reader
   * (`readerKey`, see `readerKey()`). A reader without events in this
   * profile starts at seq 0 under the profile's agent id. Before the first
   * event of the profile it returns null, so the signer picks an agent id.
   * Each reader has a chain of its own because the collector chains events
   * per source, and a source names the reader.
   */
  async chain(readerKey) {
    const transaction = this.#database.transaction(META_STORE, 'readonly');
    const meta = transaction.objectStore(META_STORE);
    const stored = await request(meta.get(CHAIN_KEY_PREFIX + readerKey));
    if (stored) {
      return stored;
    }
    // The single chain of earlier versions, under the key 'chain', is not
    // continued: it belongs to whichever reader used it, so every reader
    // starts anew under a new agent id, and the collector sees new sources.
    const agent = await request(meta.get(AGENT_KEY));
    return agent ? { agent, seq: 0, prevHash: GENESIS_HASH } : null;
  }

  /**
   * Queues one signed event (its JSON text) for `url` and stores the chain
   * state that follows it, in one transaction. Resolves once both are
   * durable.
   *
   * @throws {OutboxFullError} when the queue is full.
   * @throws {OutboxStorageError} when IndexedDB fails.
   */
  async enqueue(url, eventJson, chain, readerKey) {
    const transaction = this.#database.transaction([QUEUE_STORE, META_STORE], 'readwrite', { durability: 'strict' });
    const done = completion(transaction);
    const queue = transaction.objectStore(QUEUE_STORE);
    const count = await request(queue.count());
    if (count >= this.#maxQueued) {
      transaction.abort();
      await done.catch(() => {});
      throw new OutboxFullError(count);
    }
    queue.add({ url, event: eventJson, queuedAt: Date.now() });
    const meta = transaction.objectStore(META_STORE);
    meta.put(chain, CHAIN_KEY_PREFIX + readerKey);
    meta.put(chain.agent, AGENT_KEY);
    try {
      await done;
    } catch (error) {
      throw new OutboxStorageError(`cannot queue the access event: ${error?.message ?? error}`, { cause: error });
    }
    this.#snapshot.push({ url, event: eventJson });
  }

  /**
   * Returns what waits: `{ total, byUrl: { url: count }, lastError, lastAttempt }`.
   */
  async status() {
    const transaction = this.#database.transaction([QUEUE_STORE, META_STORE], 'readonly');
    const entries = await request(transaction.objectStore(QUEUE_STORE).getAll());
    const status = (await request(transaction.objectStore(META_STORE).get(STATUS_KEY))) ?? {};
    const byUrl = {};
    for (const entry of entries) byUrl[entry.url] = (byUrl[entry.url] ?? 0) + 1;
    return { total: entries.length, byUrl, lastError: status.lastError ?? null, lastAttempt: status.lastAttempt ?? null };
  }

  /**
   * Sends the queue in batches, oldest first, per collector URL. A batch
   * that gets 413 is split and sent again, so no event is dropped for its
   * size. Resolves to `{ sent, rejected, queued }`. Only one flush runs at a time. A call
   * during a running flush resolves with one more flush after it, because
   * the running one may have read the queue before the caller's event.
   */
  flush() {
    if (this.#flushing) {
      this.#flushAgain ??= this.#flushing
        .catch(() => {})
        .then(() => {
          this.#flushAgain = null;
          return this.flush();
        });
      return this.#flushAgain;
    }
    this.#flushing = this.#flushOnce().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flushOnce() {
    const result = { sent: 0, rejected: 0, queued: 0 };
    const entries = await this.#entries();
    const byUrl = new Map();
    for (const entry of entries) {
      if (!byUrl.has(entry.value.url)) byUrl.set(entry.value.url, []);
      byUrl.get(entry.value.url).push(entry);
    }
    let lastError = null;
    for (const [url, list] of byUrl) {
      let start = 0;
      while (start < list.length) {
        const batch = list.slice(start, start + this.#batchSize(url));
        const outcome = await this.#send(url, batch);
        if (outcome.kind === 'too_large' && batch.length > 1) {
          // Fewer events per request from now on: the collector's maximum
          // when it names one below this batch's length, else half.
          const named = outcome.maxEvents >= 1 && outcome.maxEvents < batch.length;
          this.#batchSizes.set(url, named ? outcome.maxEvents : Math.floor(batch.length / 2));
          continue;
        }
        if (outcome.kind === 'stored') {
          await this.#remove(batch.map((entry) => entry.key));
          result.sent += batch.length;
        } else if (outcome.kind === 'rejected') {
          await this.#remove(batch.map((entry) => entry.key));
          result.rejected += batch.length;
          lastError = `${url}: ${outcome.message}`;
        } else if (outcome.kind === 'too_large') {
          // One event larger than the collector takes: it stays queued, and
          // the next events go on.
          result.queued += 1;
          lastError = `${url}: an access event is too large for the collector even on its own and stays queued (${outcome.message})`;
        } else {
          lastError = `${url}: ${outcome.message}`;
          result.queued += list.length - start;
          break;
        }
        start += batch.length;
      }
    }
    await this.#recordStatus(lastError);
    await this.#refreshSnapshot();
    if (result.queued > 0) this.#scheduleRetry();
    else this.#failures = 0;
    return result;
  }

  #batchSize(url) {
    return this.#batchSizes.get(url) ?? BATCH_SIZE;
  }

  async #send(url, batch) {
    const body = `[${batch.map((entry) => entry.value.event).join(',')}]`;
    let response;
    try {
      response = await this.#fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': BATCH_MEDIA_TYPE },
        body,
        credentials: 'omit',
        mode: 'cors',
      });
    } catch (error) {
      return { kind: 'retry', message: `network failure: ${error?.message ?? error}` };
    }
    if (response.ok) return { kind: 'stored' };
    let message = `HTTP ${response.status}`;
    let answer = null;
    try {
      answer = await response.json();
      if (typeof answer?.message === 'string') message = `${message}: ${answer.message}`;
    } catch {
      // The status alone is the message.
    }
    // 413: more events or bytes than the collector takes, so the caller splits the batch.
    if (response.status === 413) {
      return { kind: 'too_large', message, maxEvents: Number.isInteger(answer?.maxEvents) ? answer.maxEvents : null };
    }
    // 429: the reader is over the collector's hourly quota, so the batch waits.
    if (response.status >= 400 && response.status < 500 && response.status !== 429) return { kind: 'rejected', message };
    return { kind: 'retry', message };
  }

  async #entries() {
    const transaction = this.#database.transaction(QUEUE_STORE, 'readonly');
    const store = transaction.objectStore(QUEUE_STORE);
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    return keys.map((key, index) => ({ key, value: values[index] }));
  }

  async #refreshSnapshot() {
    this.#snapshot = (await this.#entries()).map((entry) => ({ url: entry.value.url, event: entry.value.event }));
  }

  async #remove(keys) {
    const transaction = this.#database.transaction(QUEUE_STORE, 'readwrite');
    const done = completion(transaction);
    const store = transaction.objectStore(QUEUE_STORE);
    for (const key of keys) store.delete(key);
    await done;
  }

  async #recordStatus(lastError) {
    const transaction = this.#database.transaction(META_STORE, 'readwrite');
    const done = completion(transaction);
    transaction.objectStore(META_STORE).put({ lastError, lastAttempt: new Date().toISOString() }, STATUS_KEY);
    await done;
  }

  /** Schedules the next flush after an exponential delay with full jitter. */
  #scheduleRetry() {
    if (this.#retryTimer !== null) return;
    this.#failures += 1;
    const ceiling = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.min(this.#failures - 1, 20));
    const delay = Math.floor(ceiling / 2 + this.#random() * (ceiling / 2));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.flush().catch(() => {});
    }, delay);
  }

  /**
   * Hands the oldest queued events of each collector to `sendBeacon`, for
   * when the page goes away. Synchronous, so it completes inside a pagehide
   * handler. Returns how many events were handed over. They stay queued,
   * because a beacon reports no result. The next flush sends them again and
   * the collector drops the duplicates.
   */
  beacon() {
    const sendBeacon = globalThis.navigator?.sendBeacon?.bind(globalThis.navigator);
    if (!sendBeacon) return 0;
    const byUrl = new Map();
    for (const entry of this.#snapshot) {
      if (!byUrl.has(entry.url)) byUrl.set(entry.url, []);
      byUrl.get(entry.url).push(entry.event);
    }
    let handed = 0;
    for (const [url, events] of byUrl) {
      const chosen = [];
      let size = 2;
      for (const event of events.slice(0, this.#batchSize(url))) {
        if (size + event.length + 1 > BEACON_MAX_BYTES) break;
        chosen.push(event);
        size += event.length + 1;
      }
      if (chosen.length === 0) continue;
      // A beacon may only carry a CORS-safelisted type without a preflight.
      const body = new Blob([`[${chosen.join(',')}]`], { type: 'text/plain;charset=UTF-8' });
      if (sendBeacon(url, body)) handed += chosen.length;
    }
    return handed;
  }

  /** Flushes now, then whenever the browser comes online; beacons when the page is hidden. */
  start() {
    const online = () => {
      this.#failures = 0;
      if (this.#retryTimer !== null) {
        clearTimeout(this.#retryTimer);
        this.#retryTimer = null;
      }
      this.flush().catch(() => {});
    };
    const hidden = () => {
      if (document.visibilityState === 'hidden') this.beacon();
    };
    const pagehide = () => {
      this.beacon();
    };
    globalThis.addEventListener('online', online);
    globalThis.addEventListener('pagehide', pagehide);
    globalThis.document?.addEventListener('visibilitychange', hidden);
    this.#listeners = [
      () => globalThis.removeEventListener('online', online),
      () => globalThis.removeEventListener('pagehide', pagehide),
      () => globalThis.document?.removeEventListener('visibilitychange', hidden),
    ];
    this.flush().catch(() => {});
  }

  /** Removes the listeners and the retry timer; the queue stays. */
  stop() {
    for (const remove of this.#listeners) remove();
    this.#listeners = [];
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }
}
