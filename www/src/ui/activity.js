// The activity panel: every decision and enforcement event of this session,
// newest first. Access events are also meant for the originator's event
// sink; until that delivery exists the panel is where they go.
import { h } from './dom.js';

const SHORT_TYPE = /^org\.valise\.access\./;

/**
 * Records an event `{ type, packageId?, detail? }`. `type` is a CloudEvents
 * type such as `org.valise.access.print_blocked`, or its last part.
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
    event.detail ? `: ${event.detail}` : '',
  );
  list.prepend(item);
  document.dispatchEvent(new CustomEvent('valise-activity', { detail: { ...event, type, at: at.toISOString() } }));
}

const DESCRIPTIONS = {
  opened: 'Package opened',
  denied: 'Access refused',
  print_blocked: 'Printing blocked',
  printed: 'Printed with watermark',
  copy_blocked: 'Copying blocked',
  exported: 'Exported',
  forwarded: 'Forwarded',
  watermark_removed: 'Watermark removal detected and restored',
  expired: 'Access period ended',
};

function describe(type) {
  return DESCRIPTIONS[type] ?? type.replaceAll('_', ' ');
}
