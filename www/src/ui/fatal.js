// The error state: a visible panel for internal errors (a Rust panic, a
// module that did not load, an unexpected exception), with the details, so
// the page is never left blank.
import { h, replaceChildren } from './dom.js';

/** Shows an internal error with its details at the top of the page. */
export function showFatal(error) {
  const panel = document.getElementById('fatal');
  const details = error?.details ?? error?.stack ?? String(error);
  replaceChildren(
    panel,
    h('h2', {}, 'Something went wrong'),
    h('p', {}, error?.message ?? String(error)),
    h('details', {}, h('summary', {}, 'Technical details'), h('pre', { className: 'fatal-details' }, details)),
    h('p', {}, 'Reload the page to start again. If this keeps happening, send the details above to your community operator.'),
    h('button', { type: 'button', onClick: () => location.reload() }, 'Reload the page'),
  );
  panel.hidden = false;
  document.getElementById('loading').hidden = true;
  panel.focus?.();
}

/** Routes uncaught errors and rejections to the error panel. */
export function installGlobalErrorHandlers() {
  window.addEventListener('error', (event) => showFatal(event.error ?? new Error(event.message)));
  window.addEventListener('unhandledrejection', (event) => showFatal(event.reason));
}
