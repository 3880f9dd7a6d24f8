// The <valise-viewer> custom element: opens a protected package inside a
// page of the member's own site. The element runs in the host page, so the
// host can see what it draws; a host that must not see the plaintext uses
// the iframe mode instead (frame.html, docs/embedding.md).
//
// Attributes:
//   src     URL of the package to open (fetched with the page's credentials
//           for the same origin only).
//   config  URL of the viewer configuration (config.json); default
//           "config.json" next to the page.
//
// Events (bubbling, composed CustomEvents; their `detail` never holds
// plaintext):
//   valise-open    { packageId, label, mediaType, fileName, originator, rights, warnings }
//   valise-denied  { packageId, message, reasons: [{ code, message, nextStep }] }
//   valise-error   { name, message, reasons }
import { isolate, revealBidi, revealBidiInText } from '../bidi.js';
import { readBody } from '../download.js';
import { tlpBanner } from '../tlp.js';
import { h } from '../ui/dom.js';
import { exportFile } from '../ui/export.js';
import { megabytes } from '../worker/progress.js';
import { EmbedSession, errorSummary, isDenial, openSummary, unlockForm } from './session.js';

const sessions = new Map();

/** One session per configuration URL, shared by the elements of a page. */
function sessionFor(configUrl) {
  if (!sessions.has(configUrl)) {
    const loading = EmbedSession.load(configUrl);
    loading.catch(() => sessions.delete(configUrl));
    sessions.set(configUrl, loading);
  }
  return sessions.get(configUrl);
}

export class ValiseViewerElement extends HTMLElement {
  static observedAttributes = ['src', 'config'];

  #generation = 0;
  #teardown = null;
  #pending = null;

  connectedCallback() {
    this.#start();
  }

  disconnectedCallback() {
    this.#generation += 1;
    this.#clear();
  }

  attributeChangedCallback(name, previous, value) {
    if (this.isConnected && previous !== value) {
      this.#start();
    }
  }

  /** The configuration URL, resolved against the page. */
  get configUrl() {
    return new URL(this.getAttribute('config') ?? 'config.json', document.baseURI).href;
  }

  /**
   * Opens package bytes given by the host page (for example from a file
   * input). Resolves when the outcome event was dispatched.
   */
  async open(bytes, name = 'package') {
    const generation = ++this.#generation;
    await this.#openBytes(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes), name, generation);
  }

  /** Zeroizes the unlocked key of this element's configuration and closes the document. */
  async lock() {
    (await sessionFor(this.configUrl)).lock();
    this.#clear();
  }

