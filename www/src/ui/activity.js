// The activity panel: every decision and enforcement event of this session,
// newest first. When a package's rights name a collector, the same events
// are also signed and queued in the outbox (www/src/events/reporter.js), and
// the entry then shows whether queueing succeeded.
import { isolate } from '../bidi.js';
import { h } from './dom.js';

const SHORT_TYPE = /^org\.valise\.access\./;

/**
 * Records an event `{ type, packageId?, name?, detail? }`. `type` is a
 * CloudEvents type such as `org.valise.access.print_blocked`, or its last
 * part. `name` (a file name from a package, the file picker or a host page)
 * and `detail` are untrusted text, so each is shown in its own bidi isolate
 * with its invisible characters revealed. Returns the list item, so
 * `noteDelivery` can add what became of its access event.
 */
export function recordActivity(event) {
  const list = document.getElementById('activity-list');
  const empty = document.querySelector('.activity-empty');
  if (empty) {
    empty.hidden = true;
  }
  const type = String(event.type ?? 'unknown').replace(SHORT_TYPE, '');
  const at = new Date();
  const item = h(
    'li',
    { 'data-type': type },
    h('time', { dateTime: at.toISOString() }, at.toLocaleTimeString()),
    describe(type),
    event.name ? [': ', isolate(event.name)] : '',
    event.detail ? [': ', isolate(event.detail)] : '',
  );
  list.prepend(item);
  document.dispatchEvent(new CustomEvent('valise-activity', { detail: { ...event, type, at: at.toISOString() } }));
  return item;
}

/**
 * Adds to an activity entry what became of its access event: `queued`
 * (signed and in the outbox) or `failed` with the reason.
 */
export function noteDelivery(item, { queued, reason = null }) {
  item.dataset.delivery = queued ? 'queued' : 'failed';
  item.append(h('span', { className: 'activity-delivery' }, queued ? ' (access event queued for the originator)' : [' (not reported to the originator: ', isolate(reason), ')']));
}

const DESCRIPTIONS = {
  opened: 'Package opened',
  denied: 'Access refused',
  not_downloaded: 'Package not downloaded',
  print_blocked: 'Printing blocked',
  printed: 'Printed with watermark',
  copy_blocked: 'Copying blocked',
  exported: 'Exported',
  forwarded: 'Forwarded',
  watermark_removed: 'Watermark removal detected and restored',
  expired: 'Access period ended',
  action_refused: 'Not done, because its access event could not be queued',
};

function describe(type) {
  return DESCRIPTIONS[type] ?? type.replaceAll('_', ' ');
}
