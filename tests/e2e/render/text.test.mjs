// Plain text renders in a <pre> as text, never as markup.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, openDocument, withPage } from './support.mjs';

test('plain text shows as text', async () => {
  await withPage(async ({ page, observed }) => {
    const text = 'Line one\n<b onmouseover="window.__pwned = true">not bold</b>\n\u202Egnp.exe';
    const result = await openDocument(page, { text, mediaType: 'text/plain', rights: RIGHTS.everything });
    assert.equal(result.kind, 'text');
    assert.equal(await page.locator('pre.valise-text').textContent(), text);
    assert.equal(await page.locator('#content b').count(), 0, 'markup in the text must not become elements');
    assert.deepEqual(observed.errors, []);
  });
});

test('text that is not UTF-8 is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { render } = await import('/src/render/index.js');
      const handle = await render(document.getElementById('content'), { bytes: new Uint8Array([0x66, 0xff, 0xfe, 0x00]), mediaType: 'text/plain', rights: { view: true } });
      return { kind: handle.kind, text: document.querySelector('.valise-cannot-display')?.textContent ?? '' };
    });
    assert.equal(result.kind, null);
    assert.match(result.text, /cannot be displayed/);
    assert.match(result.text, /not valid UTF-8/);
  });
});
