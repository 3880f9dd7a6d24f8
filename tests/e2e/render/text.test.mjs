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

test('text too large for a string is refused', async () => {
  await withPage(async ({ page }) => {
    const result = await page.evaluate(async () => {
      const { render } = await import('/src/render/index.js');
      const outcomes = [];
      for (const exportAllowed of [false, true]) {
        // 600 MiB of text: more characters than a JavaScript string holds.
        let bytes = new Uint8Array(600 * 1024 * 1024).fill(0x61);
        const handle = await render(document.getElementById('content'), { bytes, mediaType: 'text/plain', rights: { view: true, export: exportAllowed } });
        bytes = null;
        const notice = document.querySelector('.valise-cannot-display');
        outcomes.push({
          kind: handle.kind,
          text: notice?.textContent ?? '',
          exportButtons: notice?.querySelectorAll('button.valise-export').length ?? 0,
          preformatted: document.querySelectorAll('pre.valise-text').length,
        });
        handle.destroy();
      }
      return outcomes;
    });
    const [viewOnly, exportable] = result;
    for (const outcome of result) {
      assert.equal(outcome.kind, null);
      assert.equal(outcome.preformatted, 0, 'no empty text block is drawn');
      assert.match(outcome.text, /cannot be displayed/);
      assert.match(outcome.text, /too large to show as text/);
      assert.match(outcome.text, /ask the originator for a smaller file/);
    }
    assert.equal(viewOnly.exportButtons, 0);
    assert.match(viewOnly.text, /did not allow export/);
    assert.equal(exportable.exportButtons, 1, 'the export right offers the decrypted file');
  });
});

test('text limit fits in a string', async () => {
  await withPage(async ({ page }) => {
    const limit = await page.evaluate(async () => (await import('/src/render/detect.js')).MAX_TEXT_BYTES);
    assert.ok(limit > 300 * 1024 * 1024, `MAX_TEXT_BYTES is ${limit}`);
    // A string of that many ASCII characters fits, so text within the limit decodes whole.
    const length = await page.evaluate((count) => 'a'.repeat(count).length, limit);
    assert.equal(length, limit);
  });
});

test('empty document shows a note', async () => {
  await withPage(async ({ page }) => {
    for (const [mediaType, text] of [['text/plain', ''], ['text/plain', '\uFEFF'], ['text/csv', ''], ['text/markdown', ''], ['application/pdf', '']]) {
      await openDocument(page, { text, mediaType, rights: RIGHTS.everything });
      const note = page.locator('#content .valise-empty');
      assert.equal(await note.count(), 1, `${mediaType} ${JSON.stringify(text)}: one note`);
      assert.equal(await note.textContent(), 'This document is empty.', `${mediaType} ${JSON.stringify(text)}`);
      assert.equal(await page.locator('#content .valise-cannot-display').count(), 0, `${mediaType}: no failure is shown`);
    }
  });
});
