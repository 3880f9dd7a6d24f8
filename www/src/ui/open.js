// The open screen: a file picker, a drop zone, and the `?src=URL` parameter
// handled by the controller. Every path ends in `onBytes(bytes, name)`.
import { h, replaceChildren } from './dom.js';

/** Draws the open screen. */
export function drawOpenScreen({ identitySummary, trustSummary, trustError, onBytes }) {
  const section = document.getElementById('screen-open');
  const input = h('input', {
    type: 'file',
    id: 'package-file',
    accept: '.tdf,.zip,application/zip',
    'aria-describedby': 'package-file-hint',
    onChange: () => readFile(input.files?.[0], onBytes),
  });
  const dropZone = h(
    'div',
    { className: 'drop-zone', id: 'drop-zone' },
    h('p', {}, 'Drop a protected package (.tdf) here, or choose it:'),
    h('label', { for: 'package-file' }, 'Protected package'),
    input,
    h('p', { className: 'hint', id: 'package-file-hint' }, 'The file is decrypted on this device only; nothing is uploaded.'),
  );
  dropZone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropZone.classList.add('dragging');
  });
  dropZone.addEventListener('dragleave', () => dropZone.classList.remove('dragging'));
  dropZone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropZone.classList.remove('dragging');
    readFile(event.dataTransfer?.files?.[0], onBytes);
  });

  replaceChildren(
    section,
    h('h2', { id: 'open-heading' }, 'Open a protected report'),
    h(
      'p',
      {},
      identitySummary
        ? `Opening as ${identitySummary.name} (${identitySummary.organization}).`
        : 'No identity is unlocked yet: you will be asked for one when a package needs it.',
    ),
    trustError
      ? h('p', { className: 'trust-error', role: 'alert', id: 'trust-error' }, `${trustError.message} Packages cannot be checked until the community trust list loads: tell the operator of this portal.`)
      : null,
    trustSummary ? h('p', { className: 'hint' }, `Community: ${trustSummary.communityName ?? trustSummary.community}, trust list version ${trustSummary.version}.`) : null,
    dropZone,
  );
}

async function readFile(file, onBytes) {
  if (!file) {
    return;
  }
  onBytes(new Uint8Array(await file.arrayBuffer()), file.name);
}
