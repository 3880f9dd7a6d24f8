// Code shared by the <valise-viewer> element and the iframe-mode page. It
// loads the configuration, the viewer module and the trust list, builds the
// unlock form, opens package bytes through the decision point and queues
// access events as the portal does. It also builds the summaries of an
// outcome that may leave the viewer (label, verdict, reason codes: never
// plaintext).
import { loadConfig } from '../config.js';
import { loadCore, openPackage, unlockIdentity } from '../core.js';
import { AccessDeniedError, InternalError, KeyMismatchError } from '../errors.js';
import { EventReporter, rightsInForce } from '../events/reporter.js';
import { readCommunityState, recordCommunityState } from '../store.js';
import { decideRenewingLease, fetchTrustList, refetchTrustList } from '../trust.js';
import { isolate } from '../bidi.js';
import { h } from '../ui/dom.js';
import { checkIdentityFiles, readIdentityFile, unlockFailureText } from '../ui/identity-file.js';

/**
 * A viewer session for one configuration: `{ config, trustList,
 * trustFetched, identity, signer, events }`. `load` resolves once the
 * module, the configuration, a verified trust list and the access-event
 * outbox of this origin are ready.
 */
export class EmbedSession {
  constructor() {
    this.config = null;
    this.trustList = null;
    this.trustFetched = null;
    this.identity = null;
    /** The unlocked access-event signing key, or null (see www/src/events/reporter.js). */
    this.signer = null;
    /** The EventReporter that signs and queues this session's access events. */
    this.events = null;
  }

  static async load(configUrl) {
    const session = new EmbedSession();
    const [config] = await Promise.all([loadConfig(configUrl), loadCore()]);
    session.config = config;
    ({ trustList: session.trustList, fetched: session.trustFetched } = await fetchTrustList(config));
    // Several elements of a page share a session, so the page gets one
    // outbox and one delivery loop. `EventReporter.open` never throws:
    // without IndexedDB, each report throws the cause.
    session.events = await EventReporter.open({ signer: () => session.signer });
    return session;
  }

  /**
   * Unlocks an identity from a key file, its credential and the passphrase,
   * with the access-event signing key file (`signKeyPem`) when given.
   */
  async unlock({ keyPem, signKeyPem = null, credential, passphrase }) {
    const { identity, signer } = await unlockIdentity({ keyPem, signKeyPem, passphrase, credential, trustList: this.trustList });
    this.lock();
    this.identity = identity;
    this.signer = signer;
    return identity.summary;
  }

  /**
   * Fetches the trust list again (`refetchTrustList`) and opens packages
   * under it from now on. Resolves to true when it replaced the current list.
   */
  async refreshTrustList() {
    const refreshed = await refetchTrustList(this.config, { current: this.trustList, fetchedBefore: this.trustFetched });
    if (refreshed === null) {
      return false;
    }
    this.trustList = refreshed.trustList;
    this.trustFetched = refreshed.fetched;
    return true;
  }

  /** Zeroizes the unlocked keys. */
  lock() {
    this.signer?.lock();
    this.signer = null;
    this.identity?.lock();
    this.identity = null;
  }

  /**
   * Opens package bytes. Resolves to `{ metadata, plaintext, eventContext,
   * opened }` on a permit, once the `opened` access event is queued where
   * the rights require it. `opened` is the outcome of that event: `{ queued
   * }` or `{ queued: false, reason }`. Throws the errors of `openPackage`,
   * and the EventQueueError when the rights require events and the event
   * cannot be queued; the plaintext is then zeroed. A denial of a verified
   * package queues its `denied` event before the error is thrown.
   */
  async open(bytes) {
    const community = this.trustList.summary.community;
    const known = await readCommunityState(community);
    let now;
    const decide = (at) => {
      now = at;
      return openPackage(bytes, {
        identity: this.identity,
        trustList: this.trustList,
        stale: this.config.stale,
        lastSeen: known?.lastSeen ?? null,
        highestTrustVersionSeen: known?.highestTrustVersion ?? null,
        trustFetched: this.trustFetched,
        now,
      });
    };
    // The lease counts from the last online fetch of the trust list, so a
    // list fetched again now renews it. Offline, the package is still refused.
    const renew = async () => ((await this.refreshTrustList()) ? this.trustFetched : null);
    let opened;
    try {
      opened = await decideRenewingLease(decide, renew);
    } catch (error) {
      await this.#reportDenied(error);
      throw error;
    }
    try {
      await recordCommunityState(community, { trustVersion: this.trustList.summary.version, seenAt: now.toISOString() });
      const eventContext = opened.eventContext();
      const metadata = opened.metadata;
      const plaintext = await opened.decrypt();
      const event = { kind: 'opened', reasons: metadata.warnings.map((warning) => warning.code), rights: rightsInForce(metadata.rights) };
      let outcome;
      try {
        outcome = await this.events.report(eventContext, event);
      } catch (error) {
        if (eventContext.eventsRequired || error instanceof InternalError) {
          plaintext.fill(0);
          throw error;
        }
        outcome = { queued: false, reason: error.message };
      }
      return { metadata, plaintext, eventContext, opened: outcome };
    } finally {
      opened.close();
    }
  }

