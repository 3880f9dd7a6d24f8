// A STIX 2.1 bundle as a readable report: objects grouped by type, indicators
// with their patterns, relationships as "source → type → target" with names,
// and the markings (object and granular) on every object.
import { element } from './dom.js';

/** Objects drawn; a larger bundle shows a notice and the first ones. */
export const MAX_OBJECTS = 5000;

/**
 * The TLP marking definitions that STIX 2.1 predefines (TLP 1.0, section 7.2.1.4 of
 * the STIX 2.1 specification) and those of the OASIS TLP 2.0 extension, by id, so a
 * bundle that references them without including them still shows the TLP.
 */
export const WELL_KNOWN_TLP = new Map([
  ['marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9', 'TLP:WHITE'],
  ['marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da', 'TLP:GREEN'],
  ['marking-definition--f88d31f6-486f-44da-b317-01333bde0b82', 'TLP:AMBER'],
  ['marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed', 'TLP:RED'],
  ['marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487', 'TLP:CLEAR'],
  ['marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb', 'TLP:GREEN'],
  ['marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421', 'TLP:AMBER'],
  ['marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003', 'TLP:AMBER+STRICT'],
  ['marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1', 'TLP:RED'],
]);

/** Id of the OASIS TLP 2.0 property extension. */
const TLP_2_EXTENSION = 'extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d';

/** Types shown first, in this order; others follow alphabetically. */
const TYPE_ORDER = ['report', 'grouping', 'note', 'threat-actor', 'intrusion-set', 'campaign', 'malware', 'tool', 'attack-pattern', 'vulnerability', 'indicator', 'observed-data', 'sighting', 'course-of-action', 'identity', 'location'];

/** Properties shown for every object when present, with their headings. */
const FIELDS = [
  ['description', 'Description'],
  ['pattern', 'Pattern'],
  ['pattern_type', 'Pattern type'],
  ['valid_from', 'Valid from'],
  ['valid_until', 'Valid until'],
  ['indicator_types', 'Indicator types'],
  ['malware_types', 'Malware types'],
  ['tool_types', 'Tool types'],
  ['threat_actor_types', 'Threat actor types'],
  ['report_types', 'Report types'],
  ['aliases', 'Aliases'],
  ['roles', 'Roles'],
  ['goals', 'Goals'],
  ['sophistication', 'Sophistication'],
  ['resource_level', 'Resource level'],
  ['primary_motivation', 'Primary motivation'],
  ['identity_class', 'Identity class'],
  ['sectors', 'Sectors'],
  ['contact_information', 'Contact'],
  ['published', 'Published'],
  ['first_seen', 'First seen'],
  ['last_seen', 'Last seen'],
  ['is_family', 'Family'],
  ['value', 'Value'],
  ['labels', 'Labels'],
  ['created', 'Created'],
  ['modified', 'Modified'],
];

/** Returns a display name for a marking definition, or null when unknown. */
export function markingName(definition, id) {
  if (definition) {
    const tlp2 = definition.extensions?.[TLP_2_EXTENSION]?.tlp_2_0;
    if (typeof tlp2 === 'string') return `TLP:${tlp2.toUpperCase()}`;
    if (definition.definition_type === 'tlp' && typeof definition.definition?.tlp === 'string') {
      return `TLP:${definition.definition.tlp.toUpperCase()}`;
    }
    if (definition.definition_type === 'statement' && typeof definition.definition?.statement === 'string') {
      return `Statement: ${definition.definition.statement}`;
    }
    if (typeof definition.name === 'string') return definition.name;
  }
  return WELL_KNOWN_TLP.get(id) ?? null;
}

