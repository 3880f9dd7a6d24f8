// The iframe-mode page: a host page on an allowed origin sends package bytes
// with postMessage; this page unlocks the reader's identity itself, opens
// and shows the package on the portal's own origin, and replies with the
// label, the verdict and the reason codes only. Messages from any other
// origin are ignored and noted in the activity panel.
import { isolate } from '../bidi.js';
import { noteDelivery, recordActivity } from '../ui/activity.js';
import { drawDocumentScreen } from '../ui/document.js';
import { installGlobalErrorHandlers, showFatal } from '../ui/fatal.js';
import { registerServiceWorker } from '../offline.js';
import { listIdentities } from '../store.js';
import { EmbedSession, errorSummary, isDenial, openSummary, unlockForm } from '../embed/session.js';
import { ACTIONS_AFTER_EVENT } from '../events/reporter.js';
import { PROTOCOL_VERSION, parseOpenRequest } from './protocol.js';

installGlobalErrorHandlers();

const status = document.getElementById('frame-status');
const unlockArea = document.getElementById('frame-unlock');
const documentScreen = document.getElementById('screen-document');
let closeDocument = null;

/** Shows a status line; its parts are strings and nodes such as `isolate(name)`. */
function showStatus(...parts) {
  status.replaceChildren(...parts.filter((part) => part !== null));
  status.hidden = false;
}

/** Adds to an activity entry what became of its access event, when the package names a collector. */
function noteOutcome(item, outcome) {
  if (outcome.queued) {
    noteDelivery(item, { queued: true });
  } else if (outcome.reason) {
    noteDelivery(item, { queued: false, reason: outcome.reason });
  }
}

/**
 * Records an enforcement event in the activity panel and queues its access
 * event. Rejects when the rights require the event and it cannot be queued,
 * so the document screen does not start the print or the export. The panel
 * then lists the refusal of a print or an export in place of the action.
 */
async function reportAction(session, eventContext, metadata, event) {
  let outcome;
  try {
    outcome = await session.reportAction(eventContext, metadata, event.type);
  } catch (error) {
    if (eventContext.eventsRequired && ACTIONS_AFTER_EVENT.has(event.type)) {
      recordActivity({ type: 'action_refused', packageId: metadata.packageId, detail: `${event.type}: ${error.message}` });
    } else {
      noteDelivery(recordActivity({ ...event, packageId: metadata.packageId }), { queued: false, reason: error.message });
    }
    throw error;
  }
  noteOutcome(recordActivity({ ...event, packageId: metadata.packageId }), outcome);
}

/** Sends a message to the host, only at the origin its request came from. */
function reply(origin, message) {
  window.parent.postMessage(message, origin);
}

async function boot() {
  const session = await EmbedSession.load(new URL('../../config.json', import.meta.url));
  const allowed = new Set(session.config.embed.allowedOrigins);
  let pending = null;

  const openRequest = async ({ origin, requestId, bytes, name, identity }) => {
    closeDocument?.();
    closeDocument = null;
    documentScreen.hidden = true;
    if (!session.identity) {
      pending = { origin, requestId, bytes, name };
      showStatus('Unlock your identity to open ', isolate(name), '.');
      // The host's identity reference only picks a remembered identity: the
      // passphrase is still typed here, never sent by the host.
      const remembered = identity ? (await listIdentities()).find((stored) => stored.id === identity) ?? null : null;
      unlockArea.replaceChildren(
        unlockForm({
          remembered,
          onUnlock: async (request) => {
            await session.unlock(request);
            unlockArea.replaceChildren();
            const next = pending;
            pending = null;
            if (next) await openRequest(next);
          },
        }),
      );
      reply(origin, { type: 'valise:status', requestId, state: 'identity-required' });
      return;
    }
    try {
      const { metadata, plaintext, eventContext, opened } = await session.open(bytes);
      status.hidden = true;
      documentScreen.hidden = false;
      noteOutcome(recordActivity({ type: 'opened', packageId: metadata.packageId, name }), opened);
      // Aborting tears the document screen down, also while it is still drawing.
      const view = new AbortController();
      closeDocument = () => view.abort();
      await drawDocumentScreen({
        signal: view.signal,
        metadata: { ...metadata, fileName: metadata.fileName ?? name },
        plaintext,
        onEvent: (event) => reportAction(session, eventContext, metadata, event),
        onClose: () => {
          closeDocument?.();
          closeDocument = null;
          documentScreen.hidden = true;
          showStatus('The document is closed.');
        },
      });
      document.body.dataset.opened = metadata.packageId;
      const summary = openSummary(metadata);
      reply(origin, { type: 'valise:result', requestId, verdict: 'permit', packageId: summary.packageId, label: summary.label, mediaType: summary.mediaType, reasons: summary.warnings });
    } catch (error) {
      const summary = errorSummary(error);
      if (isDenial(error)) {
        recordActivity({ type: 'denied', name, detail: summary.message });
        showStatus(isolate(name), ' cannot be opened: ', isolate(summary.reasons.map((reason) => reason.message).join(' ') || summary.message));
        reply(origin, { type: 'valise:result', requestId, verdict: 'deny', packageId: null, label: null, mediaType: null, reasons: summary.reasons });
      } else {
        showStatus(isolate(name), ' cannot be opened: ', isolate(summary.message));
        reply(origin, { type: 'valise:error', requestId, error: { name: summary.name, message: summary.message } });
      }
    }
  };

  window.addEventListener('message', (event) => {
    if (!allowed.has(event.origin) || event.source !== window.parent) {
      recordActivity({ type: 'message_refused', detail: `a message from ${event.origin || 'an unknown origin'}, which is not allowed to use this viewer, was ignored` });
      return;
    }
    let request;
    try {
      request = parseOpenRequest(event.data);
    } catch (error) {
      recordActivity({ type: 'message_refused', detail: `a message from ${event.origin} was ignored: ${error.message}` });
      reply(event.origin, { type: 'valise:error', requestId: String(event.data?.requestId ?? ''), error: { name: 'ProtocolError', message: error.message } });
      return;
    }
    openRequest({ origin: event.origin, ...request }).catch(showFatal);
  });

  showStatus('Ready. The page that embeds this viewer can send a protected package.');
  document.body.dataset.state = 'ready';
  for (const origin of allowed) {
    reply(origin, { type: 'valise:ready', protocol: PROTOCOL_VERSION });
  }
}

boot().catch((error) => {
  showFatal(error);
});
registerServiceWorker().catch(() => {});
