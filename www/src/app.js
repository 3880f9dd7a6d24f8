// The portal's controller: holds the session state (configuration, verified
// trust list, unlocked identity, the package being opened) and moves between
// the screens. It talks to the viewer module only through core.js.
import { openPackage, unlockIdentity } from './core.js';
import { declaredLength, readBody } from './download.js';
import { AccessDeniedError, InternalError, KeyRequiredError, ValiseError } from './errors.js';
import { ACTIONS_AFTER_EVENT, EventReporter, rightsInForce } from './events/reporter.js';
import { forgetIdentity, listIdentities, readCommunityState, recordCommunityState, saveIdentity } from './store.js';
import { decideRenewingLease, fetchTrustList, refetchTrustList } from './trust.js';
import { noteDelivery, recordActivity } from './ui/activity.js';
import { drawDocumentScreen } from './ui/document.js';
import { showFatal } from './ui/fatal.js';
import { drawIdentityScreen, drawIdentityStatus } from './ui/identity.js';
import { drawOpenScreen } from './ui/open.js';
import { mountOutboxView } from './ui/outbox.js';
import { drawRefusedScreen } from './ui/refused.js';
import { showScreen } from './ui/screens.js';
import { decryptWithProgress, progressBar, streamPdfWithProgress } from './worker/progress.js';

export class App {
  constructor(config) {
    this.config = config;
    this.trustList = null;
    this.trustError = null;
    /** When the trust list was last fetched online (an offline copy says when). */
    this.trustFetched = null;
    this.knownState = null;
    this.identity = null;
    /** The unlocked access-event signing key, or null (see www/src/events/reporter.js). */
    this.signer = null;
    this.events = null;
    this.pending = null;
    this.closeDocument = null;
    window.addEventListener('pagehide', () => this.lock());
  }

  /** Loads the trust list, then shows the open screen or opens `?src=`. */
  async start() {
    this.events = await EventReporter.open({ signer: () => this.signer });
    mountOutboxView({ reporter: this.events });
    await this.loadTrustList();
    this.drawStatus();
    const source = new URLSearchParams(location.search).get('src');
    if (source) {
      await this.openFromUrl(source);
    } else {
      this.showOpen();
    }
    document.body.dataset.state = 'ready';
  }

  async loadTrustList() {
    try {
      await this.adoptTrustList(await fetchTrustList(this.config));
    } catch (error) {
      if (error instanceof InternalError) {
        throw error;
      }
      this.trustError = error instanceof ValiseError ? error : new ValiseError(String(error?.message ?? error));
      document.body.dataset.trust = 'error';
    }
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
    await this.adoptTrustList(refreshed);
    return true;
  }

  /** Makes a verified trust list the one packages open under, and records its version as seen. */
  async adoptTrustList({ trustList, fetched }) {
    // The version recorded before this load is what the decision point
    // compares with, so a rolled-back list is refused when a package opens.
    const knownState = await readCommunityState(trustList.summary.community);
    // The time seen is kept durably so a clock set back is detected even
    // when no package was opened since.
    await recordCommunityState(trustList.summary.community, { trustVersion: trustList.summary.version, seenAt: new Date().toISOString() });
    this.trustList = trustList;
    this.trustFetched = fetched;
    this.knownState = knownState;
  }

  drawStatus() {
    drawIdentityStatus({
      summary: this.identity?.summary ?? null,
      onLock: () => this.lock(),
      onChoose: () => this.showIdentity(),
    });
  }

  showOpen() {
    drawOpenScreen({
      identitySummary: this.identity?.summary ?? null,
      trustSummary: this.trustList?.summary ?? null,
      trustError: this.trustError,
      highestTrustVersionSeen: this.knownState?.highestTrustVersion ?? null,
      onBytes: (bytes, name) => this.open(bytes, name),
      onOpenUrl: (source) => this.openFromUrl(source),
    });
    showScreen('open');
  }

  async showIdentity() {
    drawIdentityScreen({
      remembered: await listIdentities(),
      pendingName: this.pending?.name ?? null,
      onUnlock: (request) => this.unlock(request),
      onForget: async (id) => {
        await forgetIdentity(id);
        await this.showIdentity();
      },
      onCancel: () => {
        this.pending = null;
        this.showOpen();
      },
    });
    showScreen('identity');
  }

