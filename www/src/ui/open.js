// The open screen: a file picker, a drop zone, the demo packages when the
// portal serves a demo community, and the `?src=URL` parameter handled by
// the controller. Every path ends in `onBytes(bytes, name)` or
// `onOpenUrl(src)`.
import { isolate } from '../bidi.js';
import { tlpBanner } from '../tlp.js';
import { h, replaceChildren } from './dom.js';

/**
 * Index of the demo packages, written by `npm start` next to them. A member's
 * own deployment has no such file, and then the list is not shown.
 */
export const DEMO_INDEX_URL = 'demo/index.json';

/** Maximum number of demo index entries shown; the demo has far fewer. */
const MAX_DEMO_PACKAGES = 50;

let demoIndex = null;

/**
 * Draws the open screen. `onOpenUrl(src)`, when given, opens a demo package
 * in this page, so an unlocked identity stays unlocked; without it a demo
 * link navigates to `?src=`. `highestTrustVersionSeen` is the highest trust
 * list version this browser recorded before this load, or null.
 */
export function drawOpenScreen({ identitySummary, trustSummary, trustError, highestTrustVersionSeen = null, onBytes, onOpenUrl }) {
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
        ? ['Opening as ', isolate(identitySummary.name), ' (', isolate(identitySummary.organization), ').']
        : 'No identity is unlocked yet: you will be asked for one when a package needs it.',
    ),
    trustError
      ? h('p', { className: 'trust-error', role: 'alert', id: 'trust-error' }, `${trustError.message} Packages cannot be checked until the community trust list loads: tell the operator of this portal.`)
      : null,
    trustSummary
      ? h('p', { className: 'hint' }, 'Community: ', isolate(trustSummary.communityName ?? trustSummary.community), `, trust list version ${trustSummary.version}.`)
      : null,
    // The decision point rejects every package under a list older than one
    // this browser saw (trust_list_rollback), so the warning comes here once
    // instead of as a rejection per package.
    trustSummary && highestTrustVersionSeen !== null && highestTrustVersionSeen > trustSummary.version
      ? h(
          'p',
          { className: 'trust-error', role: 'alert', id: 'trust-rollback' },
          `This portal serves version ${trustSummary.version} of the community trust list, but this browser has already seen version ${highestTrustVersionSeen}. ` +
            'An older list may hide revoked keys, so every package will be refused. Tell the operator of this portal.',
        )
      : null,
    dropZone,
    h('div', { id: 'demo-packages', hidden: true }),
  );
  // The list is an extra for demo portals: a failure there leaves the open
  // screen working and is only logged.
  showDemoPackages(section.querySelector('#demo-packages'), onOpenUrl).catch((error) => console.warn('The demo package list could not be shown:', error));
}

/**
 * Fetches the demo index once per page load. Resolves to its list of
 * packages, or to an empty list when the portal serves none.
 */
function loadDemoIndex() {
  demoIndex ??= fetch(DEMO_INDEX_URL, { cache: 'no-cache', credentials: 'same-origin' })
    .then((response) => (response.ok ? response.json() : { packages: [] }))
    .then((index) => (Array.isArray(index?.packages) ? index.packages : []))
    .catch(() => []);
  return demoIndex;
}

/** Fills `container` with the demo packages, each a `?src=` link with its label. */
async function showDemoPackages(container, onOpenUrl) {
  const packages = (await loadDemoIndex()).filter(isDemoEntry).slice(0, MAX_DEMO_PACKAGES);
  if (packages.length === 0 || !container.isConnected) {
    return;
  }
  const items = packages.map((entry) => {
    const src = `demo/${entry.path}`;
    const link = h('a', { href: `?src=${encodeURIComponent(src)}`, className: 'demo-package-link' }, isolate(entry.title ?? entry.file));
    if (onOpenUrl) {
      link.addEventListener('click', (event) => {
        // A plain click opens in this page; a modified click keeps the
        // browser's behaviour (a new tab or window).
        if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) {
          return;
        }
        event.preventDefault();
        onOpenUrl(src);
      });
    }
    const { text, className } = tlpBanner(labelValue(entry.label));
    return h(
      'li',
      { 'data-package': entry.file },
      link,
      ' ',
      h('span', { className: `tlp-chip ${className}` }, text),
      entry.marking ? h('span', { className: 'tlp-chip marking' }, isolate(entry.marking)) : null,
      entry.summary ? h('span', { className: 'hint demo-package-summary' }, isolate(entry.summary)) : null,
    );
  });
  replaceChildren(
    container,
    h('h3', { id: 'demo-packages-heading' }, 'Demo packages'),
    h('p', { className: 'hint' }, 'This portal serves a demo community. Each package opens with the identity you unlock; some are refused on purpose.'),
    h('ul', { className: 'demo-packages', 'aria-labelledby': 'demo-packages-heading' }, items),
  );
  container.hidden = false;
}

/** Accepts an index entry whose path stays inside the demo packages folder. */
function isDemoEntry(entry) {
  return (
    typeof entry?.file === 'string' &&
    typeof entry.path === 'string' &&
    /^packages\/[A-Za-z0-9._-]+\.tdf$/.test(entry.path) &&
    typeof entry.label === 'string'
  );
}

/** Turns "TLP:AMBER+STRICT" into the label value `{ tlp: "AMBER+STRICT" }`. */
function labelValue(text) {
  return { tlp: text.replace(/^TLP:/, '') };
}

/** Counts the files picked or dropped, so only the latest one opens. */
let picks = 0;

/**
 * Reads a picked or dropped file and hands its bytes on, unless another
 * file was picked while it was read. A large file takes longer to read
 * than a small one picked after it, and the reader expects the later pick.
 */
async function readFile(file, onBytes) {
  if (!file) {
    return;
  }
  picks += 1;
  const pick = picks;
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (pick !== picks) {
    return;
  }
  onBytes(bytes, file.name);
}
