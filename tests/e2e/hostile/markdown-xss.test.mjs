// The markdown-it XSS cases, inside Markdown and HTML documents, run no
// script and load nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, armPayload, assertFrameInert, assertNothingRan, markdownItCases, openDocument, settle, withPage } from './support.mjs';

const cases = markdownItCases();

test('markdown-it cases are all read', () => {
  assert.ok(cases.length >= 12, `expected the markdown-it XSS cases, found ${cases.length}`);
  assert.ok(cases.some((input) => input.includes('javascript:alert(1)')));
});

for (const [mediaType, kind] of [['text/markdown', 'markdown'], ['text/html', 'html']]) {
  test(`markdown-it cases inert as ${kind}`, async () => {
    await withPage(async ({ page, observed }) => {
      const text = cases.map(armPayload).join('\n\n');
      const result = await openDocument(page, { text, mediaType, rights: RIGHTS.everything });
      assert.equal(result.kind, kind);
      await settle(page);
      await assertNothingRan(page, observed, kind);
      await assertFrameInert(page, kind);
    });
  });
}

test('markdown-it links cannot be followed to script', async () => {
  await withPage(async ({ page, observed }) => {
    await openDocument(page, { text: cases.map(armPayload).join('\n\n'), mediaType: 'text/markdown', rights: RIGHTS.everything });
    const frame = page.frames().find((candidate) => candidate !== page.mainFrame());
    const anchors = frame.locator('a');
    const count = await anchors.count();
    for (let index = 0; index < count; index += 1) {
      // Links open in a new tab: block the navigation itself so no request leaves.
      await page.context().route('**/*', (route) => (route.request().url().startsWith('http://127.0.0.1') ? route.continue() : route.abort()));
      await anchors.nth(index).click({ modifiers: [] }).catch(() => {});
    }
    await settle(page, 500);
    assert.equal(await page.evaluate(() => window.__pwned), false);
    assert.deepEqual(observed.dialogs, []);
  });
});