  /** Unlocks an identity from a new key file or a remembered one, then resumes a pending open. */
  async unlock({ keyPem, signKeyPem = null, credential, passphrase, remember = false, storedId = null }) {
    if (!this.trustList) {
      throw this.trustError ?? new ValiseError('The community trust list is not loaded.');
    }
    if (storedId) {
      const stored = (await listIdentities()).find((identity) => identity.id === storedId);
      if (!stored) {
        throw new ValiseError('This identity is no longer stored on this device.');
      }
      ({ keyPem, credential } = stored);
      signKeyPem = stored.signKeyPem ?? null;
    }
    const { identity, signer } = await unlockIdentity({ keyPem, signKeyPem, passphrase, credential, trustList: this.trustList });
    this.lock();
    this.identity = identity;
    this.signer = signer;
    if (remember && !storedId) {
      const { person, name, organization } = identity.summary;
      await saveIdentity({ id: `${organization}/${person}`, name, organization, keyPem, signKeyPem, credential });
    }
    this.drawStatus();
    const pending = this.pending;
    this.pending = null;
    if (pending) {
      await this.open(pending.bytes, pending.name);
    } else {
      this.showOpen();
    }
  }

  /** Zeroizes the unlocked key and closes the open document. */
  lock() {
    // An open still decrypting is abandoned without a message.
    this.openAttempt = (this.openAttempt ?? 0) + 1;
    this.closeDocument?.();
    this.closeDocument = null;
    document.getElementById('screen-document').replaceChildren();
    delete document.body.dataset.opened;
    this.signer?.lock();
    this.signer = null;
    if (this.identity) {
      this.identity.lock();
      this.identity = null;
      this.drawStatus();
      if (document.body.dataset.screen === 'document') {
        this.showOpen();
      }
    }
  }

