// Importing "@valise/viewer/define" registers <valise-viewer>.
export { TAG_NAME, ValiseViewerElement } from './index.js';
