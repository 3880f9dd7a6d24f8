// A small helper to build DOM nodes without innerHTML: every text goes in
// through textContent, so nothing a package or a key file contains is ever
// parsed as markup.

/**
 * Creates an element. `props` sets properties (`className`, `hidden`, ...),
 * attributes for keys containing "-" or starting with "aria"/"data", and
 * listeners for keys starting with "on". Children are nodes or strings.
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) {
      continue;
    }
    if (key.startsWith('on') && typeof value === 'function') {
      element.addEventListener(key.slice(2).toLowerCase(), value);
    } else if (key.includes('-') || key === 'role' || key === 'for') {
      element.setAttribute(key, value === true ? '' : String(value));
    } else {
      element[key] = value;
    }
  }
  append(element, children);
  return element;
}

function append(parent, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children of an element. */
export function replaceChildren(element, ...children) {
  element.replaceChildren();
  append(element, children);
}
