// The script of the example intranet page: embeds the viewer element and the
// portal's iframe mode, and shows what each reports back.
import '../src/embed/define.js';

const params = new URLSearchParams(location.search);
const portal = new URL(params.get('portal') ?? '../', location.href);
const viewer = document.getElementById('viewer');
const frame = document.getElementById('frame');
const outcome = document.getElementById('frame-outcome');

for (const type of ['valise-open', 'valise-denied', 'valise-error']) {
  viewer.addEventListener(type, (event) => {
    viewer.dataset.outcome = type;
    document.dispatchEvent(new CustomEvent('intranet-log', { detail: { type, detail: event.detail } }));
  });
}
if (params.get('package')) {
  viewer.setAttribute('src', new URL(params.get('package'), location.href).href);
}

frame.src = new URL('frame.html', portal).href;
let requests = 0;

window.addEventListener('message', (event) => {
  // Only messages from the portal's frame are read.
  if (event.origin !== portal.origin || event.source !== frame.contentWindow) {
    return;
  }
  const message = event.data ?? {};
  if (message.type === 'valise:ready') {
    frame.dataset.ready = 'true';
  } else if (message.type === 'valise:status' && message.state === 'identity-required') {
    outcome.textContent = 'Unlock your identity in the viewer below.';
  } else if (message.type === 'valise:result') {
    const label = message.label ? `TLP:${message.label.tlp}` : 'unlabelled';
    outcome.textContent = message.verdict === 'permit'
      ? `Opened (${label}).`
      : `Refused: ${message.reasons.map((reason) => reason.code).join(', ')}.`;
  } else if (message.type === 'valise:error') {
    outcome.textContent = `The viewer reported an error: ${message.error.message}`;
  }
});

/** Sends package bytes to the frame, transferring the buffer. */
export function sendToFrame(buffer, name) {
  requests += 1;
  const message = { type: 'valise:open', requestId: `request-${requests}`, bytes: buffer, name };
  // An identity reference (organization/person) lets the frame offer an
  // identity remembered on the portal; the reader still types the passphrase there.
  if (params.get('identity')) {
    message.identity = params.get('identity');
  }
  frame.contentWindow.postMessage(message, portal.origin, [buffer]);
}

document.getElementById('frame-file').addEventListener('change', async (event) => {
  const file = event.target.files?.[0];
  if (file) {
    sendToFrame(await file.arrayBuffer(), file.name);
  }
});
