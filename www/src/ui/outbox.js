// The outbox view: which access events wait to be sent, to which collector,
// and the last delivery error. It sits in the activity panel, next to every
// screen, and its "Send now" button retries delivery at once.
import { h, replaceChildren } from './dom.js';

/** How often the view rereads the outbox, in milliseconds; delivery also runs on its own timers. */
const REFRESH_MS = 2000;

/**
 * Adds the outbox view to the activity panel and keeps it current.
 * `reporter` is the portal's EventReporter. Returns `{ refresh() }`.
 */
export function mountOutboxView({ reporter }) {
  const summary = h('p', { id: 'outbox-summary', role: 'status' }, 'Reading the outbox…');
  const list = h('ul', { id: 'outbox-list', className: 'activity-list', 'aria-label': 'Waiting events by collector' });
  const lastError = h('p', { id: 'outbox-error', className: 'hint', hidden: true });
  const send = h('button', { type: 'button', className: 'secondary', id: 'outbox-send', onClick: () => sendNow() }, 'Send now');
  const section = h(
    'section',
    { id: 'outbox', className: 'outbox', 'aria-labelledby': 'outbox-heading' },
    h('h3', { id: 'outbox-heading' }, 'Outbox'),
    h('p', { className: 'hint' }, 'Signed access events for the originators of the packages you opened. They are kept in this browser until their collector confirms them.'),
    summary,
    list,
    lastError,
    h('div', { className: 'form-actions' }, send),
  );
  document.getElementById('activity').append(section);

  let drawing = null;
  const refresh = () => {
    drawing ??= draw().finally(() => {
      drawing = null;
    });
    return drawing;
  };

  async function draw() {
    const status = await reporter.status();
    section.dataset.waiting = String(status.total);
    send.disabled = !status.available || status.total === 0;
    if (!status.available) {
      summary.textContent = `Access events cannot be queued in this browser: ${status.error}. Packages whose rights require access events will not open.`;
      replaceChildren(list);
      lastError.hidden = true;
      return;
    }
    summary.textContent = status.total === 0 ? 'No access events waiting.' : `${status.total} access ${status.total === 1 ? 'event' : 'events'} waiting to be sent.`;
    replaceChildren(
      list,
      Object.entries(status.byUrl).map(([url, count]) => h('li', { 'data-url': url }, `${count} to ${url}`)),
    );
    lastError.hidden = !status.lastError;
    lastError.textContent = status.lastError ? `Last delivery error${status.lastAttempt ? ` (${new Date(status.lastAttempt).toLocaleTimeString()})` : ''}: ${status.lastError}` : '';
  }

  async function sendNow() {
    send.disabled = true;
    summary.textContent = 'Sending…';
    await reporter.flush().catch(() => {});
    await refresh();
  }

  reporter.onChange(() => {
    refresh().catch(() => {});
  });
  setInterval(() => {
    if (document.visibilityState === 'visible') {
      refresh().catch(() => {});
    }
  }, REFRESH_MS);
  refresh().catch(() => {});
  return { refresh };
}
