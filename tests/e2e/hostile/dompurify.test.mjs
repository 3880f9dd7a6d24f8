// The DOMPurify payloads, inside HTML and Markdown documents, run no script
// and load nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, armPayload, assertFrameInert, assertNothingRan, dompurifyPayloads, openDocument, settle, withPage } from './support.mjs';

const payloads = dompurifyPayloads();

test('dompurify payloads are all read', () => {
  assert.ok(payloads.length >= 200, `expected the DOMPurify payload list, found ${payloads.length}`);
});

for (const [mediaType, kind] of [['text/html', 'html'], ['text/markdown', 'markdown']]) {
  test(`dompurify payloads inert as ${kind}`, async () => {
    await withPage(async ({ page, observed }) => {
      const text = payloads.map(({ payload }) => `<div>${armPayload(payload)}</div>`).join('\n\n');
      const result = await openDocument(page, { text, mediaType, rights: RIGHTS.everything });
      assert.equal(result.kind, kind);
      await settle(page);
      await assertNothingRan(page, observed, kind);
      await assertFrameInert(page, kind);
    });
  });
}

test('dompurify payloads inert one by one', async () => {
  await withPage(async ({ page, observed }) => {
    for (const { title, payload } of payloads) {
      await openDocument(page, { text: armPayload(payload), mediaType: 'text/html', rights: RIGHTS.everything });
      await assertFrameInert(page, title);
    }
    await settle(page);
    await assertNothingRan(page, observed, 'one by one');
  });
});
