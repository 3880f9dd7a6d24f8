// PDFs that carry JavaScript, print on open or exploit pdf.js before 4.2.67
// (CVE-2024-4367, payload8.pdf) run no script and do not print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, assertNothingRan, openDocument, settle, withPage } from './support.mjs';

const FILES = [
  'hostile/pdf/payload8.pdf',
  'hostile/pdfjs/autoprint.pdf',
  'hostile/pdfjs/evaljs.pdf',
  'hostile/pdfjs/js-buttons.pdf',
  'hostile/pdf/payload1.pdf',
  'hostile/pdf/payload2.pdf',
  'hostile/pdf/payload3.pdf',
];

test('pdf.js is a version without CVE-2024-4367', async () => {
  await withPage(async ({ page }) => {
    const version = await page.evaluate(async () => (await import('/vendor/pdfjs/pdf.min.mjs')).version);
    const [major, minor, patch] = version.split('.').map(Number);
    assert.ok(major > 4 || (major === 4 && (minor > 2 || (minor === 2 && patch >= 67))), `pdf.js ${version} is older than 4.2.67`);
  });
});

for (const file of FILES) {
  test(`${file.split('/').pop()} runs no script and does not print`, async () => {
    await withPage(async ({ page, observed }) => {
      // Print and copy allowed: the most permissive rights, so nothing is hidden by them.
      const result = await openDocument(page, { url: `/documents/${file}`, mediaType: 'application/pdf', rights: RIGHTS.everything });
      assert.equal(result.kind, 'pdf', `${file}: ${result.reason}`);
      await page.locator('.valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
      // Click where form buttons and links usually sit; the page is a canvas, so nothing acts.
      const box = await page.locator('.valise-pdf-page[data-page-number="1"]').boundingBox();
      for (const [x, y] of [[0.2, 0.1], [0.5, 0.2], [0.5, 0.5], [0.3, 0.8]]) {
        await page.mouse.click(box.x + box.width * x, box.y + box.height * y);
      }
      await settle(page);
      await assertNothingRan(page, observed, file);
      assert.deepEqual(observed.errors, [], `${file}: page errors`);
      assert.equal(await page.locator('#content a:not([href^="http"])').count(), 0, `${file}: a link other than http or https`);
    });
  });
}
