// Markdown and HTML documents. The WebAssembly sanitizer turns them into
// inert HTML (http, https and mailto links only, no images, no styles, no
// scripts), and the result is shown in an iframe sandboxed without scripts or
// same-origin access, behind a Content-Security-Policy that forbids every
// fetch. A sanitizer bypass therefore still runs nothing and loads nothing.
import { element } from './dom.js';

/**
 * Policy placed in the framed document. Inline styles are allowed so the
 * document can carry the viewer's own typography; nothing can be fetched.
 */
export const FRAME_POLICY = "default-src 'none'; style-src 'unsafe-inline'";

/**
 * Sandbox tokens of the frame. No `allow-scripts` and no `allow-same-origin`:
 * the framed document is an opaque origin that runs no script. Popups are
 * allowed, without the sandbox, so http and https links open in a new tab.
 */
export const FRAME_SANDBOX = 'allow-popups allow-popups-to-escape-sandbox';

/** Typography of the framed document; `user-select` is added when copy is refused. */
const FRAME_STYLE = `
  html { color-scheme: light; }
  body { font: 16px/1.5 system-ui, sans-serif; margin: 1rem 1.5rem; max-width: 72ch; color: #1a1a1a; }
  pre, code { font-family: ui-monospace, monospace; font-size: 0.92em; }
  pre { overflow-x: auto; background: #f4f4f4; padding: 0.75rem; }
  table { border-collapse: collapse; }
  th, td { border: 1px solid #bbb; padding: 0.25rem 0.5rem; text-align: left; }
  blockquote { border-left: 4px solid #ccc; margin-left: 0; padding-left: 1rem; }
`;
const NO_SELECT_STYLE = 'html, body { -webkit-user-select: none; user-select: none; }';

let defaultSanitizer = null;

/**
 * Loads the WebAssembly sanitizer through the portal's core module, which
 * owns the WebAssembly glue.
 */
async function loadDefaultSanitizer() {
  defaultSanitizer ??= (async () => {
    const core = await import('../core.js');
    await core.loadCore();
    return { renderMarkdown: core.renderMarkdown, sanitizeHtml: core.sanitizeHtml };
  })();
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
  const style = FRAME_STYLE + (copy ? '' : NO_SELECT_STYLE);
  return [
    '<!doctype html><html><head><meta charset="utf-8">',
    `<meta http-equiv="Content-Security-Policy" content="${escapeHtml(FRAME_POLICY)}">`,
    '<meta name="referrer" content="no-referrer">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${style}</style>`,
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
  container.replaceChildren(frame);
  return { destroy() {} };
}