  async #start() {
    const generation = ++this.#generation;
    const src = this.getAttribute('src');
    if (!src) {
      return;
    }
    this.#status('Loading the protected report…');
    let bytes;
    try {
      const url = new URL(src, document.baseURI);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new Error(`Only http and https addresses can be opened, not ${url.protocol}`);
      }
      const response = await fetch(url, { credentials: 'same-origin' });
      if (!response.ok) {
        throw new Error(`The package at ${url} could not be downloaded (HTTP ${response.status}).`);
      }
      bytes = await readBody(response, {
        onProgress: (received, total) => {
          if (generation === this.#generation) {
            this.#updateStatus(`Loading the protected report… ${megabytes(received)}${total === null ? '' : ` of ${megabytes(total)}`}`);
          }
        },
      }).catch((error) => {
        throw new Error(`The package at ${url} was not opened: ${error.message}.`);
      });
    } catch (error) {
      if (generation === this.#generation) this.#fail(error);
      return;
    }
    if (generation === this.#generation) {
      await this.#openBytes(bytes, decodeURIComponent(src.split('/').pop() || 'package'), generation);
    }
  }

  async #openBytes(bytes, name, generation) {
    let session;
    try {
      session = await sessionFor(this.configUrl);
    } catch (error) {
      if (generation === this.#generation) this.#fail(error);
      return;
    }
    if (generation !== this.#generation) {
      return;
    }
    if (!session.identity) {
      this.#pending = { bytes, name, generation };
      this.#clear();
      this.append(
        unlockForm({
          note: ['Unlock your identity to open ', isolate(name), '.'],
          onUnlock: async (request) => {
            await session.unlock(request);
            const pending = this.#pending;
            this.#pending = null;
            if (pending && pending.generation === this.#generation) {
              await this.#openBytes(pending.bytes, pending.name, pending.generation);
            }
          },
        }),
      );
      return;
    }
    try {
      const { metadata, plaintext, eventContext } = await session.open(bytes);
      if (generation !== this.#generation) {
        plaintext.fill(0);
        return;
      }
      await this.#draw({ metadata, plaintext, name, session, eventContext });
      this.#emit('valise-open', openSummary(metadata));
    } catch (error) {
      if (generation !== this.#generation) {
        return;
      }
      if (isDenial(error)) {
        this.#clear();
        const summary = errorSummary(error);
        this.append(
          h(
            'div',
            { className: 'valise-refused', role: 'alert' },
            h('p', {}, isolate(name), ' cannot be opened.'),
            // Reasons quote names from the package and the trust list.
            h('ul', {}, summary.reasons.map((reason) => h('li', { 'data-code': reason.code }, isolate(`${reason.message} ${reason.nextStep}`)))),
          ),
        );
        this.#emit('valise-denied', { packageId: null, message: summary.message, reasons: summary.reasons });
      } else {
        this.#fail(error);
      }
    }
  }

  /**
   * Draws an opened document under enforcement, whose events are queued as
   * access events. A print or an export whose event the rights require
   * waits for it. When it cannot be queued, the element shows why.
   */
  async #draw({ metadata, plaintext, name, session, eventContext }) {
    this.#clear();
    const banner = tlpBanner(metadata.label);
    const content = h('div', { className: 'valise-viewer-content', 'aria-label': revealBidi(metadata.fileName ?? name) });
    const refusal = h('p', { className: 'valise-action-refused', role: 'alert', hidden: true });
    // The watermark names the reader and the organization.
    const watermark = revealBidi(metadata.watermark ?? null);
    this.append(
      h('p', { className: `tlp-banner ${banner.className}`, 'data-position': 'top' }, banner.text),
      refusal,
      content,
      h('p', { className: `tlp-banner ${banner.className}`, 'data-position': 'bottom' }, banner.text),
    );
    const showRefusal = (message) => {
      refusal.textContent = message;
      refusal.hidden = false;
    };
    let closed = false;
    const queueEvent = (kind) => session.reportAction(eventContext, metadata, kind);
    // Attempts and findings are reported without waiting, and a failure to
    // queue them stops nothing.
    const report = (kind) => {
      queueEvent(kind).catch(() => {});
    };
    const [renderModule, enforceModule] = await Promise.all([import('../render/index.js'), import('../enforce/index.js')]);
    const enforcement = enforceModule.enforce({ root: content, rights: metadata.rights, watermark, onEvent: report, queueEvent, onRefused: showRefusal });
    const rendered = await renderModule.render(content, {
      bytes: plaintext,
      mediaType: metadata.mediaType,
      fileName: metadata.fileName ?? name,
      rights: metadata.rights,
      watermark,
      // exportFile queues `exported` itself before the download starts.
      onEvent: (kind) => {
        if (kind !== 'exported') report(kind);
      },
      onExport: (file) => exportFile(file, { queueEvent, showRefusal, isClosed: () => closed }),
    });
    if (rendered?.kind === 'stix' || rendered?.kind === 'misp') {
      revealBidiInText(content.querySelector('.valise-render'));
    }
    this.#teardown = () => {
      closed = true;
      rendered.destroy();
      enforcement.release();
      plaintext.fill(0);
    };
  }

  #status(text) {
    this.#clear();
    this.append(h('p', { className: 'valise-status', role: 'status' }, text));
  }

  /** Changes the text of the status line in place, or shows one. */
  #updateStatus(text) {
    const line = this.querySelector(':scope > .valise-status');
    if (line) {
      line.textContent = text;
    } else {
      this.#status(text);
    }
  }

  #fail(error) {
    this.#clear();
    const summary = errorSummary(error);
    this.append(h('p', { className: 'valise-error', role: 'alert' }, summary.message));
    this.#emit('valise-error', summary);
  }

  #clear() {
    this.#teardown?.();
    this.#teardown = null;
    this.replaceChildren();
  }

  #emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}
