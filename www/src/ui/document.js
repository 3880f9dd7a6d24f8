// The document screen: the label banner at top and bottom, who sent the
// package and what was verified, the effective rights with an honest mark of
// how each is enforced, then the content drawn by the renderers, with the
// enforcement of print, copy, export and watermark around it.
import { isolate, revealBidi, revealBidiInText } from '../bidi.js';
import { tlpBanner } from '../tlp.js';
import { CONTROL_KINDS, formatTime, rightsRows } from '../rights.js';
import { h, replaceChildren } from './dom.js';
import { exportFile } from './export.js';

/**
 * Draws the document screen for an opened package and renders its
 * plaintext, or a PDF's StreamedPlaintext (`stream`) while it decrypts.
 * `onEvent(event)` receives enforcement events and returns a Promise that
 * resolves once the event is recorded as the rights demand, or rejects
 * with the reason it could not be. An export, and a print when the rights
 * require access events, go ahead only after it resolved; otherwise the
 * screen shows the reason. The banners, rights and enforcement are in
 * place before the renderer starts. Resolves when the content is drawn;
 * returns a function that tears the view down. Aborting `signal` tears it
 * down as well, also while the renderer is still at work, and a renderer
 * that fails leaves no enforcement behind. A stream offers export only
 * once it is done and the `exportAfter` promise, if given, resolved.
 */
export async function drawDocumentScreen({ metadata, plaintext = null, stream = null, onEvent, onClose, signal = null, exportAfter = null }) {
  const section = document.getElementById('screen-document');
  const content = h('div', { className: 'document-content', id: 'document-content', 'aria-label': 'Document content' });
  const actions = h('div', { className: 'form-actions' }, h('button', { type: 'button', className: 'secondary', onClick: onClose }, 'Close this document'));
  const refusal = h('p', { className: 'action-refused', id: 'action-refused', role: 'alert', hidden: true });
  const showRefusal = (message) => {
    refusal.textContent = message;
    refusal.hidden = false;
  };

  replaceChildren(
    section,
    banner(metadata, 'top'),
    h('h2', { id: 'document-heading' }, metadata.fileName ? isolate(metadata.fileName) : 'Protected report'),
    actions,
    refusal,
    warnings(metadata.warnings),
    h('div', { className: 'document-meta' }, originatorPanel(metadata, stream), labelPanel(metadata), rightsPanel(metadata.rights)),
    content,
    banner(metadata, 'bottom'),
  );

  const releaseBannerSpace = reserveBannerSpace(section);
  const releasePrintLabel = setPrintLabel(metadata.label);
  // The closed document's name, id and banners leave the hidden screen too,
  // unless a later document already replaced them.
  const clearScreen = () => {
    if (section.contains(content)) section.replaceChildren();
  };
  return drawContent({ metadata, plaintext, stream, onEvent, showRefusal, content, actions, releaseBannerSpace, releasePrintLabel, clearScreen, signal, exportAfter });
}

