// Code shared by the <valise-viewer> element and the iframe-mode page: loading
// the configuration, the viewer module and the trust list; the unlock form;
// opening package bytes through the decision point; and the summaries of an
// outcome that may leave the viewer (label, verdict, reason codes: never
// plaintext).
import { loadConfig } from '../config.js';
import { Identity, TrustList, loadCore, openPackage } from '../core.js';
import { AccessDeniedError, KeyMismatchError, ValiseError } from '../errors.js';
import { readCommunityState, recordCommunityState } from '../store.js';
import { trustFetchedAt } from '../offline.js';
import { h } from '../ui/dom.js';

/**
 * A viewer session for one configuration: `{ config, trustList,
 * trustFetched, identity }`. `load` resolves once the module, the
 * configuration and a verified trust list are ready.
 */
export class EmbedSession {
  constructor() {
    this.config = null;
    this.trustList = null;
    this.trustFetched = null;
    this.identity = null;
  }

  static async load(configUrl) {
    const session = new EmbedSession();
    const [config] = await Promise.all([loadConfig(configUrl), loadCore()]);
    session.config = config;
    const response = await fetch(config.trustListUrl, { cache: 'no-cache', credentials: 'same-origin' });
    if (!response.ok) {
      throw new ValiseError(`The community trust list could not be loaded from ${config.trustListUrl} (HTTP ${response.status}).`);
    }
    const text = await response.text();
    session.trustFetched = trustFetchedAt(response);
    session.trustList = TrustList.verify(text, { rootKeyFingerprints: config.rootKeyFingerprints });
    return session;
  }

  /** Unlocks an identity from a key file, its credential and the passphrase. */
  async unlock({ keyPem, credential, passphrase }) {
    const identity = await Identity.unlock({ keyPem, passphrase, credential, trustList: this.trustList });
    this.lock();
    this.identity = identity;
    return identity.summary;
  }

  /** Zeroizes the unlocked key. */
  lock() {
    this.identity?.lock();
    this.identity = null;
  }

  /**
   * Opens package bytes. Resolves to `{ metadata, plaintext }` on a permit,
   * and throws the errors of `openPackage` otherwise.
   */
  async open(bytes) {
    const community = this.trustList.summary.community;
    const known = await readCommunityState(community);
    const now = new Date();
    const opened = openPackage(bytes, {
      identity: this.identity,
      trustList: this.trustList,
      stale: this.config.stale,
      lastSeen: known?.lastSeen ?? null,
      highestTrustVersionSeen: known?.highestTrustVersion ?? null,
      trustFetched: this.trustFetched,
      now,
    });
    try {
      // TODO: queue access events from the embedded viewer too. Until then
      // it shows no package whose rights require them.
      if (opened.metadata.rights.eventsRequired) {
        throw new ValiseError('This package may only be shown by a viewer that reports access to its originator, which the embedded viewer does not do yet. Open it in the Valise portal.');
      }
      await recordCommunityState(community, { trustVersion: this.trustList.summary.version, seenAt: now.toISOString() });
      const plaintext = await opened.decrypt();
      return { metadata: opened.metadata, plaintext };
    } finally {
      opened.close();
    }
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
 * Builds the unlock form: key file, credential file and passphrase, or the
 * passphrase only for a `remembered` identity (a stored record with its
 * encrypted `keyPem` and `credential`). Calls `onUnlock({ keyPem,
 * credential, passphrase })` on submit and shows what it throws.
 */
export function unlockForm({ onUnlock, note = null, remembered = null }) {
  const keyInput = h('input', { type: 'file', name: 'key', accept: '.pem,.key', required: !remembered });
  const credentialInput = h('input', { type: 'file', name: 'credential', accept: '.jws,.json,.txt', required: !remembered });
  const passphraseInput = h('input', { type: 'password', name: 'passphrase', autocomplete: 'current-password', required: true });
  const message = h('p', { className: 'valise-unlock-error', role: 'alert', hidden: true });
  const form = h(
    'form',
    { className: 'valise-unlock', 'aria-label': 'Unlock your identity' },
    note ? h('p', {}, note) : null,
    remembered ? h('p', { className: 'valise-unlock-remembered' }, `Unlock ${remembered.name} (${remembered.organization}), remembered on this device.`) : null,
    remembered ? null : h('label', {}, 'Key file ', keyInput),
    remembered ? null : h('label', {}, 'Credential ', credentialInput),
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
      const [keyPem, credential] = remembered
        ? [remembered.keyPem, remembered.credential]
        : await Promise.all([keyInput.files[0].text(), credentialInput.files[0].text()]);
      await onUnlock({ keyPem, credential, passphrase });
    } catch (error) {
      message.textContent = String(error?.message ?? error);
      message.hidden = false;
    }
  });
  return form;
}
