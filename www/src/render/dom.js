// DOM helpers for the renderers. Every string goes in through textContent or
// an attribute value, so nothing a document contains is parsed as markup.

/**
 * Creates an element with attributes and children. Children are nodes or
 * strings; strings become text nodes. `null`, `undefined` and `false` are
 * skipped.
 */
export function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === 'className') {
      node.className = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  appendChildren(node, children);
  return node;
}

/** Appends nodes or strings (as text) to a parent, skipping empty values. */
export function appendChildren(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/**
 * Builds a table from column headings and rows of cell values (strings or
 * nodes), with an optional caption.
 */
export function table(headings, rows, caption = null) {
  return element(
    'table',
    { className: 'valise-table' },
    caption ? element('caption', {}, caption) : null,
    element('thead', {}, element('tr', {}, headings.map((heading) => element('th', { scope: 'col' }, heading)))),
    element('tbody', {}, rows.map((row) => element('tr', {}, row.map((cell) => element('td', {}, cell ?? ''))))),
  );
}

/**
 * Shows the "cannot be displayed" state with its reason, and an export button
 * when the rights allow export.
 */
export function cannotDisplay(container, { reason, bytes, fileName, mediaType, rights, onEvent, onExport }) {
  const notice = element(
    'div',
    { className: 'valise-cannot-display', role: 'status' },
    element('p', { className: 'valise-cannot-display-title' }, 'This document cannot be displayed.'),
    element('p', { className: 'valise-cannot-display-reason' }, reason),
  );
  if (rights?.export) {
    const button = element('button', { type: 'button', className: 'valise-export' }, 'Save decrypted file');
    button.addEventListener('click', () => {
      onEvent?.('exported', { fileName: fileName ?? null, mediaType, size: bytes.byteLength });
      onExport?.({ bytes, fileName, mediaType });
    });
    notice.append(button);
  } else {
    notice.append(element('p', {}, 'The originator did not allow export, so the file stays inside the viewer.'));
  }
  container.replaceChildren(notice);
}
