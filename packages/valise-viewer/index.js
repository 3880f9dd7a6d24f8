// The package's entry: registers <valise-viewer> and exports its class.
export { TAG_NAME, ValiseViewerElement } from './src/embed/define.js';
