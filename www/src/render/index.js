// The document renderers. `render` picks one from the package's media type,
// checks the content agrees, and draws the verified plaintext into a
// container. Each renderer is its own module, loaded only when needed.
import { detect, kindForMediaType } from './detect.js';
import { cannotDisplay, element } from './dom.js';
import { adoptRenderStyles } from './styles.js';

const RENDERERS = {
  pdf: () => import('./pdf.js'),
  image: () => import('./image.js'),
  markdown: () => import('./html.js'),
  html: () => import('./html.js'),
  text: () => import('./text.js'),
  csv: () => import('./csv.js'),
  stix: () => import('./stix.js'),
  misp: () => import('./misp.js'),
};

/**
 * Plaintext bytes the media type check reads from a stream: a PDF header
 * may sit anywhere in the first 1024 bytes (`isPdf` in detect.js).
 */
const STREAM_PREFIX_BYTES = 4096;

/** Resolves to the verified first bytes of `stream`, once their segments arrived. */
async function streamedPrefix(stream) {
  const end = Math.min(stream.size, STREAM_PREFIX_BYTES);
  await stream.whenRange(0, end);
  return stream.bytes.subarray(0, end);
}

/**
 * Shows that the document has no content, so an empty file does not draw a
 * blank page that reads like a failure.
 */
function showEmpty(body) {
  body.replaceChildren(element('p', { className: 'valise-notice valise-empty', role: 'status' }, 'This document is empty.'));
}

/**
 * Renders verified plaintext into `container`.
 *
 * Options: `bytes` (Uint8Array), `mediaType`, `fileName`, `rights`
 * (`{ view, print, copy, forward, export, watermark }`), `stream` (a
 * StreamedPlaintext of www/src/worker/stream.js, in place of `bytes`, for
 * a PDF that renders while it decrypts; export is then off), `watermark` (string
 * or null), `onEvent(kind, detail)` for enforcement events, `onExport({ bytes,
 * fileName, mediaType })` called when the reader exports a document the viewer
 * cannot display, and `sanitizer` (`{ renderMarkdown, sanitizeHtml }`, by
 * default the WebAssembly module's).
 *
 * Returns a handle whose `destroy()` stops pending work and empties the
 * container.
 */
export async function render(container, options) {
  const { mediaType, stream = null } = options;
  const bytes = stream === null ? options.bytes : null;
  if (stream === null && !(bytes instanceof Uint8Array)) {
    throw new TypeError('render: bytes must be a Uint8Array');
  }
  // Export needs the whole verified plaintext, which a stream has only once
  // it is done, so no export button is drawn from a stream.
  const rights = stream === null ? (options.rights ?? { view: true }) : { ...(options.rights ?? { view: true }), export: false };
  adoptRenderStyles();

  // The renderers draw into their own element, so what else the container
  // contains (the watermark overlay in particular) stays in place.
  for (const previous of container.querySelectorAll(':scope > .valise-render')) previous.remove();
  const body = element('div', { className: 'valise-render' });
  container.append(body);
  const removeBody = () => body.remove();

  if (rights.view === false) {
    const reason = 'The rights of this package do not allow viewing it.';
    cannotDisplay(body, { ...options, rights: { ...rights, export: false }, reason });
    return { kind: null, reason, destroy: removeBody };
  }

  if (stream === null && bytes.length === 0) {
    showEmpty(body);
    return { kind: kindForMediaType(mediaType), destroy: removeBody };
  }

  // While pdf.js loads and draws page one, segments it has not requested
  // decrypt one at a time, which leaves it more of the CPU. The PDF renderer
  // lifts the cap once a page is drawn, and each early return below lifts it.
  stream?.limitBackground(1);
  const fullSpeed = () => stream?.limitBackground(Infinity);
  const detected = detect(stream === null ? bytes : await streamedPrefix(stream), mediaType);
  if (stream !== null && detected.kind !== null && detected.kind !== 'pdf') {
    fullSpeed();
    throw new TypeError(`render: only PDFs render from a stream, not ${detected.kind}`);
  }
  if (detected.kind === null) {
    fullSpeed();
    cannotDisplay(body, { ...options, rights, reason: detected.reason });
    return { kind: null, reason: detected.reason, destroy: removeBody };
  }
  // A text of only a byte order mark is empty too.
  if (detected.text === '') {
    showEmpty(body);
    return { kind: detected.kind, destroy: removeBody };
  }

  const module = await RENDERERS[detected.kind]();
  let handle;
  try {
    handle = await module.render(body, { ...options, bytes, rights, ...detected });
  } catch (error) {
    fullSpeed();
    const reason = `The ${detected.kind.toUpperCase()} renderer failed: ${error?.message ?? error}`;
    cannotDisplay(body, { ...options, rights, reason });
    return { kind: null, reason, destroy: removeBody };
  }
  return {
    kind: detected.kind,
    destroy() {
      handle?.destroy?.();
      removeBody();
    },
  };
}
