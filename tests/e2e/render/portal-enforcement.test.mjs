// Print, copy and watermark enforcement on sealed demo packages opened
// through the real portal with a demo identity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { withPortal } from './portal-support.mjs';

/** Returns the event types the portal's activity panel recorded. */
const activity = (page) => page.locator('#activity-list li').evaluateAll((nodes) => nodes.map((node) => node.dataset.type));

test('portal print refused hides the advisory', async () => {
  await withPortal('alice', async ({ page, dir, open }) => {
    assert.equal(await open(join(dir, 'packages', 'advisory.tdf')), 'document');
    await page.locator('#document-content iframe.valise-frame').waitFor();
    await page.keyboard.press('Control+p');
    await page.emulateMedia({ media: 'print' });
    const state = await page.evaluate(() => ({
      content: document.getElementById('document-content').checkVisibility(),
      notice: document.querySelector('.valise-print-notice')?.checkVisibility() ?? false,
    }));
    assert.equal(state.content, false, 'the document must not show in print media');
    assert.equal(state.notice, true, 'the print notice shows in print media');
    assert.ok((await activity(page)).includes('print_blocked'), 'the blocked print is recorded');
  });
});

test('portal copy refused on the wiper alert', async () => {
  await withPortal('alice', async ({ page, dir, open }) => {
    assert.equal(await open(join(dir, 'packages', 'wiper-alert.tdf')), 'document');
    await page.locator('#document-content .valise-pdf-page[data-page-number="1"][data-rendered="true"]').waitFor();
    assert.equal(await page.locator('#document-content .valise-pdf-text').count(), 0, 'no text layer without the copy right');
    const clipboard = await page.evaluate(() => {
      const data = new DataTransfer();
      const event = new ClipboardEvent('copy', { clipboardData: data, bubbles: true, cancelable: true });
      document.querySelector('#document-content canvas').dispatchEvent(event);
      return data.getData('text/plain');
    });
    assert.equal(clipboard, '');
    assert.ok((await activity(page)).includes('copy_blocked'), 'the blocked copy is recorded');
  });
});

test('portal watermark on the wiper alert', async () => {
  await withPortal('alice', async ({ page, dir, open }) => {
    assert.equal(await open(join(dir, 'packages', 'wiper-alert.tdf')), 'document');
    const image = await page.evaluate(() => decodeURIComponent(getComputedStyle(document.querySelector('#document-content > .valise-watermark')).backgroundImage));
    assert.match(image, /Alice Adler/, 'the watermark names the reader');

    await page.evaluate(() => document.querySelector('#document-content > .valise-watermark').remove());
    await page.waitForFunction(() => document.querySelector('#document-content > .valise-watermark') !== null);
    await page.waitForFunction(() => document.querySelector('#activity-list li[data-type="watermark_removed"]') !== null);

    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.evaluate(() => getComputedStyle(document.querySelector('.valise-watermark-print')).display), 'block', 'printed pages carry the watermark');
  });
});
