// Markdown and HTML documents. The WebAssembly sanitizer turns them into
// inert HTML: http, https and mailto links only, no images, no styles, no
// scripts. The result is shown in an iframe sandboxed without scripts or
// same-origin access, behind a Content-Security-Policy that forbids every
// fetch but the frame's style sheet. A sanitizer bypass therefore still runs
// nothing and loads nothing.
import { element } from './dom.js';

/** The frame's style sheet, the one resource its policy lets it load. */
export const FRAME_STYLESHEET = new URL('./frame.css', import.meta.url).href;

/**
 * Policy placed in the framed document: nothing may be fetched but the
 * frame's style sheet. The frame also inherits the portal's own policy, which
 * forbids inline styles, so the typography comes from that file.
 */
export const FRAME_POLICY = `default-src 'none'; style-src ${FRAME_STYLESHEET}`;

/**
 * Sandbox tokens of the frame. No `allow-scripts` and no `allow-same-origin`:
 * the framed document is an opaque origin that runs no script. Popups are
 * allowed, without the sandbox, so http and https links open in a new tab.
 */
export const FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

let defaultSanitizer = null;

/**
 * Loads the WebAssembly sanitizer, a module of its own that the portal
 * fetches only when a Markdown or HTML document is opened.
 */
async function loadDefaultSanitizer() {
  defaultSanitizer ??= import('../sanitizer.js').then((module) => module.loadSanitizer());
  return defaultSanitizer;
}

/** Escapes text for a double-quoted attribute value or element content. */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * Builds the framed document around sanitized HTML: the policy first, so it
 * applies before any of the content is parsed.
 */
export function frameDocument(sanitizedHtml, { copy, title }) {
  return [
    `<!doctype html><html${copy ? '' : ' class="valise-no-copy"'}><head><meta charset="utf-8">`,
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(FRAME_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<link rel="stylesheet" href="${escapeHtml(FRAME_STYLESHEET)}">`,
    '</head><body>',
    sanitizedHtml,
    '</body></html>',
  ].join('');
}

/** Sanitizes the Markdown or HTML text and shows it in the sandboxed frame. */
export async function render(container, { kind, text, fileName, rights, sanitizer }) {
  const tools = sanitizer ?? (await loadDefaultSanitizer());
  const sanitized = kind === 'markdown' ? tools.renderMarkdown(text) : tools.sanitizeHtml(text);
  const title = fileName ?? (kind === 'markdown' ? 'Markdown document' : 'HTML document');

  const frame = element('iframe', {
    className: 'valise-frame',
    sandbox: FRAME_SANDBOX,
    referrerpolicy: 'no-referrer',
    title,
  });
  // The one place content reaches an HTML parser: sanitized, in a sandbox
  // without scripts, under a policy that forbids every fetch.
  frame.srcdoc = frameDocument(sanitized, { copy: Boolean(rights?.copy), title });
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  container.replaceChildren(frame);
  // A frame outside the document never loads; only a connected one is awaited.
  if (frame.isConnected) await loaded;
  return { destroy() {} };
}
