// A MISP event as tables: the event's summary and tags, its attributes, and
// each object with its own attributes, every attribute with its tags.
import { element } from './dom.js';

/** Attributes drawn across the event and its objects. */
export const MAX_ATTRIBUTES = 5000;

const THREAT_LEVELS = { 1: 'High', 2: 'Medium', 3: 'Low', 4: 'Undefined' };
const ANALYSIS = { 0: 'Initial', 1: 'Ongoing', 2: 'Completed' };

function tagNames(item) {
  const tags = Array.isArray(item?.Tag) ? item.Tag : [];
  return tags.map((tag) => String(tag?.name ?? '')).filter(Boolean);
}

function tagList(item) {
  const names = tagNames(item);
  if (names.length === 0) return '';
  return element('ul', { className: 'valise-tags' }, names.map((name) => element('li', { className: 'valise-tag' }, name)));
}

function formatTimestamp(seconds) {
  const value = Number(seconds);
  return Number.isFinite(value) && value > 0 ? new Date(value * 1000).toISOString() : '';
}

/**
 * Builds the attribute table, drawing at most `budget.remaining` rows and
 * lowering it by the rows drawn.
 */
function attributeTable(attributes, caption, budget, { withRelation = false } = {}) {
  const headings = ['Category', 'Type', ...(withRelation ? ['Relation'] : []), 'Value', 'IDS', 'Comment', 'Tags'];
  const shown = attributes.slice(0, Math.max(budget.remaining, 0));
  budget.remaining -= shown.length;
  budget.skipped += attributes.length - shown.length;
  const rows = shown.map((attribute) =>
    element(
      'tr',
      {},
      element('td', {}, String(attribute.category ?? '')),
      element('td', {}, String(attribute.type ?? '')),
      withRelation ? element('td', {}, String(attribute.object_relation ?? '')) : null,
      element('td', { className: 'valise-misp-value' }, String(attribute.value ?? '')),
      element('td', {}, attribute.to_ids === true || attribute.to_ids === '1' ? 'yes' : 'no'),
      element('td', {}, String(attribute.comment ?? '')),
      element('td', {}, tagList(attribute)),
    ),
  );
  return element(
    'table',
    { className: 'valise-table valise-misp-attributes' },
    element('caption', {}, caption),
    element('thead', {}, element('tr', {}, headings.map((heading) => element('th', { scope: 'col' }, heading)))),
    element('tbody', {}, rows),
  );
}

/** Draws the event; `json` is the event object itself. */
export function render(container, { json: event }) {
  const attributes = Array.isArray(event.Attribute) ? event.Attribute : [];
  const objects = Array.isArray(event.Object) ? event.Object : [];
  const budget = { remaining: MAX_ATTRIBUTES, skipped: 0 };

  const summary = element('dl', { className: 'valise-misp-summary' });
  const facts = [
    ['Organisation', event.Orgc?.name ?? event.Org?.name],
    ['Date', event.date],
    ['Threat level', THREAT_LEVELS[event.threat_level_id] ?? event.threat_level_id],
    ['Analysis', ANALYSIS[event.analysis] ?? event.analysis],
    ['Published', event.published === undefined ? undefined : (event.published ? 'yes' : 'no')],
    ['Last change', formatTimestamp(event.timestamp)],
    ['Event id', event.uuid],
  ];
  for (const [term, value] of facts) {
    if (value === undefined || value === null || value === '') continue;
    summary.append(element('dt', {}, term), element('dd', {}, String(value)));
  }

  const report = element(
    'article',
    { className: 'valise-misp' },
    element('h2', {}, String(event.info ?? 'MISP event')),
    summary,
    element('h3', {}, 'Event tags'),
    tagNames(event).length > 0 ? tagList(event) : element('p', {}, 'No tags.'),
  );

  report.append(element('h3', {}, `Attributes (${attributes.length})`));
  report.append(attributes.length > 0 ? attributeTable(attributes, 'Attributes of the event', budget) : element('p', {}, 'No attributes outside objects.'));

  report.append(element('h3', {}, `Objects (${objects.length})`));
  for (const object of objects) {
    const objectAttributes = Array.isArray(object.Attribute) ? object.Attribute : [];
    const section = element(
      'section',
      { className: 'valise-misp-object', 'data-misp-object': String(object.name ?? '') },
      element('h4', {}, `${object.name ?? 'object'}${object['meta-category'] ? ` (${object['meta-category']})` : ''}`),
      object.description ? element('p', {}, String(object.description)) : null,
      object.comment ? element('p', {}, `Comment: ${object.comment}`) : null,
      tagList(object),
      attributeTable(objectAttributes, `Attributes of the ${object.name ?? ''} object`, budget, { withRelation: true }),
    );
    report.append(section);
  }

  if (budget.skipped > 0) {
    report.prepend(element('p', { className: 'valise-notice', role: 'status' }, `Showing the first ${MAX_ATTRIBUTES} attributes; ${budget.skipped} more are not shown.`));
  }
  container.replaceChildren(report);
  return { destroy() {} };
}