  async openFromUrl(source) {
    let url;
    try {
      url = new URL(source, location.href);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new ValiseError(`Only http and https addresses can be opened, not ${url.protocol}`);
      }
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) {
        throw new ValiseError(`The package at ${url} could not be downloaded (HTTP ${response.status}).`, {
          nextStep: 'Check the address with whoever gave it to you, or ask for the package file and open it as a protected package.',
        });
      }
      // An empty body has no end to show, like one of unknown size.
      const bar = progressBar(document.body, declaredLength(response) || null, 'Downloading');
      let bytes;
      try {
        bytes = await readBody(response, { onProgress: (received, total) => bar.update(received, total) });
      } catch (error) {
        throw new ValiseError(`The package at ${url} was not opened: ${error.message}.`);
      } finally {
        bar.remove();
      }
      await this.open(bytes, decodeURIComponent(url.pathname.split('/').pop() || url.host));
    } catch (error) {
      if (error instanceof ValiseError) {
        this.refuse(error, source, { activity: 'not_downloaded' });
        return;
      }
      // A fetch blocked by the portal's connect-src or by the other
      // server's CORS rules fails with no detail, so name the likely cause.
      const foreign = url && url.origin !== location.origin
        ? ` It is on another origin (${url.origin}): the portal's Content-Security-Policy (connect-src) and that server's CORS headers must both allow it. Otherwise download the package and open the file.`
        : '';
      this.refuse(new ValiseError(`The package could not be downloaded: ${error?.message ?? error}.${foreign}`), source, { activity: 'not_downloaded' });
    }
  }

  /**
   * Opens package bytes with the unlocked identity, or shows the identity
   * screen first. A later open supersedes this one: it aborts this one's
   * decryption, and this one then shows nothing, neither its document nor
   * its failure.
   */
  async open(bytes, name) {
    this.openAttempt = (this.openAttempt ?? 0) + 1;
    const attempt = this.openAttempt;
    const superseded = () => this.openAttempt !== attempt;
    delete document.body.dataset.opened;
    this.closeDocument?.();
    this.closeDocument = null;
    if (!this.trustList) {
      this.refuse(this.trustError ?? new ValiseError('The community trust list is not loaded.'), name);
      return;
    }
    let opened = null;
    try {
      const known = await readCommunityState(this.trustList.summary.community);
      if (superseded()) {
        return;
      }
      const decide = (now) =>
        openPackage(bytes, {
          identity: this.identity,
          trustList: this.trustList,
          stale: this.config.stale,
          lastSeen: known?.lastSeen ?? null,
          highestTrustVersionSeen: this.knownState?.highestTrustVersion ?? null,
          trustFetched: this.trustFetched,
          now,
        });
      // The lease counts from the last online fetch of the trust list, so a
      // list fetched again now renews it. Offline, the package is still refused.
      const renew = async () => ((await this.refreshTrustList()) && !superseded() ? this.trustFetched : null);
      opened = await decideRenewingLease(decide, renew);
      const now = new Date().toISOString();
      await recordCommunityState(this.trustList.summary.community, { trustVersion: this.trustList.summary.version, seenAt: now });
      if (superseded()) {
        return;
      }
      const streamed = await streamPdfWithProgress(opened);
      if (streamed !== null && superseded()) {
        streamed.stream.abort();
        return;
      }
      if (streamed !== null) {
        await this.showStreamedPdf(opened, streamed, name);
        return;
      }
      const plaintext = await decryptWithProgress(opened, document.body, (stream) => {
        // A later open, or locking the identity, stops this decryption.
        if (superseded()) {
          stream.abort();
        } else {
          this.closeDocument = () => stream.abort();
        }
      });
      if (superseded()) {
        plaintext.fill(0);
        return;
      }
      this.closeDocument = null;
      const metadata = opened.metadata;
      const eventContext = opened.eventContext();
      // With events required the document is shown only once its opened
      // event is durable in the outbox; reportOpened throws otherwise.
      await this.reportOpened(eventContext, metadata, name, plaintext);
      if (superseded()) {
        plaintext.fill(0);
        return;
      }
      showScreen('document');
      // Aborting tears the document screen down, also while it is still drawing.
      const view = new AbortController();
      this.closeDocument = () => view.abort();
      await drawDocumentScreen({
        metadata: { ...metadata, fileName: metadata.fileName ?? name },
        plaintext,
        onEvent: (event) => this.reportAction(eventContext, metadata, event),
        onClose: () => {
          this.closeDocument?.();
          this.closeDocument = null;
          this.showOpen();
        },
        signal: view.signal,
      });
      if (superseded() || view.signal.aborted) {
        return;
      }
      document.body.dataset.opened = metadata.packageId ?? 'yes';
    } catch (error) {
      if (superseded()) {
        // The reader has moved on; the failure of an abandoned open is not shown.
        return;
      }
      if (error instanceof KeyRequiredError) {
        this.pending = { bytes, name };
        await this.showIdentity();
        return;
      }
      if (error instanceof InternalError || !(error instanceof ValiseError)) {
        document.getElementById('screen-document').replaceChildren();
        showFatal(error);
        return;
      }
      this.refuse(error, name);
    } finally {
      opened?.close();
    }
  }

  /**
   * Shows a large PDF while it decrypts: pdf.js reads verified segments
   * through its range transport, so the first page paints before the rest
   * arrived. Resolves once every segment and the whole-plaintext digest
   * verified; on any failure tears the document down and rethrows, so the
   * caller shows the refusal.
   *
   * The `opened` event is queued only after the whole-plaintext digest
   * matched, so a package that fails later is never reported as opened.
   * Where the rights require events, the document may be shown only once
   * that event is queued, so such a package renders only after the digest,
   * as a small one does.
   */
  async showStreamedPdf(opened, { stream, finished }, name) {
    const metadata = opened.metadata;
    const eventContext = opened.eventContext();
    let closedByReader = false;
    // Aborting tears the document screen down, also while it is still drawing.
    const view = new AbortController();
    // Export is offered once the `opened` event is queued.
    let openedReported;
    const reported = new Promise((resolve) => {
      openedReported = resolve;
    });
    const close = () => {
      view.abort();
      // Zeroes the plaintext and stops the worker. An unsettled `finished` then rejects.
      stream.abort();
    };
    const closeByReader = () => {
      closedByReader = true;
      close();
    };
    this.closeDocument = closeByReader;
    try {
      if (eventContext.eventsRequired) {
        await finished;
        await this.reportOpened(eventContext, metadata, name, stream.bytes);
        openedReported();
      }
      showScreen('document');
      await drawDocumentScreen({
        metadata: { ...metadata, fileName: metadata.fileName ?? name },
        stream,
        onEvent: (event) => this.reportAction(eventContext, metadata, event),
        onClose: () => {
          this.closeDocument?.();
          this.closeDocument = null;
          this.showOpen();
        },
        signal: view.signal,
        exportAfter: reported,
      });
      if (closedByReader) {
        return;
      }
      await finished;
      // Closed, locked or replaced by another open meanwhile: the document
      // is gone, so it is not reported as opened.
      if (closedByReader) {
        return;
      }
      if (!eventContext.eventsRequired) {
        await this.reportOpened(eventContext, metadata, name, stream.bytes);
        openedReported();
      }
      document.body.dataset.opened = metadata.packageId ?? 'yes';
    } catch (error) {
      close();
      // Another document may already be opening; its own closer stays.
      if (this.closeDocument === closeByReader) {
        this.closeDocument = null;
      }
      if (!closedByReader) {
        throw error;
      }
    }
  }

  /**
   * Queues the `opened` event of a permitted package and records it in the
   * activity panel. When the rights require events and the event cannot be
   * queued, zeroes the plaintext and throws the EventQueueError, so the
   * document is refused.
   */
  async reportOpened(context, metadata, name, plaintext) {
    const event = { kind: 'opened', reasons: metadata.warnings.map((warning) => warning.code), rights: rightsInForce(metadata.rights) };
    let result = null;
    let failure = null;
    try {
      result = await this.events.report(context, event);
    } catch (error) {
      failure = error;
    }
    if (failure && (context.eventsRequired || failure instanceof InternalError)) {
      plaintext?.fill?.(0);
      throw failure;
    }
    const item = recordActivity({ type: 'opened', packageId: metadata.packageId, name });
    if (failure) {
      noteDelivery(item, { queued: false, reason: failure.message });
    } else if (result.queued) {
      noteDelivery(item, { queued: true });
    }
  }

  /**
   * Records an enforcement event (print blocked, printed, ...) in the
   * activity panel and queues its access event. Resolves once the event is
   * queued, or once the failure is noted in the panel when the rights do not
   * require events. When they do, rejects with the EventQueueError, so the
   * document screen does not start the print or the export.
   */
  async reportAction(context, metadata, event) {
    if (context.eventsRequired && ACTIONS_AFTER_EVENT.has(event.type)) {
      // The entry is drawn once the outcome is known, so the panel never
      // lists a print or an export that did not happen.
      let result;
      try {
        result = await this.events.report(context, { kind: event.type, rights: rightsInForce(metadata.rights) });
      } catch (error) {
        recordActivity({ type: 'action_refused', packageId: metadata.packageId, detail: `${event.type}: ${error.message}` });
        throw error;
      }
      const item = recordActivity({ ...event, packageId: metadata.packageId });
      if (result.queued) {
        noteDelivery(item, { queued: true });
      }
      return;
    }
    const item = recordActivity({ ...event, packageId: metadata.packageId });
    const kind = item.dataset.type;
    let result;
    try {
      result = await this.events.report(context, { kind, rights: rightsInForce(metadata.rights) });
    } catch (error) {
      noteDelivery(item, { queued: false, reason: error.message });
      if (context.eventsRequired || error instanceof InternalError) {
        throw error;
      }
      return;
    }
    if (result.queued) {
      noteDelivery(item, { queued: true });
    }
  }

  /**
   * Shows the refused screen for `error` and records it in the activity
   * panel as `activity`: `denied` for a package that was read, or
   * `not_downloaded` for one that never arrived.
   */
  refuse(error, name, { activity = 'denied' } = {}) {
    document.getElementById('screen-document').replaceChildren();
    const item = recordActivity({ type: activity, name, detail: error.message });
    // Only a denial of a verified package names a collector. A package that
    // could not be read or verified has no trustworthy rights, so nothing is
    // reported; the panel entry is all that remains.
    if (error instanceof AccessDeniedError && error.event && this.events) {
      const reasons = error.reasons.map((reason) => reason.code);
      this.events
        .report(error.event, { kind: 'denied', reasons })
        .then((result) => {
          if (result.queued) {
            noteDelivery(item, { queued: true });
          }
        })
        .catch((error) => noteDelivery(item, { queued: false, reason: error.message }));
    }
    drawRefusedScreen({
      error,
      fileName: name,
      onOpenAnother: () => this.showOpen(),
      onChangeIdentity: () => this.showIdentity(),
    });
    showScreen('refused');
  }
}