/** Renders the plaintext into `content` under enforcement; returns the teardown function. */
async function drawContent({ metadata, plaintext, stream, onEvent, showRefusal, content, actions, releaseBannerSpace, releasePrintLabel, clearScreen, signal, exportAfter }) {
  const rights = metadata.rights;
  // The watermark names the reader and the organization, so bidi controls
  // in those names are shown as tokens there too.
  const watermark = revealBidi(metadata.watermark ?? null);
  const queueEvent = (kind, detail) => Promise.resolve(onEvent({ type: kind, detail: typeof detail === 'string' ? detail : undefined }));
  // Events of attempts and findings: the caller notes a failure to record
  // them, and nothing waits for them.
  const report = (kind, detail) => {
    queueEvent(kind, detail).catch(() => {});
  };
  // The export path below records `exported` itself before the download
  // starts, so the renderer's own report of it is dropped.
  const reportRendered = (kind, detail) => {
    if (kind !== 'exported') report(kind, detail);
  };
  let closed = false;
  let enforcement = null;
  let rendered = null;
  let saveButton = null;
  // Runs once: on close, when `signal` aborts, or when drawing fails. No
  // other screen may keep this document's print and copy controls, its
  // watermark checks or its label in the printed margins.
  const teardown = () => {
    if (closed) return;
    closed = true;
    saveButton?.remove();
    releaseBannerSpace();
    releasePrintLabel();
    rendered?.destroy?.();
    enforcement?.release?.();
    content.replaceChildren();
    clearScreen();
  };
  if (signal?.aborted) {
    teardown();
    return teardown;
  }
  signal?.addEventListener('abort', teardown, { once: true });
  let renderModule;
  let options;
  try {
    let enforceModule;
    [renderModule, enforceModule] = await Promise.all([import('../render/index.js'), import('../enforce/index.js')]);
    if (closed) return teardown;
    enforcement = enforceModule.enforce({ root: content, rights, watermark, onEvent: report, queueEvent, onRefused: showRefusal });
    options = {
      mediaType: metadata.mediaType,
      fileName: metadata.fileName,
      rights,
      watermark,
      onEvent: reportRendered,
      onExport: rights.export ? (file) => exportFile(file, { queueEvent, showRefusal, isClosed: () => closed }) : undefined,
    };
    const drawn = await renderModule.render(content, { ...options, bytes: plaintext, stream, signal });
    if (closed) {
      // Closed while the renderer worked: what it drew goes at once.
      drawn?.destroy?.();
      content.replaceChildren();
      return teardown;
    }
    rendered = drawn;
  } catch (error) {
    teardown();
    throw error;
  }
  // A displayed document gets its save button here, and one that cannot be
  // displayed gets it from the renderer's "cannot be displayed" notice.
  const offerSave = (bytes) => {
    if (closed || !rights.export || rendered?.kind === null) return;
    saveButton = saveDecryptedButton(() => options.onExport({ bytes, fileName: metadata.fileName, mediaType: metadata.mediaType }));
    actions.append(saveButton);
  };
  if (stream === null) {
    offerSave(plaintext);
  } else {
    // A stream draws no export button: the whole plaintext is there, and
    // verified, only once the stream is done. Then a displayed PDF gets the
    // save button, and the "cannot display" state is drawn again with
    // export where the rights allow it. Both wait for `exportAfter` too, so
    // no `exported` event can be queued before the `opened` one.
    Promise.all([stream.done, exportAfter]).then(
      async () => {
        if (closed) return;
        if (rendered?.kind === null) {
          rendered.destroy?.();
          const redrawn = await renderModule.render(content, { ...options, bytes: stream.bytes, signal });
          if (closed) {
            redrawn?.destroy?.();
            content.replaceChildren();
            return;
          }
          rendered = redrawn;
        } else {
          offerSave(stream.bytes);
        }
      },
      () => {},
    );
  }
  if (rendered?.kind === 'stix' || rendered?.kind === 'misp') {
    revealBidiInText(content.querySelector('.valise-render'));
  }
  return teardown;
}

/**
 * Builds the button that saves the decrypted file, for the export right.
 * `save` goes through exportFile, which queues the `exported` event first.
 */
function saveDecryptedButton(save) {
  return h('button', { type: 'button', className: 'secondary', id: 'save-decrypted', onClick: save }, 'Save decrypted file');
}

/**
 * Builds the label banner. The style sheet makes both banners sticky, so they
 * stay in view while the document scrolls, and `reserveBannerSpace` keeps
 * focused content clear of them. Printed pages carry the label in their
 * margins instead (`setPrintLabel`).
 */
function banner(metadata, position) {
  const { text, className } = tlpBanner(metadata.label);
  const marking = markingText(metadata.label?.marking);
  return h(
    'div',
    {
      className: `tlp-banner ${className}`,
      // The top banner is a landmark, so screen-reader users can jump to the label.
      role: position === 'top' ? 'region' : 'note',
      'data-position': position,
      'aria-label': `Handling label ${text}${marking ? `, originator marking ${revealBidi(marking)}` : ''}`,
    },
    h('span', { className: 'tlp-text' }, text),
    marking ? h('span', { className: 'marking' }, isolate(marking)) : null,
  );
}

/**
 * Keeps the page's scroll padding equal to the heights of the sticky
 * banners (the CSS variables --banner-top and --banner-bottom), so the
 * browser scrolls a focused element clear of them. The heights change when
 * the window narrows or the text is enlarged. Returns a function that stops
 * tracking and removes the variables.
 */
function reserveBannerSpace(section) {
  const root = document.documentElement;
  const banners = [...section.querySelectorAll(':scope > .tlp-banner')];
  const measure = () => {
    for (const node of banners) {
      root.style.setProperty(`--banner-${node.dataset.position}`, `${node.getBoundingClientRect().height}px`);
    }
  };
  const observer = new ResizeObserver(measure);
  banners.forEach((node) => observer.observe(node));
  measure();
  return () => {
    observer.disconnect();
    root.style.removeProperty('--banner-top');
    root.style.removeProperty('--banner-bottom');
  };
}

/** Text colours of the TLP 2.0 labels, as in the portal style sheet. */
const PRINT_COLORS = {
  'tlp-red': '#ff2b2b',
  'tlp-amber': '#ffc000',
  'tlp-amber-strict': '#ffc000',
  'tlp-green': '#33ff00',
  'tlp-clear': '#ffffff',
  'tlp-none': '#ffffff',
};

/**
 * Sets the label that the style sheet prints in the top and bottom margin
 * of every page. Returns a function that removes it.
 */
