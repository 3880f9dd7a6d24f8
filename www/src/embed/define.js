// Registers <valise-viewer>. Import this module once; importing it again,
// or in a page that already defines the element, changes nothing.
import { ValiseViewerElement } from './viewer-element.js';

export const TAG_NAME = 'valise-viewer';

if (!customElements.get(TAG_NAME)) {
  customElements.define(TAG_NAME, ValiseViewerElement);
}

export { ValiseViewerElement };