  /**
   * Queues the access event of an enforcement event (`printed`,
   * `copy_blocked`, ...). Resolves to `{ queued }`, or to `{ queued: false,
   * reason }` when it failed and the rights do not require events. When they
   * do, rejects with the EventQueueError, so a print or an export does not
   * go ahead.
   */
  async reportAction(eventContext, metadata, kind) {
    try {
      return await this.events.report(eventContext, { kind, rights: rightsInForce(metadata.rights) });
    } catch (error) {
      if (eventContext.eventsRequired || error instanceof InternalError) {
        throw error;
      }
      return { queued: false, reason: error.message };
    }
  }

  /**
   * Queues the `denied` event of a refused package whose signatures
   * verified. A package that could not be read or verified has no
   * trustworthy rights, so nothing is reported. A failure to queue is
   * ignored here: the refusal is shown either way.
   */
  async #reportDenied(error) {
    if (!(error instanceof AccessDeniedError) || !error.event) {
      return;
    }
    const reasons = error.reasons.map((reason) => reason.code);
    await this.events.report(error.event, { kind: 'denied', reasons }).catch(() => {});
  }
}

/** Returns the part of an opened package's metadata that may leave the viewer. */
export function openSummary(metadata) {
  return {
    packageId: metadata.packageId,
    label: metadata.label ? { tlp: metadata.label.tlp, marking: metadata.label.marking ?? null } : null,
    mediaType: metadata.mediaType,
    fileName: metadata.fileName ?? null,
    originator: { org: metadata.originator?.org ?? null, author: metadata.originator?.author ?? null },
    rights: { ...metadata.rights },
    warnings: (metadata.warnings ?? []).map(reasonSummary),
  };
}

/** Returns a reason as `{ code, message, nextStep }`. */
export function reasonSummary(reason) {
  return { code: reason.code, message: reason.message, nextStep: reason.nextStep ?? reason.next_step ?? '' };
}

/** Tells whether an error is a refusal (the decision point denied, or the key does not fit). */
export function isDenial(error) {
  return error instanceof AccessDeniedError || error instanceof KeyMismatchError;
}

/** Returns the part of an error that may leave the viewer: `{ name, message, reasons }`. */
export function errorSummary(error) {
  return {
    name: error?.name ?? 'Error',
    message: String(error?.message ?? error),
    reasons: (error?.reasons ?? []).map(reasonSummary),
  };
}

/**
 * Builds the unlock form: `note` (a string or an array of strings and
 * nodes) above the fields, then the key file, credential file, the optional
 * access-event signing key file and the passphrase, or the passphrase only
 * for a `remembered` identity (a stored record with its encrypted `keyPem`,
 * `credential` and `signKeyPem`). Calls `onUnlock({ keyPem, signKeyPem,
 * credential, passphrase })` on submit and shows what it throws.
 */
export function unlockForm({ onUnlock, note = null, remembered = null }) {
  const keyInput = h('input', { type: 'file', name: 'key', accept: '.pem,.key', required: !remembered });
  const credentialInput = h('input', { type: 'file', name: 'credential', accept: '.jws,.json,.txt', required: !remembered });
  const signKeyInput = h('input', { type: 'file', name: 'sign-key', accept: '.pem,.key' });
  const passphraseInput = h('input', { type: 'password', name: 'passphrase', autocomplete: 'current-password', required: true });
  const message = h('p', { className: 'valise-unlock-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { className: 'valise-unlock', 'aria-label': 'Unlock your identity' },
    note ? h('p', {}, note) : null,
    remembered ? h('p', { className: 'valise-unlock-remembered' }, 'Unlock ', isolate(remembered.name), ' (', isolate(remembered.organization), '), remembered on this device.') : null,
    remembered ? null : h('label', {}, 'Key file ', keyInput),
    remembered ? null : h('label', {}, 'Credential ', credentialInput),
    remembered ? null : h('label', {}, 'Signing key for access events (NAME.sign.key.pem, optional) ', signKeyInput),
    h('label', {}, 'Passphrase ', passphraseInput),
    h('button', { type: 'submit' }, 'Unlock and open'),
    message,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    message.hidden = true;
    const passphrase = passphraseInput.value;
    passphraseInput.value = '';
    try {
      const [keyPem, credential, signKeyPem] = remembered
        ? [remembered.keyPem, remembered.credential, remembered.signKeyPem ?? null]
        : await Promise.all([
            readIdentityFile(keyInput.files[0], 'key file'),
            readIdentityFile(credentialInput.files[0], 'credential'),
            signKeyInput.files[0] ? readIdentityFile(signKeyInput.files[0], 'signing key file') : null,
          ]);
      if (!remembered) {
        checkIdentityFiles({ keyFileName: keyInput.files[0].name, credential });
      }
      await onUnlock({ keyPem, signKeyPem, credential, passphrase });
    } catch (error) {
      message.textContent = unlockFailureText(error);
      message.hidden = false;
    }
  });
  return form;
}
