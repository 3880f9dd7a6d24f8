// Plain text, shown as it is in a <pre>.
import { element } from './dom.js';

/** Draws UTF-8 text in a preformatted block. */
export function render(container, { text }) {
  container.replaceChildren(element('pre', { className: 'valise-text' }, text));
  return { destroy() {} };
}
