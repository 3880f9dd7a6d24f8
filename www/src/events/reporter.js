// Turns the portal's decisions and enforcement events into signed access
// events in the outbox. The portal calls `report` with a package's event
// context (from the verified package, see OpenedPackage.eventContext) and
// the kind of event. A package whose rights name no collector produces no
// event. Failures throw EventQueueError, a sentence that says why and what
// to do, and the caller decides: a package whose rights require events does
// not open, and any other failure is noted in the activity panel.
import { InternalError, ValiseError } from '../errors.js';
import { Outbox, OutboxFullError, OutboxStorageError, readerKey } from './outbox.js';

/** The event kinds the core signs (`type` is `org.valise.access.KIND`). */
const KINDS = new Set(['opened', 'denied', 'print_blocked', 'printed', 'copy_blocked', 'exported', 'forwarded', 'watermark_removed', 'expired']);

/** Kinds whose `decision` is `deny`: the viewer refused or undid something. */
const DENY_KINDS = new Set(['denied', 'print_blocked', 'copy_blocked', 'watermark_removed', 'expired']);

/**
 * Kinds of the actions that, when the rights require access events, take
 * place only after their event is queued.
 */
export const ACTIONS_AFTER_EVENT = new Set(['printed', 'exported']);

/** Reason codes of the blocked actions, which the decision point does not produce. */
const BLOCKED_REASONS = { print_blocked: ['print_not_allowed'], copy_blocked: ['copy_not_allowed'] };

/** The Web Locks name that keeps two tabs of one profile from signing with the same chain state. */
const CHAIN_LOCK = 'valise-event-chain';

/** An access event could not be signed or queued. The message states the cause and the next step. */
export class EventQueueError extends ValiseError {}

/** Copies the six rights an event states from the portal's rights view, or null. */
export function rightsInForce(rights) {
  if (!rights) {
    return null;
  }
  const { view, print, copy, forward, export: exportRight, watermark } = rights;
  return { view: Boolean(view), print: Boolean(print), copy: Boolean(copy), forward: Boolean(forward), export: Boolean(exportRight), watermark: Boolean(watermark) };
}

export class EventReporter {
  #outbox;
  #openError;
  #signer;
  #listeners = new Set();
  #serial = Promise.resolve();

  constructor(outbox, openError, signer) {
    this.#outbox = outbox;
    this.#openError = openError;
    this.#signer = signer;
  }

  /**
   * Opens the outbox and starts delivery: a flush now, another when the
   * browser comes back online, and a sendBeacon flush when the page is
   * hidden. `signer()` returns the unlocked EventSigner or null. Never
   * throws: when IndexedDB cannot be opened, `report` throws and the outbox
   * view shows the cause.
   */
  static async open({ signer }) {
    try {
      const outbox = await Outbox.open();
      outbox.start();
      return new EventReporter(outbox, null, signer);
    } catch (error) {
      return new EventReporter(null, error, signer);
    }
  }

  /** Registers `listener()`, called after each queued event and each flush started here. */
  onChange(listener) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Returns `{ available, error, total, byUrl, lastError, lastAttempt }`
   * for the outbox view.
   */
  async status() {
    if (!this.#outbox) {
      return { available: false, error: String(this.#openError?.message ?? this.#openError), total: 0, byUrl: {}, lastError: null, lastAttempt: null };
    }
    return { available: true, error: null, ...(await this.#outbox.status()) };
  }

  /** Sends what waits now; resolves to `{ sent, rejected, queued }` or null without an outbox. */
  async flush() {
    if (!this.#outbox) {
      return null;
    }
    try {
      return await this.#outbox.flush();
    } finally {
      this.#changed();
    }
  }

  /**
   * Signs one event and queues it for the collector in `context.eventsUrl`.
   * `event` is `{ kind, reasons?, rights? }`; the decision follows from the
   * kind. Resolves to `{ queued: true, id }` once the event and the chain
   * state are durable, or `{ queued: false }` when the package names no
   * collector or `kind` is not an access event kind.
   *
   * @throws {EventQueueError} when there is no signing key, the queue is
   *   full, or the browser's storage failed.
   */
  async report(context, { kind, reasons = [], rights = null }) {
    if (!context?.eventsUrl || !KINDS.has(kind)) {
      return { queued: false };
    }
    if (!this.#outbox) {
      throw new EventQueueError(`The access event could not be queued because this browser's storage is not available (${this.#openError?.message ?? this.#openError}).`, {
        nextStep: 'Allow this site to store data (private windows may not), then try again.',
      });
    }
    const signer = this.#signer();
    if (!signer) {
      throw new EventQueueError('Your identity was unlocked without its signing key, so access events cannot be signed.', {
        nextStep: 'Unlock it again from its files, this time with its signing key file (NAME.sign.key.pem) as well.',
      });
    }
    const draft = {
      kind,
      packageId: context.packageId,
      decision: DENY_KINDS.has(kind) ? 'deny' : 'permit',
      reasons: reasons.length > 0 ? reasons : (BLOCKED_REASONS[kind] ?? []),
      rights,
      label: context.label ?? null,
      originator: context.originator ?? null,
    };
    if (!signer.reader) {
      throw new InternalError('The event signer does not name its reader, so its chain cannot be found.');
    }
    const reader = readerKey(signer.reader);
    const queued = await this.#exclusive(async () => {
      const signed = signer.sign(draft, await this.#outbox.chain(reader));
      await this.#outbox.enqueue(context.eventsUrl, signed.event, signed.chain, reader);
      return signed;
    }).catch((error) => {
      throw queueError(error);
    });
    this.#changed();
    this.#outbox.flush().catch(() => {}).finally(() => this.#changed());
    return { queued: true, id: queued.id };
  }

  /**
   * Runs `task` alone: across tabs with the Web Locks API where the
   * browser has it, else within this page only.
   */
  #exclusive(task) {
    const locks = globalThis.navigator?.locks;
    if (locks) {
      return locks.request(CHAIN_LOCK, task);
    }
    // NOTE: without Web Locks two tabs may sign with the same chain state;
    // the collector then flags a fork, and no event is lost.
    const run = this.#serial.then(task, task);
    this.#serial = run.catch(() => {});
    return run;
  }

  #changed() {
    for (const listener of this.#listeners) {
      listener();
    }
  }
}

/** Turns an outbox or signing failure into the sentence shown to the reader. */
function queueError(error) {
  if (error instanceof EventQueueError || error instanceof InternalError) {
    return error;
  }
  if (error instanceof OutboxFullError) {
    return new EventQueueError(`The access-event queue of this browser is full (${error.count} events wait to be sent), so no new event can be queued.`, {
      cause: error,
      nextStep: 'Connect to the network so the waiting events reach their collectors (see the outbox), then try again.',
    });
  }
  if (error instanceof OutboxStorageError) {
    return new EventQueueError(`The access event could not be saved in this browser's storage: ${error.message}.`, {
      cause: error,
      nextStep: 'Check that the disk is not full and that this site may store data, then try again.',
    });
  }
  if (error instanceof ValiseError) {
    return new EventQueueError(`The access event could not be signed: ${error.message}`, { cause: error, details: error.details });
  }
  return new EventQueueError(`The access event could not be queued: ${error?.message ?? error}`, { cause: error });
}
