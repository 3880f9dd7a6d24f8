// The document renderers. `render` picks one from the package's media type,
// checks the content agrees, and draws the verified plaintext into a
// container. Each renderer is its own module, loaded only when needed.
import { detect } from './detect.js';
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
 * Renders verified plaintext into `container`.
 *
 * Options: `bytes` (Uint8Array), `mediaType`, `fileName`, `rights`
 * (`{ view, print, copy, forward, export, watermark }`), `watermark` (string
 * or null), `onEvent(kind, detail)` for enforcement events, `onExport({ bytes,
 * fileName, mediaType })` called when the reader exports a document the viewer
 * cannot display, and `sanitizer` (`{ renderMarkdown, sanitizeHtml }`, by
 * default the WebAssembly module's).
 *
 * Returns a handle whose `destroy()` stops pending work and empties the
 * container.
 */
export async function render(container, options) {
  const { bytes, mediaType } = options;
  if (!(bytes instanceof Uint8Array)) {
    throw new TypeError('render: bytes must be a Uint8Array');
  }
  const rights = options.rights ?? { view: true };
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

  const detected = detect(bytes, mediaType);
  if (detected.kind === null) {
    cannotDisplay(body, { ...options, rights, reason: detected.reason });
    return { kind: null, reason: detected.reason, destroy: removeBody };
  }

  const module = await RENDERERS[detected.kind]();
  let handle;
  try {
    handle = await module.render(body, { ...options, rights, ...detected });
  } catch (error) {
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
