// Print allowed: every printed page carries the watermark, and printing is
// reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RIGHTS, WATERMARK, events, openDocument, withPage } from './support.mjs';

test('print allowed shows the watermark in print media', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/misp/existing_event.json', mediaType: 'application/vnd.misp+json', rights: RIGHTS.printOnly, watermark: WATERMARK });
    const overlay = () => page.evaluate(() => {
      const node = document.querySelector('.valise-watermark-print');
      const style = getComputedStyle(node);
      return { display: style.display, position: style.position, visibility: style.visibility, image: decodeURIComponent(style.backgroundImage), colorAdjust: style.printColorAdjust };
    });

    assert.equal((await overlay()).display, 'none', 'the print overlay stays hidden on screen');
    await page.emulateMedia({ media: 'print' });
    const print = await overlay();
    assert.equal(print.display, 'block');
    assert.equal(print.position, 'fixed', 'a fixed overlay repeats on every printed page');
    assert.equal(print.visibility, 'visible');
    assert.equal(print.colorAdjust, 'exact', 'the background prints even with background graphics off');
    assert.ok(print.image.includes('Alice Analyst'), 'the overlay carries the reader name');
    assert.ok(print.image.includes('package 6f1c0b9e'), 'the overlay carries the package id');

    const content = await page.evaluate(() => getComputedStyle(document.getElementById('content')).display);
    assert.notEqual(content, 'none', 'the content prints');
  });
});

test('print allowed reports printed and keeps window.print', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { text: 'printable', mediaType: 'text/plain', rights: RIGHTS.printOnly, watermark: WATERMARK });
    await page.evaluate(() => {
      window.print();
      window.dispatchEvent(new Event('beforeprint'));
    });
    assert.equal(await page.evaluate(() => window.__printCalls), 1);
    assert.deepEqual((await events(page)).map((event) => event.kind), ['printed']);
  });
});

test('a printed PDF page carries the watermark', async () => {
  await withPage(async ({ page }) => {
    await openDocument(page, { url: '/documents/reports/TA14-353A_wiper.pdf', mediaType: 'application/pdf', rights: RIGHTS.printOnly, watermark: WATERMARK });
    await page.locator('.valise-pdf-page[data-rendered="true"]').first().waitFor();
    const pdf = await page.pdf({ format: 'A4' });
    assert.ok(pdf.byteLength > 1000, 'Chromium printed the page to PDF');
    await page.emulateMedia({ media: 'print' });
    const display = await page.evaluate(() => getComputedStyle(document.querySelector('.valise-watermark-print')).display);
    assert.equal(display, 'block');
  });
});