function text(value) {
  if (Array.isArray(value)) return value.map(text).join(', ');
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function typeHeading(type) {
  const words = type.replace(/^x-/, '').split('-').join(' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Draws the bundle as a report. */
export function render(container, { json }) {
  const all = json.objects.filter((object) => object && typeof object.type === 'string');
  const objects = all.slice(0, MAX_OBJECTS);
  const byId = new Map(objects.map((object) => [object.id, object]));
  const nameOf = (id) => {
    const object = byId.get(id);
    const name = object?.name ?? (object ? markingName(object, id) : null) ?? WELL_KNOWN_TLP.get(id);
    return name ? `${name}` : String(id);
  };
  const markingOf = (id) => markingName(byId.get(id), id) ?? `${id} (definition not in the bundle)`;

  const groups = new Map();
  for (const object of objects) {
    if (!groups.has(object.type)) groups.set(object.type, []);
    groups.get(object.type).push(object);
  }
  const order = [...groups.keys()].sort((a, b) => {
    const rank = (type) => {
      if (type === 'relationship') return 1000;
      if (type === 'marking-definition') return 1001;
      const index = TYPE_ORDER.indexOf(type);
      return index === -1 ? 500 : index;
    };
    return rank(a) - rank(b) || a.localeCompare(b);
  });

  const report = element(
    'article',
    { className: 'valise-stix' },
    element('h2', {}, 'STIX 2.1 bundle'),
    element('p', {}, `${all.length} objects in ${groups.size} types. Bundle ${json.id ?? 'without id'}.`),
  );
  if (all.length > objects.length) {
    report.append(element('p', { className: 'valise-notice', role: 'status' }, `Showing the first ${objects.length} of ${all.length} objects.`));
  }

  for (const type of order) {
    const members = groups.get(type);
    const section = element('section', { className: 'valise-stix-type', 'data-stix-type': type }, element('h3', {}, `${typeHeading(type)} (${members.length})`));
    if (type === 'relationship') {
      section.append(relationshipTable(members, nameOf, markingOf));
    } else {
      for (const object of members) {
        section.append(objectCard(object, nameOf, markingOf));
      }
    }
    report.append(section);
  }
  container.replaceChildren(report);
  return { destroy() {} };
}

function markingsList(object, markingOf) {
  const items = [];
  for (const ref of Array.isArray(object.object_marking_refs) ? object.object_marking_refs : []) {
    items.push(element('li', { 'data-marking': ref }, `${markingOf(ref)} (whole object)`));
  }
  for (const granular of Array.isArray(object.granular_markings) ? object.granular_markings : []) {
    const label = granular.marking_ref ? markingOf(granular.marking_ref) : `language ${granular.lang}`;
    const selectors = Array.isArray(granular.selectors) ? granular.selectors.join(', ') : '';
    items.push(element('li', { 'data-marking': granular.marking_ref ?? granular.lang }, `${label} on ${selectors}`));
  }
  if (items.length === 0) return null;
  return element('div', { className: 'valise-stix-markings' }, element('span', {}, 'Markings: '), element('ul', {}, items));
}

function objectCard(object, nameOf, markingOf) {
  const title = object.type === 'marking-definition' ? markingOf(object.id) : (object.name ?? object.value ?? object.id);
  const card = element('div', { className: 'valise-stix-object', 'data-stix-id': object.id }, element('h4', {}, text(title)));
  const list = element('dl', {});
  for (const [key, heading] of FIELDS) {
    if (object[key] === undefined || object[key] === null) continue;
    const value = key === 'pattern' ? element('code', { className: 'valise-stix-pattern' }, text(object[key])) : text(object[key]);
    list.append(element('dt', {}, heading), element('dd', {}, value));
  }
  if (object.created_by_ref) {
    list.append(element('dt', {}, 'Created by'), element('dd', {}, nameOf(object.created_by_ref)));
  }
  if (Array.isArray(object.object_refs)) {
    list.append(element('dt', {}, 'Refers to'), element('dd', {}, element('ul', {}, object.object_refs.map((ref) => element('li', {}, nameOf(ref))))));
  }
  if (Array.isArray(object.kill_chain_phases)) {
    list.append(element('dt', {}, 'Kill chain phases'), element('dd', {}, object.kill_chain_phases.map((phase) => `${phase.kill_chain_name}: ${phase.phase_name}`).join(', ')));
  }
  if (Array.isArray(object.external_references)) {
    const references = object.external_references.map((reference) => [reference.source_name, reference.external_id, reference.url].filter(Boolean).join(' '));
    list.append(element('dt', {}, 'References'), element('dd', {}, element('ul', {}, references.map((reference) => element('li', {}, reference)))));
  }
  list.append(element('dt', {}, 'Id'), element('dd', {}, object.id));
  card.append(list, markingsList(object, markingOf));
  return card;
}

function relationshipTable(relationships, nameOf, markingOf) {
  const rows = relationships.map((relationship) =>
    element(
      'tr',
      { 'data-stix-id': relationship.id },
      element('td', { className: 'valise-stix-relationship' }, `${nameOf(relationship.source_ref)} → ${relationship.relationship_type} → ${nameOf(relationship.target_ref)}`),
      element('td', {}, relationship.description ?? ''),
      element('td', {}, markingsList(relationship, markingOf)),
    ),
  );
  return element(
    'table',
    { className: 'valise-table' },
    element('thead', {}, element('tr', {}, element('th', { scope: 'col' }, 'Relationship'), element('th', { scope: 'col' }, 'Description'), element('th', { scope: 'col' }, 'Markings'))),
    element('tbody', {}, rows),
  );
}
