// Images draw on a canvas, never as an <img>; the magic number must match the
// declared type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, withPage } from './support.mjs';

/** Renders an image made in the page (a red square encoded as `type`). */
function renderImage(page, { encodeAs, declare }) {
  return page.evaluate(async ({ encodeAs, declare }) => {
    const canvas = new OffscreenCanvas(40, 30);
    const context = canvas.getContext('2d');
    context.fillStyle = '#d00';
    context.fillRect(0, 0, 40, 30);
    const bytes = new Uint8Array(await (await canvas.convertToBlob({ type: encodeAs })).arrayBuffer());
    const { render } = await import('/src/render/index.js');
    const handle = await render(document.getElementById('content'), { bytes, mediaType: declare, rights: { view: true }, fileName: 'square' });
    const drawn = document.querySelector('canvas.valise-image');
    const pixel = drawn ? [...drawn.getContext('2d').getImageData(20, 15, 1, 1).data] : null;
    return { kind: handle.kind, reason: handle.reason ?? null, images: document.querySelectorAll('#content img').length, size: drawn ? [drawn.width, drawn.height] : null, pixel };
  }, { encodeAs, declare });
}

test('png draws on a canvas', async () => {
  await withPage(async ({ page }) => {
    const result = await renderImage(page, { encodeAs: 'image/png', declare: 'image/png' });
    assert.equal(result.kind, 'image');
    assert.equal(result.images, 0);
    assert.deepEqual(result.size, [40, 30]);
    assert.deepEqual(result.pixel, [221, 0, 0, 255]);
  });
});

test('jpeg and webp draw on a canvas', async () => {
  await withPage(async ({ page }) => {
    for (const type of ['image/jpeg', 'image/webp']) {
      const result = await renderImage(page, { encodeAs: type, declare: type });
      assert.equal(result.kind, 'image', type);
      assert.deepEqual(result.size, [40, 30], type);
    }
  });
});

test('png declared as jpeg is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await renderImage(page, { encodeAs: 'image/png', declare: 'image/jpeg' });
    assert.equal(result.kind, null);
    assert.match(result.reason, /JPEG image, but the content is a PNG image/);
  });
});
