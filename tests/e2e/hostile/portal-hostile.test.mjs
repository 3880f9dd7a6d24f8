// Hostile documents sealed into packages and opened through the real portal
// run no script, load nothing and do not print.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOCUMENTS } from '../render/support.mjs';
import { sealFor, withPortal } from '../render/portal-support.mjs';
import { armPayload, dompurifyPayloads, markdownItCases } from './support.mjs';

async function assertQuiet(page, observed, label) {
  await page.waitForTimeout(1500);
  assert.equal(await page.evaluate(() => window.__pwned ?? false), false, `${label}: a script set the flag`);
  assert.deepEqual(observed.dialogs, [], `${label}: a dialog opened`);
  assert.deepEqual(observed.foreignRequests, [], `${label}: a request left the portal`);
  assert.equal(await page.evaluate(() => window.__printCalls), 0, `${label}: window.print ran`);
  assert.equal(await page.evaluate(() => window.__beforePrint), 0, `${label}: a print started`);
  assert.equal(await page.locator('#activity-list li[data-type="printed"]').count(), 0, `${label}: a print was recorded`);
  assert.equal(await page.locator('#activity-list li[data-type="print_blocked"]').count(), 0, `${label}: a print was attempted`);
}

test('portal hostile html and markdown packages', async () => {
  await withPortal('alice', async ({ page, dir, open, observed }) => {
    const html = join(dir, 'hostile.html');
    writeFileSync(html, dompurifyPayloads().map(({ payload }) => `<div>${armPayload(payload)}</div>`).join('\n'));
    const markdown = join(dir, 'hostile.md');
    writeFileSync(markdown, markdownItCases().map(armPayload).join('\n\n'));
    for (const [document, mediaType, name] of [[html, 'text/html', 'hostile-html'], [markdown, 'text/markdown', 'hostile-markdown']]) {
      const path = sealFor(dir, 'alice', { document, mediaType, name });
      assert.equal(await open(path), 'document', name);
      await page.locator('#document-content iframe.valise-frame').waitFor();
      await assertQuiet(page, observed, name);
    }
  });
});

test('portal hostile pdf packages', async () => {
  await withPortal('alice', async ({ page, dir, open, observed }) => {
    for (const file of ['hostile/pdf/payload8.pdf', 'hostile/pdfjs/autoprint.pdf', 'hostile/pdfjs/evaljs.pdf', 'hostile/pdfjs/js-buttons.pdf']) {
      const name = file.split('/').pop().replace('.pdf', '');
      const path = sealFor(dir, 'alice', { document: join(DOCUMENTS, file), mediaType: 'application/pdf', name });
      assert.equal(await open(path), 'document', name);
      await page.locator('#document-content .valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
      await assertQuiet(page, observed, name);
    }
  });
});
