// The one module that touches the sanitizer's WebAssembly glue. The Markdown
// renderer and the HTML sanitizer (pulldown-cmark, ammonia, html5ever) are a
// module of their own, apart from the viewer module, so the portal downloads
// and compiles them only when a Markdown or HTML document is opened.
import init, * as wasm from '../pkg-sanitize/valise_sanitize.js';
import { InternalError } from './errors.js';

let ready = null;
/** Set once a call has trapped: the instance must not be called again. */
let broken = null;

/** Runs a sanitizer call; a trap makes every later call fail the same way. */
function call(operation) {
  if (broken !== null) {
    throw new InternalError('The document sanitizer stopped after an internal error. Reload the page to try again.', {
      details: broken,
    });
  }
  try {
    return operation();
  } catch (thrown) {
    broken = String(thrown?.message ?? thrown);
    throw new InternalError('The document sanitizer hit an internal error and stopped. Reload the page to try again.', {
      cause: thrown,
      details: broken,
    });
  }
}

/**
 * Loads and instantiates the sanitizer module once, and returns
 * `{ renderMarkdown(text), sanitizeHtml(html) }`, each returning inert HTML.
 */
export function loadSanitizer() {
  ready ??= (async () => {
    try {
      await init({ module_or_path: new URL('../pkg-sanitize/valise_sanitize_bg.wasm', import.meta.url) });
    } catch (error) {
      ready = null;
      throw new InternalError('The document sanitizer could not be loaded.', {
        cause: error,
        details: String(error?.message ?? error),
      });
    }
    return {
      renderMarkdown: (text) => call(() => wasm.renderMarkdown(text)),
      sanitizeHtml: (html) => call(() => wasm.sanitizeHtml(html)),
    };
  })();
  return ready;
}
