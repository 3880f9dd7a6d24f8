// Images decoded by the browser and drawn on a canvas, so the page never
// holds an <img> whose source could be saved or dragged out.
import { revealBidi } from '../bidi.js';
import { element } from './dom.js';

/** Largest image drawn, in pixels (width times height). */
export const MAX_IMAGE_PIXELS = 100_000_000;

/** Decodes the image with createImageBitmap and draws it on a canvas. */
export async function render(container, { bytes, mediaType, fileName }) {
  const bitmap = await createImageBitmap(new Blob([bytes], { type: mediaType }));
  try {
    if (bitmap.width * bitmap.height > MAX_IMAGE_PIXELS) {
      throw new Error(`the image is ${bitmap.width} by ${bitmap.height} pixels, more than the ${MAX_IMAGE_PIXELS} pixels the viewer draws`);
    }
    const canvas = element('canvas', {
      className: 'valise-image',
      width: bitmap.width,
      height: bitmap.height,
      role: 'img',
      'aria-label': fileName ? `Image ${revealBidi(fileName)}` : 'Image',
    });
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    container.replaceChildren(canvas);
  } finally {
    bitmap.close();
  }
  return { destroy() {} };
}