function setPrintLabel(label) {
  const root = document.documentElement;
  const { text, className } = tlpBanner(label);
  const marking = markingText(label?.marking);
  root.style.setProperty('--valise-print-label', cssString(marking ? `${text}   ${revealBidi(marking)}` : text));
  root.style.setProperty('--valise-print-color', PRINT_COLORS[className] ?? '#ffffff');
  return () => {
    root.style.removeProperty('--valise-print-label');
    root.style.removeProperty('--valise-print-color');
  };
}

/**
 * Quotes text as a CSS string. Quotes, backslashes and control characters
 * become hexadecimal escapes, so a marking cannot end the string.
 */
function cssString(text) {
  return `"${text.replace(/[\u0000-\u001f\u007f"\\]/g, (char) => `\\${char.codePointAt(0).toString(16)} `)}"`;
}

/** Returns the originator's marking as "SYSTEM: VALUE", or null. */
function markingText(marking) {
  return marking ? `${marking.system}: ${marking.value}` : null;
}

function warnings(list) {
  if (!list || list.length === 0) {
    return null;
  }
  return h(
    'div',
    { className: 'warnings', role: 'status' },
    h('strong', {}, 'Warnings'),
    h('ul', {}, list.map((warning) => h('li', { 'data-code': warning.code }, isolate(`${warning.message} ${warning.nextStep ?? ''}`.trim())))),
  );
}

/** Builds a definition list; each value is untrusted text, shown isolated. */
function definitionList(entries) {
  return h(
    'dl',
    {},
    entries.filter(([, value]) => value !== null && value !== undefined && value !== '').flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, isolate(value))]),
  );
}

/**
 * Builds the originator panel. While `stream` still decrypts, the content
 * line shows that the check is under way: each part is shown only after it
 * matched, but the whole document has not yet. It changes once the stream
 * is done.
 */
function originatorPanel(metadata, stream = null) {
  const originator = metadata.originator ?? {};
  const verified = metadata.verified ?? {};
  const matches = 'Content matches what the originator signed';
  let text = verified.contentDigests ? matches : 'Content checked by its encryption tags only';
  const checking = stream !== null && verified.contentDigests;
  if (checking) {
    text = 'Content being checked against what the originator signed: each part is shown only after it matched';
  }
  const contentCheck = h('span', {}, text);
  if (checking) {
    stream.done.then(
      () => {
        contentCheck.textContent = matches;
      },
      () => {},
    );
  }
  return h(
    'section',
    { 'aria-labelledby': 'originator-heading' },
    h('h3', { id: 'originator-heading' }, 'Originator and verification'),
    definitionList([
      ['Organization', originator.organizationName ?? originator.org],
      ['Author', originator.author],
      ['Community', metadata.community],
      ['Created', metadata.created ? formatTime(metadata.created) : null],
      ['Package id', metadata.packageId],
    ]),
    h(
      'ul',
      { className: 'rights verified' },
      h('li', {}, verified.originatorSignature ? 'Signed by the originator' : 'No originator signature (unlabelled package)', h('span', { className: 'control-kind' }, 'cryptographic')),
      h('li', {}, contentCheck, h('span', { className: 'control-kind' }, 'cryptographic')),
      h('li', {}, h('span', {}, 'Opened with your key ', isolate(metadata.keyId)), h('span', { className: 'control-kind' }, 'cryptographic')),
    ),
  );
}

function labelPanel(metadata) {
  const { text } = tlpBanner(metadata.label);
  return h(
    'section',
    { 'aria-labelledby': 'label-heading' },
    h('h3', { id: 'label-heading' }, 'Handling'),
    definitionList([
      ['Label', text],
      ['Originator marking', markingText(metadata.label?.marking)],
      ['Media type', metadata.mediaType],
    ]),
  );
}

function rightsPanel(rights) {
  return h(
    'section',
    { 'aria-labelledby': 'rights-heading' },
    h('h3', { id: 'rights-heading' }, 'Your rights'),
    h(
      'ul',
      { className: 'rights', id: 'rights-list' },
      rightsRows(rights).map((row) =>
        h(
          'li',
          { 'data-right': row.name, 'data-allowed': String(row.allowed) },
          h('span', { className: row.allowed ? 'right-allowed' : 'right-refused' }, `${row.text}: ${row.state ?? (row.allowed ? 'allowed' : 'not allowed')}`),
          h('span', { className: 'control-kind', title: CONTROL_KINDS[row.kind].explanation }, CONTROL_KINDS[row.kind].label),
        ),
      ),
    ),
    h('p', { className: 'hint' }, 'Cryptographic controls hold whatever software is used; honest-viewer controls hold in this viewer; deterrents can be defeated by a determined reader.'),
  );
}
